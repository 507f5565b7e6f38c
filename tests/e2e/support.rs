//! Support for the end-to-end tests (see `main.rs`).
