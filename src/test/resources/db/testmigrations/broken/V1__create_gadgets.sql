CREATE TABLE gadgets (id int PRIMARY KEY);
