//! purse-api (in progress)
