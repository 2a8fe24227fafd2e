-- complaint-service: the choreographed sagas it keeps (DESIGN.md) and the SLA timers.

-- One row per saga: searchable columns beside the whole saga (steps and times) as JSON.
-- One saga per triggering event, so a redelivered trigger starts nothing new.
CREATE TABLE sagas (
    saga_id               UUID        PRIMARY KEY,
    kind                  TEXT        NOT NULL,
    complaint_id          TEXT        NOT NULL,
    status                TEXT        NOT NULL,
    trigger_event_id      UUID        NOT NULL UNIQUE,
    compensation_event_id UUID        UNIQUE,
    -- When the pending step fails for want of an answer; NULL once the saga is over.
    deadline              TIMESTAMPTZ,
    started_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    state                 JSONB       NOT NULL
);
CREATE INDEX sagas_of_complaint ON sagas (complaint_id, started_at);
CREATE INDEX sagas_overdue ON sagas (deadline) WHERE deadline IS NOT NULL;

-- The SLA deadline of every unresolved complaint: a durable timer, so a deadline that passes
-- while the service is down fires when it comes back.
CREATE TABLE sla_timers (
    complaint_id UUID        PRIMARY KEY,
    deadline     TIMESTAMPTZ NOT NULL
);
CREATE INDEX sla_timers_due ON sla_timers (deadline);
