use time::OffsetDateTime;

/// The source of "now". The core never reads the wall clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The source of the random part of new ids. The core never generates randomness.
pub trait IdSource: Send + Sync + std::fmt::Debug {
    /// A fresh suffix: unique across processes, ASCII letters and digits only, at most 64
    /// characters.
    fn next_suffix(&self) -> String;
}
