-- complaint-service: the latest snapshot of each complaint's state, so a command folds the
-- events after it rather than the whole stream. Derived data: a row can be deleted at any
-- time (the next command folds the whole stream and writes it again).
CREATE TABLE complaint_snapshots (
    aggregate_id  UUID        PRIMARY KEY,
    -- The stream version the state covers (the last event folded into it).
    version       BIGINT      NOT NULL CHECK (version > 0),
    -- shared::complaint::snapshot::STATE_VERSION of the code that wrote it: a snapshot of
    -- another state version is ignored and replaced.
    state_version INTEGER     NOT NULL,
    state         JSONB       NOT NULL,
    taken_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
