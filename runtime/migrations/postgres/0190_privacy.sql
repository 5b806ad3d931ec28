-- Privacy: phone numbers in one form, and each case's own caller snapshot
-- (postgres). Mirror of migrations/sqlite/0190_privacy.sql. Never edit once merged.
--
-- 1. Phone numbers are stored normalized (engine::intake::normalize_phone): separators dropped,
--    `+86`/`0086` numbers in national form (a landline gets its trunk 0 back). Rows written
--    before were stored as typed (households: `138-0000-1234`; callers and SMS: `+86…`), so a
--    lookup by a number typed the other way missed them (the screen pop's household flag).
--    The statements below apply the same rule; on rows already normalized they change nothing,
--    so running them again is harmless.
-- 2. Two callers whose numbers normalize to one (`+8613800001234` and `13800001234`) are one
--    person: the lower id is kept, takes the other's cases and fills its missing profile fields
--    from it; the other row goes (callers.phone is UNIQUE).
-- 3. cases.caller_name / caller_phone: the caller as given on that case. Before, a case showed
--    the caller's current row, so any intake with the same number renamed the caller on every
--    past case. Existing cases get what they showed until now.

-- The callers' normalized numbers, worked out beside the table (its UNIQUE index would refuse
-- an intermediate state where two rows hold one number).
CREATE TABLE m0190_callers AS SELECT id, phone FROM callers WHERE phone IS NOT NULL;
CREATE INDEX m0190_callers_id ON m0190_callers (id);
CREATE INDEX m0190_callers_phone ON m0190_callers (phone);
UPDATE m0190_callers SET phone = REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '')
WHERE phone IS NOT NULL AND phone <> REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '');
UPDATE m0190_callers SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 4)) = 11 AND SUBSTR(phone, 4, 1) = '1' THEN SUBSTR(phone, 4)
    WHEN SUBSTR(phone, 4, 1) = '0' THEN SUBSTR(phone, 4)
    ELSE '0' || SUBSTR(phone, 4)
END
WHERE phone LIKE '+86%';
UPDATE m0190_callers SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 5)) = 11 AND SUBSTR(phone, 5, 1) = '1' THEN SUBSTR(phone, 5)
    WHEN SUBSTR(phone, 5, 1) = '0' THEN SUBSTR(phone, 5)
    ELSE '0' || SUBSTR(phone, 5)
END
WHERE phone LIKE '0086%';

-- 3. The snapshot, taken before any caller row is merged away.
ALTER TABLE cases ADD COLUMN caller_name TEXT;
ALTER TABLE cases ADD COLUMN caller_phone TEXT;
UPDATE cases SET
    caller_name = (SELECT p.name FROM callers p WHERE p.id = cases.caller_id),
    caller_phone = COALESCE(
        (SELECT m.phone FROM m0190_callers m WHERE m.id = cases.caller_id),
        (SELECT p.phone FROM callers p WHERE p.id = cases.caller_id))
WHERE caller_id IS NOT NULL AND caller_name IS NULL AND caller_phone IS NULL;

-- 2. Duplicates: every caller whose normalized number a lower id also has.
CREATE TABLE m0190_dup AS
SELECT m.id AS id, (SELECT MIN(k.id) FROM m0190_callers k WHERE k.phone = m.phone) AS keep_id
FROM m0190_callers m
WHERE EXISTS (SELECT 1 FROM m0190_callers o WHERE o.phone = m.phone AND o.id < m.id);
UPDATE cases SET caller_id = (SELECT d.keep_id FROM m0190_dup d WHERE d.id = cases.caller_id)
WHERE caller_id IN (SELECT id FROM m0190_dup);
UPDATE callers SET
    name = COALESCE(name, (SELECT MAX(p.name) FROM callers p JOIN m0190_dup d ON d.id = p.id
                           WHERE d.keep_id = callers.id)),
    gender = COALESCE(gender, (SELECT MAX(p.gender) FROM callers p JOIN m0190_dup d ON d.id = p.id
                               WHERE d.keep_id = callers.id)),
    age_band = COALESCE(age_band, (SELECT MAX(p.age_band) FROM callers p
                                   JOIN m0190_dup d ON d.id = p.id WHERE d.keep_id = callers.id)),
    occupation = COALESCE(occupation, (SELECT MAX(p.occupation) FROM callers p
                                       JOIN m0190_dup d ON d.id = p.id
                                       WHERE d.keep_id = callers.id))
WHERE id IN (SELECT keep_id FROM m0190_dup);
DELETE FROM callers WHERE id IN (SELECT id FROM m0190_dup);
-- No row can collide here: a number that is already normalized normalizes to itself, so its row
-- was in the same group and has just gone unless it is the one kept.
UPDATE callers SET phone = (SELECT m.phone FROM m0190_callers m WHERE m.id = callers.id)
WHERE phone IS NOT NULL AND phone <> (SELECT m.phone FROM m0190_callers m WHERE m.id = callers.id);
DROP TABLE m0190_dup;
DROP TABLE m0190_callers;

-- 1. Households and SMS (no unique number there).
UPDATE households SET phone = REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '')
WHERE phone IS NOT NULL AND phone <> REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '');
UPDATE households SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 4)) = 11 AND SUBSTR(phone, 4, 1) = '1' THEN SUBSTR(phone, 4)
    WHEN SUBSTR(phone, 4, 1) = '0' THEN SUBSTR(phone, 4)
    ELSE '0' || SUBSTR(phone, 4)
END
WHERE phone LIKE '+86%';
UPDATE households SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 5)) = 11 AND SUBSTR(phone, 5, 1) = '1' THEN SUBSTR(phone, 5)
    WHEN SUBSTR(phone, 5, 1) = '0' THEN SUBSTR(phone, 5)
    ELSE '0' || SUBSTR(phone, 5)
END
WHERE phone LIKE '0086%';
UPDATE sms_messages SET phone = REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '')
WHERE phone IS NOT NULL AND phone <> REPLACE(REPLACE(REPLACE(REPLACE(TRIM(phone), ' ', ''), '-', ''), '(', ''), ')', '');
UPDATE sms_messages SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 4)) = 11 AND SUBSTR(phone, 4, 1) = '1' THEN SUBSTR(phone, 4)
    WHEN SUBSTR(phone, 4, 1) = '0' THEN SUBSTR(phone, 4)
    ELSE '0' || SUBSTR(phone, 4)
END
WHERE phone LIKE '+86%';
UPDATE sms_messages SET phone = CASE
    WHEN LENGTH(SUBSTR(phone, 5)) = 11 AND SUBSTR(phone, 5, 1) = '1' THEN SUBSTR(phone, 5)
    WHEN SUBSTR(phone, 5, 1) = '0' THEN SUBSTR(phone, 5)
    ELSE '0' || SUBSTR(phone, 5)
END
WHERE phone LIKE '0086%';

-- The screen pop looks households up by number.
CREATE INDEX households_phone ON households (phone);
