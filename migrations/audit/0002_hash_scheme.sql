-- Each entry names the canonical form its content hash was computed over (audit-service/src/
-- chain.rs, HashScheme): 1 for the entries written before this column existed (serde_json's
-- number forms, keys in UTF-8 byte order), 2 for RFC 8785 (JCS), which new entries use. The
-- existing rows take 1 without being rewritten (adding a column with a default touches no
-- row, and fires no trigger); the default is then dropped so every writer must say which
-- scheme it used.
ALTER TABLE audit_entries ADD COLUMN hash_scheme SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE audit_entries ALTER COLUMN hash_scheme DROP DEFAULT;
