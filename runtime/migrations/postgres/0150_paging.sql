-- Keyset paging and flat-cost reads (postgres). Mirror of migrations/sqlite/0150_paging.sql.
-- Never edit once merged.
-- Queues, the case list and search page by the case id (newest first: ORDER BY id DESC with
-- an `id < cursor` bound), so every index below ends in id. The open statuses repeat the
-- list store::cases::OPEN_STATUSES writes literally into queue queries: a partial index is
-- used only when the query carries its WHERE term, and open cases stay few however long the
-- history grows.
CREATE INDEX cases_open_id ON cases (id)
    WHERE status IN ('received', 'dispatched', 'signed', 'in_progress', 'replied', 'followed_up', 'returned');
CREATE INDEX cases_open_unit ON cases (unit_id, id)
    WHERE status IN ('received', 'dispatched', 'signed', 'in_progress', 'replied', 'followed_up', 'returned');
-- A status (closed, transferred) or a unit's whole history, newest first, without a sort.
CREATE INDEX cases_status_id ON cases (status, id);
CREATE INDEX cases_unit_id ON cases (unit_id, id);
-- The live-update watermark's latest change: MAX(updated_at) from the index's end.
CREATE INDEX cases_updated ON cases (updated_at);
