-- +goose Up
-- Telemetry: request records shipped by gateways (issue 7). Not
-- configuration: writing here never bumps the config revision.

-- Ingested batch ids: a batch is inserted with its records and rollups in
-- one transaction, and a batch id seen before is a no-op, so a replayed
-- batch never counts twice. Pruned with the records (retention).
CREATE TABLE telemetry_batches (
    batch_id    TEXT   NOT NULL PRIMARY KEY,
    gateway_id  TEXT   NOT NULL,
    instance_id TEXT   NOT NULL,
    records     BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX telemetry_batches_received ON telemetry_batches (received_at);

-- Raw request records (byRequest). Times are Unix microseconds, durations
-- microseconds, sizes bytes; outcome: 0 success, 1 blocked, 2 failed, 3 other.
CREATE TABLE requests (
    id                    INTEGER PRIMARY KEY,
    time                  BIGINT   NOT NULL,
    request_id            TEXT     NOT NULL,
    gateway_id            TEXT     NOT NULL,
    instance_id           TEXT     NOT NULL,
    api_id                TEXT     NOT NULL,
    operation_id          TEXT     NOT NULL,
    product_id            TEXT     NOT NULL,
    subscription_id       TEXT     NOT NULL,
    user_id               TEXT     NOT NULL,
    client_ip             TEXT     NOT NULL,
    method                TEXT     NOT NULL,
    url                   TEXT     NOT NULL,
    response_code         INTEGER  NOT NULL,
    backend_response_code INTEGER  NOT NULL,
    outcome               SMALLINT NOT NULL,
    request_size          BIGINT   NOT NULL,
    response_size         BIGINT   NOT NULL,
    total_time            BIGINT   NOT NULL,
    backend_time          BIGINT   NOT NULL,
    client_time           BIGINT   NOT NULL,
    cache                 TEXT     NOT NULL,
    last_error_source     TEXT     NOT NULL,
    last_error_section    TEXT     NOT NULL,
    last_error_reason     TEXT     NOT NULL,
    last_error_message    TEXT     NOT NULL,
    backend_url           TEXT     NOT NULL
);
CREATE INDEX requests_time ON requests (time);

-- Per-minute rollups (byApi, byOperation, byProduct, bySubscription,
-- byUser, byTime). minute is the Unix time in seconds of the minute's
-- start; api_time is the total time and service_time the backend time, in
-- microseconds (service_* over the service_calls that reached a backend;
-- service_time_min is NULL when none did); h00..h39 count api times per
-- latency bucket (telemetry.HistogramBuckets) for percentiles.
CREATE TABLE request_rollups (
    minute           BIGINT   NOT NULL,
    gateway_id       TEXT     NOT NULL,
    api_id           TEXT     NOT NULL,
    operation_id     TEXT     NOT NULL,
    product_id       TEXT     NOT NULL,
    subscription_id  TEXT     NOT NULL,
    user_id          TEXT     NOT NULL,
    outcome          SMALLINT NOT NULL,
    calls            BIGINT   NOT NULL,
    bandwidth        BIGINT   NOT NULL,
    cache_hits       BIGINT   NOT NULL,
    cache_misses     BIGINT   NOT NULL,
    api_time_sum     BIGINT   NOT NULL,
    api_time_min     BIGINT   NOT NULL,
    api_time_max     BIGINT   NOT NULL,
    service_calls    BIGINT   NOT NULL,
    service_time_sum BIGINT   NOT NULL,
    service_time_min BIGINT,
    service_time_max BIGINT   NOT NULL,
    h00 BIGINT NOT NULL DEFAULT 0,
    h01 BIGINT NOT NULL DEFAULT 0,
    h02 BIGINT NOT NULL DEFAULT 0,
    h03 BIGINT NOT NULL DEFAULT 0,
    h04 BIGINT NOT NULL DEFAULT 0,
    h05 BIGINT NOT NULL DEFAULT 0,
    h06 BIGINT NOT NULL DEFAULT 0,
    h07 BIGINT NOT NULL DEFAULT 0,
    h08 BIGINT NOT NULL DEFAULT 0,
    h09 BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    h21 BIGINT NOT NULL DEFAULT 0,
    h22 BIGINT NOT NULL DEFAULT 0,
    h23 BIGINT NOT NULL DEFAULT 0,
    h24 BIGINT NOT NULL DEFAULT 0,
    h25 BIGINT NOT NULL DEFAULT 0,
    h26 BIGINT NOT NULL DEFAULT 0,
    h27 BIGINT NOT NULL DEFAULT 0,
    h28 BIGINT NOT NULL DEFAULT 0,
    h29 BIGINT NOT NULL DEFAULT 0,
    h30 BIGINT NOT NULL DEFAULT 0,
    h31 BIGINT NOT NULL DEFAULT 0,
    h32 BIGINT NOT NULL DEFAULT 0,
    h33 BIGINT NOT NULL DEFAULT 0,
    h34 BIGINT NOT NULL DEFAULT 0,
    h35 BIGINT NOT NULL DEFAULT 0,
    h36 BIGINT NOT NULL DEFAULT 0,
    h37 BIGINT NOT NULL DEFAULT 0,
    h38 BIGINT NOT NULL DEFAULT 0,
    h39 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, gateway_id, api_id, operation_id, product_id, subscription_id, user_id, outcome)
);

-- +goose Down
DROP TABLE request_rollups;
DROP TABLE requests;
DROP TABLE telemetry_batches;
