-- One provider order pays one payment session, PostgreSQL dialect. Kept in lockstep with
-- migrations/sqlite/0003_payment_session_order_unique.sql.
--
-- A merchant-initiated charge at Revolut stores its order id before the order is paid (there
-- is no idempotency for creating Revolut orders), and webhooks and the reconciler find the
-- session by that id. Two sessions naming one order would credit one payment twice, so the
-- pair is unique wherever the order is known. The partial unique index replaces the plain
-- index of 0002: it serves the same `provider = ? AND provider_order_id = ?` lookups.
-- A database that already holds two sessions of one order fails here, loudly, on purpose.
DROP INDEX payment_session_order_idx;
CREATE UNIQUE INDEX payment_session_order_key
    ON payment_session (provider, provider_order_id)
    WHERE provider_order_id IS NOT NULL;
