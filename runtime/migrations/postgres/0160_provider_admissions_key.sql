-- provider_admissions.unit_id NOT NULL (postgres). Mirror of
-- migrations/sqlite/0160_provider_admissions_key.sql. Never edit once merged.
-- A primary key is NOT NULL on PostgreSQL already; stated here so both engines say the same.
ALTER TABLE provider_admissions ALTER COLUMN unit_id SET NOT NULL;
