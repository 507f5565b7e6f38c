//! Integration tests of store-sqlx on SQLite and PostgreSQL.
