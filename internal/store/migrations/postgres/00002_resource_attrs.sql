-- +goose Up
-- Secondary index over selected top-level properties of resource documents
-- (subscription state, scope and owner, user email, …) so that filtered lists
-- stay fast with millions of records.
CREATE TABLE resource_attrs (
    kind   TEXT NOT NULL,
    parent TEXT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (kind, parent, id, name)
);
CREATE INDEX resource_attrs_value ON resource_attrs (kind, name, value, parent, id);

-- +goose Down
DROP TABLE resource_attrs;
