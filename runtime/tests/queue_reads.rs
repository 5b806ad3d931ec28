//! The queue's reads return what the plain query would (issue 13 changed how they read, not
//! what): a page of several statuses merged status by status and the overdue page read through
//! its own index (SQLite), keyset and offset pages, and tab counts without rows — on both
//! engines.

use m110_runtime::per_engine;
use m110_runtime::store::cases::{CaseFilter, OPEN_STATUSES};
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::{Engine, Store};

const STATUSES: [&str; 6] = [
    "signed",
    "in_progress",
    "received",
    "closed",
    "replied",
    "transferred_police",
];

/// One stored case of the fixture: id, status, overdue.
type Case = (i64, &'static str, bool);

/// 40 cases of mixed statuses, every third one past a deadline; returns them.
async fn cases(store: &Store) -> Vec<Case> {
    let mut out = Vec::new();
    for n in 0..40i64 {
        let status = STATUSES[(n as usize * 7 + n as usize / 5) % STATUSES.len()];
        let overdue = n % 3 == 0;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO cases (public_id, channel, content, priority, status, overdue_close, \
             created_at, updated_at) VALUES ($1, 'phone', 'x', 'normal', $2, $3, $4, $4) \
             RETURNING id",
        )
        .bind(format!("MS350781-20261102-{n:06}"))
        .bind(status)
        .bind(i64::from(overdue))
        .bind(1_793_581_200_000 + n)
        .fetch_one(store.pool())
        .await
        .unwrap();
        out.push((id, status, overdue));
    }
    out
}

/// What a page must hold: the matching ids, newest first, below `before`, after `offset`.
fn expected(all: &[Case], f: &CaseFilter) -> (Vec<i64>, i64) {
    let mut ids: Vec<i64> = all
        .iter()
        .filter(|(_, s, o)| {
            (f.statuses.is_empty() || f.statuses.iter().any(|x| x == s))
                && f.overdue.is_none_or(|want| *o == want)
        })
        .map(|(id, _, _)| *id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let total = ids.len() as i64;
    let page = ids
        .into_iter()
        .filter(|id| f.before_id.is_none_or(|b| *id < b))
        .skip(f.offset as usize)
        .take(f.limit as usize)
        .collect();
    (page, total)
}

async fn pages_hold_what_the_plain_query_would(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = &db.store;
    let all = cases(store).await;
    let open: Vec<&str> = OPEN_STATUSES.to_vec();
    let statuses: [&[&str]; 4] = [
        &["signed", "in_progress"],
        &["replied", "closed", "received"],
        &["closed"],
        &open,
    ];
    let mid = all[all.len() / 2].0;
    for s in statuses {
        for overdue in [None, Some(true)] {
            for (limit, offset, before) in [(5, 0, None), (3, 2, None), (4, 0, Some(mid))] {
                let f = CaseFilter {
                    statuses: s.iter().map(|x| x.to_string()).collect(),
                    overdue,
                    limit,
                    offset,
                    before_id: before,
                    ..Default::default()
                };
                let (rows, total) = store.list_cases(&f).await.unwrap();
                let got: Vec<i64> = rows.iter().map(|r| r.id).collect();
                let (want, want_total) = expected(&all, &f);
                let what = format!(
                    "{engine:?} {s:?} overdue {overdue:?} limit {limit} offset {offset} \
                     before {before:?}"
                );
                assert_eq!(got, want, "{what}");
                assert_eq!(total, want_total, "{what}");
                assert_eq!(store.count_cases(&f).await.unwrap(), want_total, "{what}");
                assert!(
                    rows.iter().all(|r| s.contains(&r.status.as_str())),
                    "{what}"
                );
            }
        }
    }
}

per_engine!(pages_hold_what_the_plain_query_would);
