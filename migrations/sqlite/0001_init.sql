-- purse schema, SQLite dialect. Kept in lockstep with migrations/postgres/0001_init.sql.
--
-- Amounts (credits, rates, signed deltas) are TEXT holding the canonical decimal string of
-- rust_decimal (`12.5`, `-3`): SQLite has no exact decimal type and sqlx refuses Decimal on it.
-- No SQL here does arithmetic on them; sums are made in Rust.
-- Instants are BIGINT microseconds since the Unix epoch, UTC (the same on both engines,
-- see docs/architecture.md "Storage").
-- Ids are the full prefixed strings of ledger-core (`wal_…`, `res_…`).
-- Balances are written by the core through the unit of work; no SQL here computes one.
-- The CHECK constraints only refuse states the core never writes (defence in depth); on TEXT
-- amounts they check the sign character.

CREATE TABLE organization (
    organization_id  TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    external_id      TEXT UNIQUE,
    default_currency TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE team (
    team_id         TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    name            TEXT NOT NULL
);
CREATE INDEX team_organization_idx ON team (organization_id);

-- `team_ids` and `team_owner_of` are JSON arrays of team ids, in the order given.
CREATE TABLE app_user (
    user_id         TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    email           TEXT NOT NULL,
    name            TEXT,
    external_id     TEXT,
    role            TEXT NOT NULL,
    team_ids        TEXT NOT NULL,
    team_owner_of   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    CONSTRAINT app_user_email_key UNIQUE (organization_id, email),
    CONSTRAINT app_user_external_id_key UNIQUE (organization_id, external_id)
);
CREATE INDEX app_user_external_id_idx ON app_user (external_id);

CREATE TABLE api_token (
    token_id        TEXT PRIMARY KEY,
    organization_id TEXT,
    user_id         TEXT,
    role            TEXT NOT NULL,
    name            TEXT NOT NULL,
    hash            TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

-- `cascade_order` is a JSON array of owner types.
CREATE TABLE wallet_settings (
    organization_id                 TEXT PRIMARY KEY,
    cascade_order                   TEXT NOT NULL,
    low_balance_threshold           TEXT NOT NULL,
    cost_ticket_ttl_seconds         BIGINT NOT NULL,
    default_reservation_ttl_seconds BIGINT NOT NULL
);

-- `fee_types` and `rules` are JSON (the core's serde form). `has_interval_rule` is derived from
-- `rules` on every write so that the sweeper's query needs no JSON.
CREATE TABLE wallet (
    wallet_id         TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL,
    owner_type        TEXT NOT NULL CHECK (owner_type IN ('user', 'team', 'organization')),
    owner_id          TEXT NOT NULL,
    name              TEXT,
    status            TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'TERMINATED')),
    currency          TEXT NOT NULL,
    rate_amount       TEXT NOT NULL CHECK (substr(rate_amount, 1, 1) <> '-' AND rate_amount <> '0'),
    paid              TEXT NOT NULL CHECK (substr(paid, 1, 1) <> '-'),
    granted           TEXT NOT NULL CHECK (substr(granted, 1, 1) <> '-'),
    held              TEXT NOT NULL CHECK (substr(held, 1, 1) <> '-'),
    debt              TEXT NOT NULL CHECK (substr(debt, 1, 1) <> '-'),
    total_spent       TEXT NOT NULL CHECK (substr(total_spent, 1, 1) <> '-'),
    total_allocated   TEXT NOT NULL CHECK (substr(total_allocated, 1, 1) <> '-'),
    expiration_at     BIGINT,
    activates_at      BIGINT,
    priority          INTEGER NOT NULL,
    fee_types         TEXT NOT NULL,
    rules             TEXT NOT NULL,
    has_interval_rule BOOLEAN NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX wallet_owner_idx ON wallet (organization_id, owner_id);
CREATE INDEX wallet_created_idx ON wallet (created_at, wallet_id);
CREATE INDEX wallet_pending_idx ON wallet (activates_at) WHERE status = 'PENDING';
CREATE INDEX wallet_expiring_idx ON wallet (expiration_at) WHERE status <> 'TERMINATED';

CREATE TABLE reservation (
    reservation_id       TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL,
    wallet_id            TEXT NOT NULL REFERENCES wallet (wallet_id),
    wallet_owner_type    TEXT NOT NULL,
    wallet_owner_id      TEXT NOT NULL,
    user_id              TEXT,
    team_id              TEXT,
    amount               TEXT NOT NULL CHECK (substr(amount, 1, 1) <> '-' AND amount <> '0'),
    fee_type             TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('held', 'settled', 'released', 'expired')),
    expires_at           BIGINT NOT NULL,
    settled_amount       TEXT,
    requested_amount     TEXT,
    uncollected_amount   TEXT,
    released_amount      TEXT,
    end_reason           TEXT,
    wallet_balance_after TEXT,
    metadata             TEXT,
    created_at           BIGINT NOT NULL,
    ended_at             BIGINT
);
CREATE INDEX reservation_held_wallet_idx ON reservation (wallet_id) WHERE status = 'held';
CREATE INDEX reservation_held_expiry_idx ON reservation (expires_at) WHERE status = 'held';

CREATE TABLE cost_ticket (
    cost_ticket_id          TEXT PRIMARY KEY,
    organization_id         TEXT NOT NULL,
    user_id                 TEXT,
    team_id                 TEXT,
    currency                TEXT NOT NULL,
    required_amount         TEXT NOT NULL,
    best_available_amount   TEXT NOT NULL,
    shortfall_amount        TEXT NOT NULL,
    fee_type                TEXT NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'expired', 'canceled')),
    reservation_id          TEXT,
    reservation_ttl_seconds BIGINT,
    metadata                TEXT,
    created_at              BIGINT NOT NULL,
    resolved_at             BIGINT,
    expires_at              BIGINT NOT NULL
);
CREATE INDEX cost_ticket_org_created_idx ON cost_ticket (organization_id, created_at DESC, cost_ticket_id DESC);
CREATE INDEX cost_ticket_open_expiry_idx ON cost_ticket (expires_at) WHERE status = 'open';

