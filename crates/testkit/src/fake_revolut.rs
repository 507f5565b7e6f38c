//! fake_revolut (in progress)
