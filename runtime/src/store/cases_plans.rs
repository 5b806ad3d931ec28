//! Query plans of the hot reads on SQLite: queues, the case list, the dashboard and the
//! live-update watermark must read indexes whose size is the open work (or stop after a page),
//! never walk the whole `cases` table — that is what keeps them flat as the history grows
//! (issue 13). PostgreSQL plans depend on statistics and are checked by hand (docs/performance.md).

use super::*;
use crate::store::Engine;
use crate::store::testdb::TestDb;

/// `EXPLAIN QUERY PLAN` details of `sql` with `params` (and `extra` integers after them).
async fn plan(store: &Store, sql: &str, params: &[Param], extra: &[i64]) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.clone()),
            Param::Int(v) => q.bind(*v),
        };
    }
    for v in extra {
        q = q.bind(*v);
    }
    q.fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("explain {sql}: {e}"))
        .into_iter()
        .map(|r| r.3)
        .collect()
}

/// A full walk of `cases`: a `SCAN` of the table, or of one of its indexes that is not partial.
fn full_walk(detail: &str) -> bool {
    let scans_cases = detail == "SCAN c"
        || detail == "SCAN cases"
        || detail.starts_with("SCAN c USING")
        || detail.starts_with("SCAN cases USING");
    // The partial indexes hold the open (0150) or the overdue open cases (0170) only.
    scans_cases && !detail.contains("cases_open_") && !detail.contains("cases_overdue_open")
}

fn filter(statuses: &[&str]) -> CaseFilter {
    CaseFilter {
        statuses: statuses.iter().map(|s| s.to_string()).collect(),
        limit: 200,
        ..Default::default()
    }
}

/// Both statements of a list: no full walk; when `ordered`, no sort either (the LIMIT then
/// bounds the rows read, whatever the table's size).
async fn assert_list(store: &Store, name: &str, f: &CaseFilter, ordered: bool) {
    let sql = list_sql(f, Engine::Sqlite);
    let count = plan(store, &sql.count_sql, &sql.params[..sql.count_params], &[]).await;
    let list = plan(store, &sql.list_sql, &sql.params, &[]).await;
    for (which, details) in [("count", &count), ("list", &list)] {
        assert!(
            !details.iter().any(|d| full_walk(d)),
            "{name} {which} walks cases: {details:?}"
        );
    }
    if ordered {
        assert!(
            !list.iter().any(|d| d.contains("TEMP B-TREE FOR ORDER BY")),
            "{name}: list sorts instead of reading in id order: {list:?}"
        );
    }
}

#[tokio::test]
async fn hot_reads_use_indexes_not_a_scan_of_cases() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = &db.store;

    // The center's queues (open statuses: the partial indexes).
    for statuses in [
        &["received"][..],
        &["returned"],
        &["dispatched"],
        &["signed", "in_progress"],
        OPEN_STATUSES,
    ] {
        // Several statuses are read range by range and sorted: a sort of open cases only.
        let ordered = statuses.len() == 1;
        let mut f = filter(statuses);
        assert_list(store, &format!("queue {statuses:?}"), &f, ordered).await;
        f.hide_merged = true;
        assert_list(store, &format!("queue {statuses:?} unmerged"), &f, ordered).await;
        f.before_id = Some(1_000_000);
        assert_list(store, &format!("queue {statuses:?} next page"), &f, ordered).await;
    }
    let mut overdue = filter(OPEN_STATUSES);
    overdue.overdue = Some(true);
    assert_list(store, "overdue", &overdue, false).await;
    // A unit's queue and a unit's whole history.
    let mut unit = filter(&["dispatched"]);
    unit.unit = Some("justice".into());
    assert_list(store, "unit to_sign", &unit, true).await;
    let mut unit_all = filter(&[]);
    unit_all.unit = Some("justice".into());
    assert_list(store, "unit all", &unit_all, true).await;
    // Closed cases (most of the history): by status, in id order.
    let mut closed = filter(&["closed"]);
    closed.before_id = Some(1_000_000);
    assert_list(store, "closed", &closed, true).await;

    // The JSON case list with no filter and a word search: the table in id order, stopped by
    // the LIMIT (the count by its cap) — a plain `SCAN c` here reads one page, not the table.
    for q in [None, Some("路灯".to_string())] {
        let f = CaseFilter {
            q,
            limit: 20,
            ..Default::default()
        };
        let sql = list_sql(&f, Engine::Sqlite);
        let list = plan(store, &sql.list_sql, &sql.params, &[]).await;
        assert!(
            !list.iter().any(|d| d.contains("TEMP B-TREE")),
            "case list sorts: {list:?}"
        );
        assert!(sql.count_sql.contains(&format!("LIMIT {}", COUNT_CAP + 1)));
    }

    // The dashboard's open counts and the live-update watermark.
    let open = plan(
        store,
        &format!("SELECT COUNT(*) FROM cases c WHERE {OPEN_TERM}"),
        &[],
        &[],
    )
    .await;
    assert!(!open.iter().any(|d| full_walk(d)), "open count: {open:?}");
    let watermark = plan(
        store,
        "SELECT (SELECT MAX(id) FROM cases), (SELECT MAX(updated_at) FROM cases)",
        &[],
        &[],
    )
    .await;
    assert!(
        !watermark.iter().any(|d| full_walk(d))
            && watermark.iter().any(|d| d.contains("cases_updated")),
        "watermark maxima do not read index ends: {watermark:?}"
    );
    // The overdue counts of the watermark and the dashboard: the overdue open cases' own index
    // (a handful of entries, each row read to check the term); no other SCAN.
    use crate::store::console::{open_counts_sql, overdue_count_sql};
    for sql in [
        overdue_count_sql(Engine::Sqlite),
        open_counts_sql(Engine::Sqlite),
    ] {
        let p = plan(store, &sql, &[], &[]).await;
        assert!(
            p.contains(&"SCAN c USING INDEX cases_overdue_open".to_string())
                && !p
                    .iter()
                    .any(|d| d.starts_with("SCAN") && !d.ends_with("INDEX cases_overdue_open")),
            "{sql}: the overdue count does not read cases_overdue_open: {p:?}"
        );
    }
}

