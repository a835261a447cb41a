ALTER TABLE widgets ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
INSERT INTO apply_log (file) VALUES ('V3');
