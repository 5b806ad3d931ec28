/*!
Callers: the person behind a case, upserted by phone number in the intake transaction.
*/

use sqlx::AnyConnection;

use super::StoreError;
use super::cases::CallerData;

/// A stored caller's (gender, age band, occupation).
pub type CallerProfile = (Option<String>, Option<String>, Option<String>);

/// Inserts or updates a caller by phone number (a caller without a phone gets a fresh row) and
/// returns its id with its profile as stored after the write (what the analytics count a new
/// case under); `None` when nothing is known about the caller.
pub async fn upsert_caller_profile(
    conn: &mut AnyConnection,
    caller: &CallerData,
    now: i64,
) -> Result<Option<(i64, CallerProfile)>, StoreError> {
    if caller.is_empty() {
        return Ok(None);
    }
    let sql = if caller.phone.is_some() {
        "INSERT INTO callers (phone, name, gender, age_band, occupation, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (phone) DO UPDATE SET \
           name = COALESCE(excluded.name, callers.name), \
           gender = COALESCE(excluded.gender, callers.gender), \
           age_band = COALESCE(excluded.age_band, callers.age_band), \
           occupation = COALESCE(excluded.occupation, callers.occupation), \
           updated_at = excluded.updated_at \
         RETURNING id, gender, age_band, occupation"
    } else {
        "INSERT INTO callers (phone, name, gender, age_band, occupation, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, gender, age_band, occupation"
    };
    let (id, gender, age_band, occupation): (i64, Option<String>, Option<String>, Option<String>) =
        sqlx::query_as(sql)
            .bind(caller.phone.clone())
            .bind(caller.name.clone())
            .bind(caller.gender.clone())
            .bind(caller.age_band.clone())
            .bind(caller.occupation.clone())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Some((id, (gender, age_band, occupation))))
}

#[cfg(test)]
mod tests {
    use crate::store::Engine;
    use crate::store::testdb::{TestDb, test_engines};

    /// The row-changing statements of migration 0190 (its `ALTER TABLE`s and index left out:
    /// the test database has them already), to run them on rows stored the old way — twice,
    /// since running them again must change nothing.
    fn migration_0190(engine: Engine) -> Vec<String> {
        let sql = match engine {
            Engine::Sqlite => include_str!("../../migrations/sqlite/0190_privacy.sql"),
            Engine::Postgres => include_str!("../../migrations/postgres/0190_privacy.sql"),
        };
        let body: String = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        body.split(';')
            .map(str::trim)
            .filter(|s| {
                !s.is_empty()
                    && !s.starts_with("ALTER TABLE")
                    && !s.starts_with("CREATE INDEX households_phone")
            })
            .map(str::to_string)
            .collect()
    }

    /// A caller row: id, phone, name, gender.
    type Caller = (i64, Option<String>, Option<String>, Option<String>);
    /// A case's caller: id, caller id, snapshot name, snapshot phone.
    type CaseCaller = (i64, Option<i64>, Option<String>, Option<String>);

    /// (as typed, as the migration and `engine::intake::normalize_phone` store it).
    const TYPED: &[(&str, &str)] = &[
        ("13800001234", "13800001234"),
        ("138-0000-1234", "13800001234"),
        (" +86 138 0000 1234 ", "13800001234"),
        ("0086 138-0000-1234", "13800001234"),
        ("(0371) 2698 1234", "037126981234"),
        ("+86 371 2698 1234", "037126981234"),
        ("+86 10 6234 5678", "01062345678"),
        ("+44 7911 123456", "+447911123456"),
        ("110", "110"),
    ];

    #[tokio::test]
    async fn migration_0190_normalizes_merges_and_snapshots() {
        for engine in test_engines() {
            let db = TestDb::new(engine).await;
            let pool = db.store.pool();
            let exec = |sql: &'static str| sqlx::query(sql).execute(pool);
            // Two callers who are one person, and one landline caller.
            exec(
                "INSERT INTO callers (id, phone, name, gender, created_at, updated_at) VALUES \
                 (1, '+8613800001234', '张三', NULL, 0, 0), \
                 (2, '13800001234', NULL, 'female', 0, 0), \
                 (3, '0371-26981234', '李四', NULL, 0, 0)",
            )
            .await
            .unwrap();
            for (id, caller) in [(1_i64, 1_i64), (2, 2), (3, 3)] {
                sqlx::query(
                    "INSERT INTO cases (id, public_id, channel, caller_id, content, priority, \
                     status, created_at, updated_at) \
                     VALUES ($1, $2, 'phone', $3, 'x', 'normal', 'received', 0, 0)",
                )
                .bind(id)
                .bind(format!("MS-T-{id}"))
                .bind(caller)
                .execute(pool)
                .await
                .unwrap();
            }
            for (i, (typed, _)) in TYPED.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO households (head_name, kind, phone, created_at, updated_at) \
                     VALUES ($1, 'dibao', $2, 0, 0)",
                )
                .bind(format!("户{i}"))
                .bind(*typed)
                .execute(pool)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO sms_messages (direction, phone, body, purpose, at) \
                     VALUES ('in', $1, $2, 'ignored', 0)",
                )
                .bind(*typed)
                .bind(format!("{i}"))
                .execute(pool)
                .await
                .unwrap();
            }
            for round in 0..2 {
                for stmt in migration_0190(engine) {
                    sqlx::query(&stmt).execute(pool).await.unwrap_or_else(|e| {
                        panic!("{engine:?} round {round}: {stmt}: {e}");
                    });
                }
                let callers: Vec<Caller> =
                    sqlx::query_as("SELECT id, phone, name, gender FROM callers ORDER BY id")
                        .fetch_all(pool)
                        .await
                        .unwrap();
                assert_eq!(
                    callers,
                    vec![
                        (
                            1,
                            Some("13800001234".into()),
                            Some("张三".into()),
                            Some("female".into())
                        ),
                        (3, Some("037126981234".into()), Some("李四".into()), None),
                    ],
                    "{engine:?} round {round}"
                );
                let cases: Vec<CaseCaller> = sqlx::query_as(
                    "SELECT id, caller_id, caller_name, caller_phone FROM cases ORDER BY id",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                assert_eq!(
                    cases,
                    vec![
                        (1, Some(1), Some("张三".into()), Some("13800001234".into())),
                        // Merged into caller 1, but the case keeps what it showed: no name.
                        (2, Some(1), None, Some("13800001234".into())),
                        (3, Some(3), Some("李四".into()), Some("037126981234".into())),
                    ],
                    "{engine:?} round {round}"
                );
                for table in ["households", "sms_messages"] {
                    let phones: Vec<(String,)> =
                        sqlx::query_as(&format!("SELECT phone FROM {table} ORDER BY id"))
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    let want: Vec<(String,)> =
                        TYPED.iter().map(|(_, n)| ((*n).to_string(),)).collect();
                    assert_eq!(phones, want, "{engine:?} {table} round {round}");
                }
            }
        }
    }
}
