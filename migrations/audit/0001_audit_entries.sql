-- audit-service: the tamper-evident trail of every event of every service, the compensation
-- marks laid over it, and the outbox and inbox. Every table lives in the service's schema.

-- ---------------------------------------------------------------------------------------
-- The trail
-- ---------------------------------------------------------------------------------------

-- One row per event, recorded once (event_id is unique). Each row carries the SHA-256 of its
-- own content (content_hash, over the canonical JSON defined in audit-service/src/chain.rs)
-- and of the chain so far: chain_hash = SHA-256(previous row's chain_hash || content_hash),
-- 32 zero bytes before the first row. Sequences are taken under the chain-head lock, so they
-- rise in chain order; a rolled-back batch may leave a gap, which the chain does not mind.
CREATE TABLE audit_entries (
    sequence          BIGSERIAL   PRIMARY KEY,
    event_id          UUID        NOT NULL UNIQUE,
    event_type        TEXT        NOT NULL,
    aggregate_type    TEXT        NOT NULL,
    aggregate_id      TEXT        NOT NULL,
    aggregate_version BIGINT      NOT NULL,
    actor             TEXT,                 -- metadata.userId
    service           TEXT        NOT NULL, -- metadata.source
    correlation_id    TEXT        NOT NULL,
    causation_id      TEXT,
    occurred_at       TIMESTAMPTZ NOT NULL, -- metadata.timestamp
    recorded_at       TIMESTAMPTZ NOT NULL,
    payload           JSONB       NOT NULL, -- eventData
    content_hash      BYTEA       NOT NULL CHECK (length(content_hash) = 32),
    chain_hash        BYTEA       NOT NULL CHECK (length(chain_hash) = 32)
);
CREATE INDEX audit_entries_trail ON audit_entries (aggregate_id, occurred_at, sequence);
CREATE INDEX audit_entries_correlation ON audit_entries (correlation_id, sequence);
CREATE INDEX audit_entries_causation ON audit_entries (causation_id) WHERE causation_id IS NOT NULL;
CREATE INDEX audit_entries_event_type ON audit_entries (event_type, sequence);
CREATE INDEX audit_entries_actor ON audit_entries (actor, sequence) WHERE actor IS NOT NULL;
CREATE INDEX audit_entries_occurred_at ON audit_entries (occurred_at);

-- The end of the chain, one row, locked FOR UPDATE by every writer: two instances never
-- append at once, so the chain cannot fork. It also lets verification notice a deleted tail
-- (the walk must end at last_sequence with this chain_hash, after `entries` rows).
CREATE TABLE audit_chain_head (
    singleton     BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    last_sequence BIGINT      NOT NULL DEFAULT 0,
    chain_hash    BYTEA       NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
    entries       BIGINT      NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO audit_chain_head DEFAULT VALUES;

-- ---------------------------------------------------------------------------------------
-- Compensation: marks laid over entries, never a rewrite of them
-- ---------------------------------------------------------------------------------------

-- One row per COMPLAINT_COMPENSATION_REQUIRED recorded: what it asks to compensate.
CREATE TABLE compensation_requests (
    event_id       UUID        PRIMARY KEY,  -- the COMPLAINT_COMPENSATION_REQUIRED event
    aggregate_id   TEXT        NOT NULL,     -- the complaint
    agent_id       TEXT        NOT NULL,     -- whose assignment is compensated
    reason         TEXT        NOT NULL,
    failed_step    TEXT        NOT NULL,
    correlation_id TEXT        NOT NULL,
    requested_at   TIMESTAMPTZ NOT NULL,     -- the event's timestamp
    -- AUDIT_COMPENSATION events published for it so far (the version of the next one - 1).
    announcements  INTEGER     NOT NULL DEFAULT 0
);
CREATE INDEX compensation_requests_aggregate ON compensation_requests (aggregate_id);

-- One row per (entry, compensation): the entry belongs to a step that was compensated.
CREATE TABLE audit_compensations (
    entry_event_id        UUID        NOT NULL,
    entry_sequence        BIGINT      NOT NULL,
    compensating_event_id UUID        NOT NULL REFERENCES compensation_requests (event_id),
    reason                TEXT        NOT NULL,
    failed_step           TEXT        NOT NULL,
    compensated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_event_id, compensating_event_id)
);
CREATE INDEX audit_compensations_by_compensation ON audit_compensations (compensating_event_id);

-- Entries and marks are facts: the service never changes or removes them, and neither may
-- anyone else without first disabling this trigger, which the hash chain then exposes.
CREATE FUNCTION audit_rows_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_rows_are_append_only();
CREATE TRIGGER audit_compensations_append_only
    BEFORE UPDATE OR DELETE ON audit_compensations
    FOR EACH ROW EXECUTE FUNCTION audit_rows_are_append_only();

-- ---------------------------------------------------------------------------------------
-- The transactional outbox (shared::outbox) and the inbox (shared::inbox), as specified.
-- ---------------------------------------------------------------------------------------
CREATE TABLE outbox (
    position     BIGSERIAL PRIMARY KEY,
    event_id     UUID NOT NULL UNIQUE,
    envelope     JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
CREATE TABLE processed_events (          -- the inbox: one row per (consumer, event) handled
    consumer     TEXT NOT NULL,
    event_id     UUID NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
