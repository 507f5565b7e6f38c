//! contract (in progress)
