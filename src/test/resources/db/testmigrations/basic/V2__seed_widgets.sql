INSERT INTO widgets (id, name) VALUES (1, 'one'), (2, 'two');
-- widen the window in which a second node could race this one
SELECT pg_sleep(0.3);
INSERT INTO apply_log (file) VALUES ('V2');
