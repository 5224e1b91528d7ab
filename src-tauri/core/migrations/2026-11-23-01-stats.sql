-- Anonymous usage counts, by hour (the finest time the borne keeps), and what Matomo already has.
-- `hour` counts hours from 1970-01-01 00:00 UTC. `cat` and `action` are Matomo's event category and
-- action (see docs/statistics.md). `delivered` is the part of `n` that Matomo confirmed.
CREATE TABLE counts (
    hour      INTEGER NOT NULL,
    cat       TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    n         INTEGER NOT NULL CHECK (n >= 0),
    delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered >= 0 AND delivered <= n),
    PRIMARY KEY (hour, cat, action)
) WITHOUT ROWID;

-- A session in progress: its hour and the duration band reached so far. One row at most; if the
-- program dies, the next start counts it as ended by a crash.
CREATE TABLE open_session (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    hour INTEGER NOT NULL,
    band TEXT    NOT NULL
);

-- Outbox: batches planned for Matomo, each hit as it will be sent. `marker` is the batch's random
-- event name, looked up with Live.getLastVisitsDetails when an answer never came. `sent_at` (Unix
-- seconds, technical) is set when a send starts, so an interrupted one is only checked once the
-- server had time to finish it; the row is deleted once Matomo has the batch.
CREATE TABLE batch (
    id      INTEGER PRIMARY KEY,
    marker  TEXT    NOT NULL UNIQUE,
    sent_at INTEGER
);

CREATE TABLE batch_hit (
    batch     INTEGER NOT NULL REFERENCES batch (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
    cat       TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    new_visit INTEGER NOT NULL,
    PRIMARY KEY (batch, seq)
) WITHOUT ROWID;

-- Delivery status shown to the référent: ok, retrying, refused (with a code), and the hour of the
-- last delivery.
CREATE TABLE push_status (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    state              TEXT    NOT NULL,
    code               TEXT,
    last_delivery_hour INTEGER,
    failures           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO push_status (id, state) VALUES (1, 'never');
