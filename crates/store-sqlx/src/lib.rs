//! store-sqlx (in progress)
