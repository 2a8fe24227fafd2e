-- notification-service: its view of complaints, the agent directory, the notifications with
-- their delivery state (the history), and the outbox and inbox of the shared crate.

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

-- Who can be assigned a complaint and how to reach them; upserted from the seed at startup.
CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('AGENT', 'SUPERVISOR')),
    active     BOOLEAN NOT NULL DEFAULT true,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- This service's view of each complaint, folded from complaint events.
CREATE TABLE complaints (
    id               TEXT PRIMARY KEY,
    version          BIGINT NOT NULL,
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         TEXT NOT NULL,
    customer_name    TEXT NOT NULL,
    customer_email   TEXT NOT NULL,
    assignee         TEXT,
    sla_deadline     TIMESTAMPTZ,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per message to one recipient; the delivery worker moves PENDING rows on.
CREATE TABLE notifications (
    id                     UUID PRIMARY KEY,
    complaint_id           TEXT NOT NULL,
    -- The complaint event that caused it, and what its follow-up events need of it.
    event_id               UUID NOT NULL,
    event_type             TEXT NOT NULL,
    correlation_id         TEXT NOT NULL,
    user_id                TEXT,
    step                   TEXT NOT NULL,
    audience               TEXT NOT NULL,
    -- The agent the notification is about (the assignee), if any.
    agent_id               TEXT,
    -- An e-mail address; for an agent the directory does not know, the agent's id.
    recipient              TEXT NOT NULL,
    recipient_name         TEXT NOT NULL,
    channel                TEXT NOT NULL,
    subject                TEXT NOT NULL,
    body                   TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'CANCELLED')),
    attempts               INTEGER NOT NULL DEFAULT 0,
    next_attempt_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error             TEXT,
    failure_reason         TEXT,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at                TIMESTAMPTZ,
    failed_at              TIMESTAMPTZ,
    -- Set when a compensation withdrew it (a retraction was sent, or it was cancelled).
    retracted_at           TIMESTAMPTZ,
    -- Idempotence: one message per event, recipient and channel, however often it is delivered.
    UNIQUE (event_id, recipient, channel)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX notifications_by_complaint ON notifications (complaint_id, id DESC);
CREATE INDEX notifications_newest ON notifications (id DESC);
