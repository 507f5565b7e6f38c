//! provider-revolut (in progress)
