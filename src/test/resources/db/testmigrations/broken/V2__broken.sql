CREATE TABLE half_done (id int);
INSERT INTO gadgets (id) VALUES (1);
INSERT INTO no_such_table (id) VALUES (1);
