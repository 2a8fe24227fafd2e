-- complaint-service: the write side (an append-only event store, idempotency keys, the
-- outbox and inbox) and the read side (views rebuilt from the events, with a checkpoint).
-- Every table lives in the service's schema (the pool's search_path).

-- ---------------------------------------------------------------------------------------
-- Write side
-- ---------------------------------------------------------------------------------------

-- One row per event; a complaint's stream is its rows in version order. The unique
-- (aggregate_id, version) is the optimistic lock: of two writers that read the same version,
-- the second one's insert fails.
CREATE TABLE complaint_events (
    position       BIGSERIAL PRIMARY KEY,
    aggregate_id   UUID        NOT NULL,
    version        BIGINT      NOT NULL CHECK (version > 0),
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    data           JSONB       NOT NULL,
    metadata       JSONB       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    -- The writing transaction. Positions are handed out before commit, so a reader that
    -- followed positions alone could pass a row whose transaction commits later; readers
    -- follow (transaction_id, position) and stop below the oldest appender still running.
    transaction_id XID8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT complaint_events_stream_version UNIQUE (aggregate_id, version)
);
CREATE INDEX complaint_events_commit_order ON complaint_events (transaction_id, position);

-- Events are facts: never changed, never removed.
CREATE FUNCTION complaint_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_events is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER complaint_events_append_only
    BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION complaint_events_are_append_only();

-- The answer given to a create carrying an Idempotency-Key, so a retry gets it again; the
-- request is kept to tell a retry (same body) from a reuse of the key (another body).
CREATE TABLE idempotency_keys (
    key        TEXT        PRIMARY KEY,
    request    JSONB       NOT NULL,
    status     SMALLINT    NOT NULL,
    response   JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- The transactional outbox (shared::outbox) and the inbox (shared::inbox), as specified.
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

-- ---------------------------------------------------------------------------------------
-- Read side: derived from complaint_events only, and rebuilt from them at will.
-- ---------------------------------------------------------------------------------------

-- One row per complaint: the state its events leave it in.
CREATE TABLE complaint_view (
    id               UUID        PRIMARY KEY,
    version          BIGINT      NOT NULL,
    status           TEXT        NOT NULL,
    priority         TEXT        NOT NULL,
    category         TEXT        NOT NULL,
    title            TEXT        NOT NULL,
    description      TEXT        NOT NULL,
    customer_id      TEXT        NOT NULL,
    customer_name    TEXT        NOT NULL,
    customer_email   TEXT        NOT NULL,
    assignee         TEXT,
    escalation_level INTEGER     NOT NULL,
    reopen_count     INTEGER     NOT NULL,
    resolution       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    resolved_at      TIMESTAMPTZ,
    closed_at        TIMESTAMPTZ,
    sla_started_at   TIMESTAMPTZ,
    sla_deadline     TIMESTAMPTZ,
    -- Word search over title and description ('simple': no stemming, any language).
    search           TSVECTOR GENERATED ALWAYS AS
                     (to_tsvector('simple'::regconfig, title || ' ' || description)) STORED
);
-- The list's order (newest first) and its cursor.
CREATE INDEX complaint_view_newest ON complaint_view (created_at DESC, id DESC);
CREATE INDEX complaint_view_status ON complaint_view (status, created_at DESC);
CREATE INDEX complaint_view_priority ON complaint_view (priority);
CREATE INDEX complaint_view_category ON complaint_view (category);
CREATE INDEX complaint_view_assignee ON complaint_view (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX complaint_view_customer ON complaint_view (customer_id);
CREATE INDEX complaint_view_search ON complaint_view USING GIN (search);

-- What happened to each complaint, in order.
CREATE TABLE complaint_timeline (
    event_id       UUID        PRIMARY KEY,
    complaint_id   UUID        NOT NULL,
    position       BIGINT      NOT NULL,
    version        BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    user_id        TEXT,
    correlation_id TEXT        NOT NULL,
    data           JSONB       NOT NULL
);
CREATE INDEX complaint_timeline_of ON complaint_timeline (complaint_id, version, position);

-- How far each projection has read complaint_events, in (transaction_id, position) order.
CREATE TABLE projection_checkpoints (
    projection     TEXT        PRIMARY KEY,
    transaction_id XID8        NOT NULL DEFAULT '0',
    position       BIGINT      NOT NULL DEFAULT 0,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO projection_checkpoints (projection) VALUES ('complaint_view');