-- The double-entry journal: append-only.
CREATE TABLE journal_transaction (
    transaction_id  TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    kind            TEXT NOT NULL,
    reference_type  TEXT NOT NULL,
    reference_id    TEXT NOT NULL,
    principal       TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE journal_posting (
    transaction_id TEXT NOT NULL REFERENCES journal_transaction (transaction_id),
    position       INTEGER NOT NULL,
    account_code   TEXT NOT NULL,
    amount         TEXT NOT NULL,
    PRIMARY KEY (transaction_id, position)
);
CREATE INDEX journal_posting_account_idx ON journal_posting (account_code);

-- The per-wallet view of each transaction (the wallet's history). `wallet_line_id` orders the
-- lines of one wallet by commit order: its wallet row lock serializes them.
CREATE TABLE wallet_line (
    wallet_line_id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL REFERENCES journal_transaction (transaction_id),
    wallet_id      TEXT NOT NULL REFERENCES wallet (wallet_id),
    kind           TEXT NOT NULL,
    paid_delta     TEXT NOT NULL,
    granted_delta  TEXT NOT NULL,
    held_delta     TEXT NOT NULL,
    debt_delta     TEXT NOT NULL,
    balance_after  TEXT NOT NULL,
    held_after     TEXT NOT NULL,
    reference_type TEXT NOT NULL,
    reference_id   TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX wallet_line_wallet_idx ON wallet_line (wallet_id, wallet_line_id DESC);

-- Idempotency keys, scoped per organization (or `platform`). A NULL response is a claim in
-- flight. Kept at least 24 hours; the app deletes older ones through `purge`.
CREATE TABLE idempotency_key (
    scope           TEXT NOT NULL,
    request_key     TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    PRIMARY KEY (scope, request_key)
);
CREATE INDEX idempotency_key_created_idx ON idempotency_key (created_at);
