-- +goose Up
-- Heartbeats of self-hosted gateway instances. Not configuration: writing
-- here does not bump the config revision.
CREATE TABLE gateway_instances (
    gateway_id  TEXT   NOT NULL,
    instance_id TEXT   NOT NULL,
    doc         TEXT   NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (gateway_id, instance_id)
);

-- +goose Down
DROP TABLE gateway_instances;
