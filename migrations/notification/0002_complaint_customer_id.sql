-- Whose complaint it is, so that a customer reads only the notifications about its own
-- complaints (issue 14). Rows from before stay NULL: no customer token sees them.
ALTER TABLE complaints ADD COLUMN customer_id TEXT;
