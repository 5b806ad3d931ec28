-- Retiring region entries (postgres). Mirror of migrations/sqlite/0050_retire.sql.
-- Never edit once merged.
-- A unit, grid unit or category a new profile drops is retired, never deleted: cases, events and
-- users keep pointing at it (history), while intake, routing and the console stop offering it.
ALTER TABLE units ADD COLUMN retired_at BIGINT;
ALTER TABLE grid_units ADD COLUMN retired_at BIGINT;
ALTER TABLE categories ADD COLUMN retired_at BIGINT;
