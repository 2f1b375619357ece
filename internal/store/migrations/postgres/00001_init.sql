-- +goose Up
CREATE TABLE config_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT  NOT NULL
);
INSERT INTO config_revision (id, revision) VALUES (1, 0);

CREATE TABLE resources (
    kind         TEXT   NOT NULL,
    parent       TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    display_name TEXT   NOT NULL DEFAULT '',
    doc          TEXT   NOT NULL,
    etag         TEXT   NOT NULL,
    revision     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (kind, parent, id)
);
CREATE INDEX resources_kind_id ON resources (kind, id);
CREATE INDEX resources_display_name ON resources (kind, parent, display_name);

CREATE TABLE links (
    rel TEXT NOT NULL,
    a   TEXT NOT NULL,
    b   TEXT NOT NULL,
    PRIMARY KEY (rel, a, b)
);
CREATE INDEX links_b ON links (rel, b);

CREATE TABLE uniques (
    kind  TEXT NOT NULL,
    name  TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (kind, name, value)
);
CREATE INDEX uniques_owner ON uniques (kind, owner);

CREATE TABLE subscription_keys (
    hash            TEXT NOT NULL PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    which           TEXT NOT NULL
);
CREATE INDEX subscription_keys_sub ON subscription_keys (subscription_id);

CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor    TEXT   NOT NULL,
    action   TEXT   NOT NULL,
    kind     TEXT   NOT NULL,
    path     TEXT   NOT NULL,
    revision BIGINT NOT NULL
);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE subscription_keys;
DROP TABLE uniques;
DROP TABLE links;
DROP TABLE resources;
DROP TABLE config_revision;
