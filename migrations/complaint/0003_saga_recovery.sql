-- complaint-service: saga recovery lists sagas newest first, by status and type
-- (GET /api/sagas?status=FAILED&type=ASSIGNMENT&cursor=…).
CREATE INDEX sagas_newest ON sagas (started_at DESC, saga_id DESC);
CREATE INDEX sagas_by_status ON sagas (status, started_at DESC, saga_id DESC);
