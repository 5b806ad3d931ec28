-- Cameras (sqlite). Mirror of migrations/postgres/0130_cameras.sql. Never edit once merged.
-- The profile's cameras fill the `cameras` table of 0001 (code = the platform's camera id):
-- what kind of camera it is, its live view in the camera platform (the platform's link template
-- with the id filled in), and its place in the profile's order. The kit handles no video.
ALTER TABLE cameras ADD COLUMN kind TEXT NOT NULL DEFAULT 'other';
ALTER TABLE cameras ADD COLUMN link TEXT;
ALTER TABLE cameras ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cameras_platform ON cameras (platform_id);
