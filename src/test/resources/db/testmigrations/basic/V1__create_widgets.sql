-- one table, two statements
CREATE TABLE widgets (
  id    int PRIMARY KEY,
  name  text NOT NULL
);
CREATE TABLE apply_log (file text NOT NULL);
INSERT INTO apply_log (file) VALUES ('V1');
