//! Concurrency proofs (to come).
