-- Per-day margins of the rollups and the overdue watermark's index (sqlite). Mirror of
-- migrations/postgres/0170_margins.sql. Never edit once merged.
--
-- rollup_margins: for each Asia/Shanghai day, the rollups summed along one key at a time
-- (dim '' = the day's total, else 'hour', 'category', 'grid', 'unit', 'channel', 'gender',
-- 'age_band' or 'occupation'), per metric and duration bucket. A day's margins are a few rows
-- per category, grid unit, unit and channel, however many cases came in that day, so the
-- dashboard's and the analytics pages' 30-day and yearly sums read a number of rows that does
-- not grow with the volume (store::rollups). They are built by a background job for days that
-- are over (store::rollups::build_margins); rollup_margin_days lists the days whose margins are
-- complete. A write that changes the rollups of such a day deletes its row here in the same
-- transaction, so readers fall back to the rollups for it until the job builds it again.
CREATE TABLE rollup_margins (
    day         INTEGER NOT NULL,
    dim         TEXT NOT NULL,
    key         TEXT NOT NULL,
    metric      TEXT NOT NULL,
    bucket      INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (day, dim, key, metric, bucket)
);
CREATE INDEX rollup_margins_dim_day ON rollup_margins (dim, day);
CREATE TABLE rollup_margin_days (
    day         INTEGER NOT NULL PRIMARY KEY,
    built_at    INTEGER NOT NULL
);

-- The live-update watermark and the dashboard count open overdue cases: an index over those
-- alone (a handful) instead of every open case and a table read per case. Queries repeat this
-- WHERE term (store::cases::OVERDUE_TERM) so the planner can use it.
CREATE INDEX cases_overdue_open ON cases (id)
    WHERE status IN ('received', 'dispatched', 'signed', 'in_progress', 'replied', 'followed_up', 'returned')
      AND (overdue_sign = 1 OR overdue_close = 1);

-- Cases handed to the police and not yet acknowledged (the "awaiting police" queue tab, the
-- deadline job's and the delivery worker's look-ups): a handful at any time, read through
-- this index instead of every case ever handed over.
CREATE INDEX cases_handoff_awaiting ON cases (id) WHERE handoff_state = 'awaiting';
