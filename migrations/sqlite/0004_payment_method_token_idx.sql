-- Saved payment methods by provider token, SQLite dialect. Kept in lockstep with
-- migrations/postgres/0004_payment_method_token_idx.sql.
--
-- A provider's revocation webhook (PayPal `VAULT.PAYMENT-TOKEN.DELETED`) names the token, not
-- the organization, so `payment_methods_by_token` looks methods up by
-- `provider = ? AND provider_token = ?` across every organization; without an index that
-- lookup reads the whole table. Not unique: one token may be saved more than once (by two
-- checkouts, or by two organizations), and every copy is revoked.
CREATE INDEX payment_method_provider_token_idx
    ON payment_method (provider, provider_token);
