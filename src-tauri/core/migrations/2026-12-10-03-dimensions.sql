-- The dimensions of a counted session (issue 16, item 3; issue 18, item 3): accompanied by a
-- médiateur or autonomous, and the place of a nomad borne. Additive: a program that predates it reads
-- and writes the file as before (its sessions have no dimensions, see below). Such a program, after a
-- rollback, does not send the units of the newer categories (`mode`, `place`, `print-at-end`: outside
-- its vocabulary, kept and logged) and stops at a batch planned with them until the newer program is
-- back: nothing is lost, nothing is sent twice.
--
-- `counts` keeps the totals, what Matomo gets (with `delivered`); this table how each total divides by
-- the dimensions of the sessions that made it. Purely local, never sent. `mode` is `autonomous` or
-- `accompanied`; `place` a place code of `[nomad] places`, '' for none. A count with no line here (or
-- less here than its `n`: counted before this migration, or by an older program after a rollback) is
-- "not recorded" in the split.
CREATE TABLE counts_split (
    hour   INTEGER NOT NULL,
    cat    TEXT    NOT NULL,
    action TEXT    NOT NULL,
    mode   TEXT    NOT NULL,
    place  TEXT    NOT NULL,
    n      INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (hour, cat, action, mode, place)
) WITHOUT ROWID;

-- The session in progress carries its dimensions, so its counts are split as they come and a session
-- left open by a crash is closed with them. NULL (a session opened by an older program): no
-- dimensions, nothing split, no `mode` or `place` unit at its end.
ALTER TABLE open_session ADD COLUMN mode TEXT;
ALTER TABLE open_session ADD COLUMN place TEXT;
