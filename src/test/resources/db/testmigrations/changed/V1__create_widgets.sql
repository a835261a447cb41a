-- one table, two statements (edited after it was applied)
CREATE TABLE widgets (
  id    bigint PRIMARY KEY,
  name  text NOT NULL
);
CREATE TABLE apply_log (file text NOT NULL);
INSERT INTO apply_log (file) VALUES ('V1');
