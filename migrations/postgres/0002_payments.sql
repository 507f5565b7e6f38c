-- Payment storage, PostgreSQL dialect. Kept in lockstep with migrations/sqlite/0002_payments.sql.
--
-- Same conventions as 0001: money is NUMERIC, instants are BIGINT microseconds since the Unix
-- epoch (UTC), ids and owners are the full prefixed strings of ledger-core, list-like fields
-- are JSON text (the core's serde form).
-- The ids that lists order by use the "C" collation, so they sort byte-wise (as the core's
-- `Ord` and SQLite do) whatever the database's default collation is.

-- One checkout at a provider for one wallet top-up. `applied_refund_ids` is a JSON array of
-- provider refund/reversal ids. No foreign key to `wallet`: a session is written in the unit
-- that reads its wallet, and the memory store (the reference) does not require one either.
CREATE TABLE payment_session (
    payment_session_id    TEXT COLLATE "C" PRIMARY KEY,
    organization_id       TEXT NOT NULL,
    user_id               TEXT,
    provider              TEXT NOT NULL,
    surface               TEXT NOT NULL,
    target_owner_type     TEXT NOT NULL CHECK (target_owner_type IN ('user', 'team', 'organization')),
    target_owner_id       TEXT NOT NULL,
    wallet_id             TEXT NOT NULL,
    amount                NUMERIC NOT NULL,
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('created', 'capturing', 'captured',
                              'confirming', 'confirmed', 'completed', 'canceled', 'failed',
                              'refunded', 'expired')),
    checkout_state        TEXT NOT NULL,
    provider_order_id     TEXT,
    provider_capture_id   TEXT,
    approval_url          TEXT,
    return_url            TEXT,
    cancel_url            TEXT,
    save_payment_method   BOOLEAN NOT NULL,
    payment_method_id     TEXT,
    credited_amount       NUMERIC CHECK (credited_amount >= 0),
    wallet_balance_after  NUMERIC CHECK (wallet_balance_after >= 0),
    wallet_transaction_id TEXT,
    refunded_amount       NUMERIC NOT NULL,
    refunded_credits      NUMERIC NOT NULL CHECK (refunded_credits >= 0),
    applied_refund_ids    TEXT NOT NULL,
    provider_refund_id    TEXT,
    error_code            TEXT,
    error_message         TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL
);
-- Webhooks and the reconciler find a session by its provider order.
CREATE INDEX payment_session_order_idx ON payment_session (provider, provider_order_id);
-- Lists: one organization's sessions, newest first.
CREATE INDEX payment_session_org_created_idx
    ON payment_session (organization_id, created_at DESC, payment_session_id DESC);
-- Due work: `created` sessions past `expires_at`; sessions stuck mid-capture since a cut-off.
CREATE INDEX payment_session_status_expiry_idx ON payment_session (status, expires_at);
CREATE INDEX payment_session_status_updated_idx ON payment_session (status, updated_at);

-- Provider events already applied: each (provider, event id) is applied at most once. Written
-- in the unit that applies the event, so a rolled-back unit forgets it. `recorded_at` is for
-- operators only (the core never reads it), hence the database clock.
CREATE TABLE provider_event (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
        DEFAULT (floor(extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT),
    PRIMARY KEY (provider, event_id)
);

-- Payment methods saved at a provider for merchant-initiated charges.
CREATE TABLE payment_method (
    payment_method_id    TEXT COLLATE "C" PRIMARY KEY,
    organization_id      TEXT NOT NULL,
    provider             TEXT NOT NULL,
    owner_type           TEXT NOT NULL CHECK (owner_type IN ('user', 'team', 'organization')),
    owner_id             TEXT NOT NULL,
    provider_token       TEXT NOT NULL,
    provider_customer_id TEXT,
    label                TEXT NOT NULL,
    created_at           BIGINT NOT NULL
);
CREATE INDEX payment_method_org_created_idx
    ON payment_method (organization_id, created_at, payment_method_id);

-- Settings documents (JSON text) by key: `payments_config`, `payment_settings:{org}`.
CREATE TABLE setting_document (
    setting_key TEXT PRIMARY KEY,
    document    TEXT NOT NULL
);