#[test]
fn the_open_term_is_the_partial_indexes_where_clause() {
    // SQLite and PostgreSQL use a partial index only when the query repeats its WHERE term:
    // the constant must match the migration word for word (less the alias).
    for engine in ["sqlite", "postgres"] {
        let sql = std::fs::read_to_string(format!(
            "{}/migrations/{engine}/0150_paging.sql",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let term = OPEN_TERM.trim_start_matches("c.");
        assert_eq!(
            sql.matches(&format!("WHERE {term};")).count(),
            2,
            "{engine}: 0150_paging.sql does not use {term}"
        );
    }
    let listed: Vec<String> = OPEN_STATUSES.iter().map(|s| format!("'{s}'")).collect();
    assert!(OPEN_TERM.ends_with(&format!("({})", listed.join(", "))));
}

#[tokio::test]
async fn queue_tabs_read_at_most_a_page_or_the_count_cap() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = &db.store;

    // Overdue open cases: the partial index of exactly those (0170), in id order — a count
    // reads at most COUNT_CAP + 1 entries, a page its rows, never a table read per open case.
    let mut overdue = filter(OPEN_STATUSES);
    overdue.overdue = Some(true);
    for f in [overdue.clone(), {
        let mut next = overdue.clone();
        next.before_id = Some(1_000_000);
        next
    }] {
        let sql = list_sql(&f, Engine::Sqlite);
        let count = plan(store, &sql.count_sql, &sql.params[..sql.count_params], &[]).await;
        let list = plan(store, &sql.list_sql, &sql.params, &[]).await;
        for (which, details) in [("count", &count), ("list", &list)] {
            assert!(
                details.iter().any(|d| d.contains("cases_overdue_open"))
                    && !details.iter().any(|d| d.contains("TEMP B-TREE")),
                "overdue {which}: {details:?}"
            );
        }
    }
    // With a unit the unit's open cases are the narrower read: no hint then.
    let mut unit_overdue = overdue.clone();
    unit_overdue.unit = Some("justice".into());
    assert!(
        !list_sql(&unit_overdue, Engine::Sqlite)
            .list_sql
            .contains("INDEXED BY")
    );
    assert!(
        !list_sql(&overdue, Engine::Postgres)
            .count_sql
            .contains("INDEXED BY")
    );
    // PostgreSQL plans these from its statistics: the plain query, no hint, no merge.
    let in_progress = filter(&["signed", "in_progress"]);
    assert!(
        !list_sql(&in_progress, Engine::Postgres)
            .list_sql
            .contains("UNION ALL")
    );

    // Several statuses (在办: signed and in progress): each status's newest rows from its own
    // range of cases_status_id, merged — no sort of every case they hold.
    for before in [None, Some(1_000_000)] {
        let mut f = filter(&["signed", "in_progress"]);
        f.before_id = before;
        let sql = list_sql(&f, Engine::Sqlite);
        let list = plan(store, &sql.list_sql, &sql.params, &[]).await;
        assert!(
            !list
                .iter()
                .any(|d| full_walk(d) || d.contains("TEMP B-TREE"))
                && list
                    .iter()
                    .filter(|d| d.contains("cases_status_id (status=?"))
                    .count()
                    == 2,
            "in progress page (before {before:?}): {list:?}"
        );
    }

    // A hand-off state is a literal, as the statuses are (a plan can see which is asked).
    let mut awaiting = filter(&["transferred_police"]);
    awaiting.handoff_state = Some("awaiting".into());
    let sql = list_sql(&awaiting, Engine::Sqlite);
    assert!(sql.params.is_empty() && sql.count_sql.contains("c.handoff_state = 'awaiting'"));
}
