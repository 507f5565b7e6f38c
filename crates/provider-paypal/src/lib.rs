//! provider-paypal (in progress)
