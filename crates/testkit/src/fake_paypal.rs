//! fake_paypal (in progress)
