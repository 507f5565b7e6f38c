//! pg (in progress)
