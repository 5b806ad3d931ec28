/*!
The vulnerable-household registry (困难群体): personal data from grid surveys.

Every read of household records — one record, a list, or per-grid counts — writes an audit row
(actor, action, the ids read) in the same transaction as the read, and the rows are handed back
only after that transaction commits: an unaudited read cannot happen. Masking is not done here
(the store returns what is stored); the HTTP layer decides what a role may see.

Visibility by grid: a [`GridScope::Within`] read only sees households in those grid units or
below them (a grid worker's own cells).

Searching by the fields a masked view hides (head name, address, phone) is for the full view
only: a masked reader could otherwise learn them by asking (`q=张三` finding one row tells the
name). [`Store::household_list`] refuses it, audited as `household.search_denied` with the
search text hashed. Phone numbers are stored normalized (`engine::intake::normalize_phone`), so
a lookup by number ([`Store::household_flags`]) matches however it was typed.
*/

use serde::Serialize;

use super::audit::{NewAudit, record_audit};
use super::{Store, StoreError, WriteTx};
use crate::model::HouseholdKind;
use crate::model::Principal;
use crate::model::time::now_ms;
use crate::policy::access::GridScope;
use crate::policy::masking::audit_key;

/// One stored household.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdRecord {
    pub id: i64,
    pub head_name: String,
    pub kind: String,
    pub grid_code: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub members: Option<i64>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The writable fields of a household, already validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdInput {
    pub head_name: String,
    pub kind: HouseholdKind,
    pub grid_code: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub members: Option<i64>,
    pub address: Option<String>,
    pub notes: Option<String>,
}

/// List filters; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdQuery {
    pub kind: Option<HouseholdKind>,
    /// Grid unit code: households in this unit or below.
    pub grid: Option<String>,
    /// Case-insensitive substring of the head's name or the address (full view only).
    pub q: Option<String>,
    /// With `q`: the normalized phone number it spells, matched whole (no partial matching of
    /// a number).
    pub phone: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One (grid unit, kind) count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdCount {
    pub grid_code: Option<String>,
    pub kind: String,
    pub households: i64,
    /// Sum of `members` where recorded.
    pub members: i64,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
);

const COLUMNS: &str = "id, head_name, kind, grid_code, phone, id_number, members, address, notes, \
                       created_at, updated_at, version";

fn record(r: Row) -> HouseholdRecord {
    HouseholdRecord {
        id: r.0,
        head_name: r.1,
        kind: r.2,
        grid_code: r.3,
        phone: r.4,
        id_number: r.5,
        members: r.6,
        address: r.7,
        notes: r.8,
        created_at: r.9,
        updated_at: r.10,
        version: r.11,
    }
}

impl Store {
    /// Every grid unit code at or below `roots` (deduplicated, sorted).
    pub async fn grid_subtree(&self, roots: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for root in roots {
            let codes: Vec<(String,)> = sqlx::query_as(&format!(
                "{}SELECT code FROM subtree",
                super::directory::grid_subtree_cte("$1")
            ))
            .bind(root)
            .fetch_all(self.pool())
            .await?;
            out.extend(codes.into_iter().map(|(c,)| c));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Replaces the roots of a [`GridScope::Within`] by their whole subtrees.
    pub async fn expand_scope(&self, scope: &GridScope) -> Result<GridScope, StoreError> {
        Ok(match scope {
            GridScope::All => GridScope::All,
            GridScope::Within(roots) => GridScope::Within(self.grid_subtree(roots).await?),
        })
    }

    /// Creates a household record (audited as `household.create`).
    pub async fn household_create(
        &self,
        input: &HouseholdInput,
        actor: &Principal,
    ) -> Result<HouseholdRecord, StoreError> {
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO households (head_name, kind, grid_code, phone, id_number, members, \
             address, notes, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1) RETURNING id",
        )
        .bind(&input.head_name)
        .bind(input.kind.as_str())
        .bind(&input.grid_code)
        .bind(&input.phone)
        .bind(&input.id_number)
        .bind(input.members)
        .bind(&input.address)
        .bind(&input.notes)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        audit(&mut tx, actor, "household.create", &[id]).await?;
        let rec = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Replaces a household's fields (audited as `household.update`). `scope` is the writer's
    /// grid scope: a record outside it is [`StoreError::NotFound`].
    pub async fn household_update(
        &self,
        id: i64,
        input: &HouseholdInput,
        expected_version: Option<i64>,
        scope: &GridScope,
        actor: &Principal,
    ) -> Result<HouseholdRecord, StoreError> {
        let scope = self.expand_scope(scope).await?;
        let mut tx = self.write().await?;
        let current = fetch(&mut tx, id).await?;
        if !in_scope(&scope, current.grid_code.as_deref()) {
            return Err(StoreError::NotFound);
        }
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(StoreError::Conflict(format!(
                "household {id} is at version {}, not {v}",
                current.version
            )));
        }
        let result = sqlx::query(
            "UPDATE households SET head_name = $1, kind = $2, grid_code = $3, phone = $4, \
             id_number = $5, members = $6, address = $7, notes = $8, updated_at = $9, \
             version = version + 1 WHERE id = $10 AND version = $11",
        )
        .bind(&input.head_name)
        .bind(input.kind.as_str())
        .bind(&input.grid_code)
        .bind(&input.phone)
        .bind(&input.id_number)
        .bind(input.members)
        .bind(&input.address)
        .bind(&input.notes)
        .bind(now_ms())
        .bind(id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "household {id} changed concurrently"
            )));
        }
        audit(&mut tx, actor, "household.update", &[id]).await?;
        let rec = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Reads one household (audited as `household.read`, with `view` saying full or masked).
    /// Outside `scope` it is [`StoreError::NotFound`] and the attempt is audited too.
    pub async fn household_read(
        &self,
        id: i64,
        scope: &GridScope,
        view: &str,
        actor: &Principal,
    ) -> Result<HouseholdRecord, StoreError> {
        let scope = self.expand_scope(scope).await?;
        let mut tx = self.write().await?;
        let found = match fetch(&mut tx, id).await {
            Ok(rec) if in_scope(&scope, rec.grid_code.as_deref()) => Some(rec),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let target = format!("household:{id}");
        let action = if found.is_some() {
            "household.read"
        } else {
            "household.read_denied"
        };
        record_audit(
            &mut tx,
            &NewAudit::by(actor, action, Some(&target))
                .with_detail(serde_json::json!({ "ids": [id], "view": view })),
        )
        .await?;
        tx.commit().await?;
        found.ok_or(StoreError::NotFound)
    }

    /// Lists households in `scope` matching `query` (audited as `household.list` with every id
    /// returned), plus the total match count.
    pub async fn household_list(
        &self,
        query: &HouseholdQuery,
        scope: &GridScope,
        view: &str,
        actor: &Principal,
    ) -> Result<(Vec<HouseholdRecord>, i64), StoreError> {
        if view != "full" && query.q.is_some() {
            self.household_refused(
                actor,
                "household.search_denied",
                None,
                query.q.as_deref(),
                view,
            )
            .await?;
            return Err(StoreError::Invalid(
                "searching by name, address or phone needs the full view of the registry".into(),
            ));
        }
        let allowed = match self.expand_scope(scope).await? {
            GridScope::All => None,
            GridScope::Within(codes) => Some(codes),
        };
        // Fixed filters are $1..$4; the scope adds one placeholder per allowed code, so the
        // statement stays parameterized however many cells a worker has.
        let mut filter = String::from(
            "FROM households WHERE ($1 IS NULL OR kind = $1) \
             AND ($2 IS NULL OR grid_code IN (SELECT code FROM subtree)) \
             AND ($3 IS NULL OR LOWER(head_name) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(address, '')) LIKE $3 ESCAPE '\\' OR phone = $4)",
        );
        if let Some(codes) = &allowed {
            if codes.is_empty() {
                filter.push_str(" AND 1 = 0");
            } else {
                let marks: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 5)).collect();
                filter.push_str(&format!(" AND grid_code IN ({})", marks.join(", ")));
            }
        }
        let cte = super::directory::grid_subtree_cte("$2");
        let next = 5 + allowed.as_ref().map_or(0, Vec::len);
        let pattern = query.q.as_deref().map(super::directory::like_pattern);
        let kind = query.kind.map(HouseholdKind::as_str);

        let mut tx = self.write().await?;
        let count_sql = format!("{cte}SELECT COUNT(*) {filter}");
        let mut count = sqlx::query_as::<_, (i64,)>(&count_sql)
            .bind(kind)
            .bind(&query.grid)
            .bind(&pattern)
            .bind(query.phone.clone().filter(|_| query.q.is_some()));
        for c in allowed.iter().flatten() {
            count = count.bind(c);
        }
        let (total,) = count.fetch_one(&mut *tx).await?;

        let list_sql = format!(
            "{cte}SELECT {COLUMNS} {filter} ORDER BY grid_code, head_name, id LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let mut list = sqlx::query_as::<_, Row>(&list_sql)
            .bind(kind)
            .bind(&query.grid)
            .bind(&pattern)
            .bind(query.phone.clone().filter(|_| query.q.is_some()));
        for c in allowed.iter().flatten() {
            list = list.bind(c);
        }
        let rows: Vec<HouseholdRecord> = list
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(record)
            .collect();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        record_audit(
            &mut tx,
            &NewAudit::by(actor, "household.list", Some("household:*")).with_detail(
                serde_json::json!({
                    "ids": ids,
                    "view": view,
                    "filter": {"kind": kind, "grid": query.grid,
                               "q": query.q.as_deref().map(audit_key)},
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((rows, total))
    }

    /// Records a refused read of the registry (`household.read_denied`, `household.search_denied`):
    /// who, in which view, and the key asked for hashed ([`audit_key`]) — never the key itself,
    /// so the log of refusals is no copy of the personal data it protects.
    pub async fn household_refused(
        &self,
        actor: &Principal,
        action: &str,
        id: Option<i64>,
        key: Option<&str>,
        view: &str,
    ) -> Result<(), StoreError> {
        let target = id.map_or_else(|| "household:*".to_string(), |id| format!("household:{id}"));
        self.audit(
            &NewAudit::by(actor, action, Some(&target)).with_detail(serde_json::json!({
                "role": actor.role.as_str(),
                "view": view,
                "ids": id.into_iter().collect::<Vec<_>>(),
                "key": key.map(audit_key),
            })),
        )
        .await?;
        Ok(())
    }

    /// The screen pop's vulnerable-household flag: `(kind, grid unit)` of the households with this
    /// (normalized) phone number. A hit is audited as `household.flag` with the full number hashed
    /// ([`audit_key`]: the row says which number was flagged without holding it) and the ids.
    pub async fn household_flags(
        &self,
        phone: &str,
        actor: &Principal,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        // Read outside a write transaction: most numbers are on no household, and a screen pop
        // should not queue behind (or hold) the writer for nothing. A hit is audited before it
        // is returned.
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, kind, grid_code FROM households WHERE phone = $1 ORDER BY id LIMIT 10",
        )
        .bind(phone)
        .fetch_all(self.pool())
        .await?;
        if !rows.is_empty() {
            let target = format!("phone:{}", audit_key(phone));
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            self.audit(
                &NewAudit::by(actor, "household.flag", Some(&target))
                    .with_detail(serde_json::json!({ "ids": ids })),
            )
            .await?;
        }
        Ok(rows
            .into_iter()
            .map(|(_, kind, grid)| (kind, grid))
            .collect())
    }

    /// Household counts per grid unit and kind (no personal data), audited as
    /// `household.counts`.
    pub async fn household_counts(
        &self,
        actor: &Principal,
    ) -> Result<Vec<HouseholdCount>, StoreError> {
        let mut tx = self.write().await?;
        let rows: Vec<(Option<String>, String, i64, i64)> = sqlx::query_as(
            "SELECT grid_code, kind, COUNT(*), CAST(COALESCE(SUM(members), 0) AS BIGINT) \
             FROM households GROUP BY grid_code, kind ORDER BY grid_code, kind",
        )
        .fetch_all(&mut *tx)
        .await?;
        record_audit(
            &mut tx,
            &NewAudit::by(actor, "household.counts", Some("household:*")),
        )
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(grid_code, kind, households, members)| HouseholdCount {
                grid_code,
                kind,
                households,
                members,
            })
            .collect())
    }
}

/// Whether a record in `grid` is visible in an expanded `scope` (see [`Store::expand_scope`]).
pub(super) fn in_scope(scope: &GridScope, grid: Option<&str>) -> bool {
    match scope {
        GridScope::All => true,
        GridScope::Within(codes) => grid.is_some_and(|g| codes.iter().any(|c| c == g)),
    }
}

pub(super) async fn fetch(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<HouseholdRecord, StoreError> {
    let row: Row = sqlx::query_as(&format!("SELECT {COLUMNS} FROM households WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(record(row))
}

async fn audit(
    tx: &mut WriteTx,
    actor: &Principal,
    action: &str,
    ids: &[i64],
) -> Result<(), StoreError> {
    let target = match ids {
        [one] => format!("household:{one}"),
        _ => "household:*".to_string(),
    };
    record_audit(
        tx,
        &NewAudit::by(actor, action, Some(&target)).with_detail(serde_json::json!({ "ids": ids })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DirectorySystem;
    use crate::model::Role;
    use crate::store::audit::AuditFilter;
    use crate::store::directory::{DirectoryInput, DirectoryQuery};
    use crate::store::testdb::{TestDb, test_engines};
    use crate::store::users::NewUser;

    /// Two townships, two villages under the first; an admin and a grid worker of village 1.
    async fn seed(store: &Store) -> (Principal, Principal) {
        let pool = store.pool();
        for (level, key, name) in [(1_i64, "township", "乡镇"), (2, "village", "村")] {
            sqlx::query("INSERT INTO grid_tiers (level, key, name) VALUES ($1, $2, $3)")
                .bind(level)
                .bind(key)
                .bind(name)
                .execute(pool)
                .await
                .unwrap();
        }
        for (i, (code, parent, tier)) in [
            ("350781001", None, 1_i64),
            ("350781002", None, 1),
            ("350781001001", Some("350781001"), 2),
            ("350781001002", Some("350781001"), 2),
        ]
        .into_iter()
        .enumerate()
        {
            sqlx::query(
                "INSERT INTO grid_units (code, name, parent_code, tier, generated, position) \
                 VALUES ($1, $2, $3, $4, 0, $5)",
            )
            .bind(code)
            .bind(format!("网格{code}"))
            .bind(parent)
            .bind(tier)
            .bind(i as i64)
            .execute(pool)
            .await
            .unwrap();
        }
        let mut principals = Vec::new();
        for (name, role, grids) in [
            ("admin", Role::Admin, vec![]),
            ("gw", Role::GridWorker, vec!["350781001001".to_string()]),
        ] {
            let id = store
                .create_user(
                    &NewUser {
                        name: name.into(),
                        role,
                        unit_id: None,
                        grid_codes: grids,
                        password_hash: None,
                    },
                    &NewAudit::system("test", "user.create", None),
                )
                .await
                .unwrap();
            principals.push(store.principal(id).await.unwrap());
        }
        let gw = principals.pop().unwrap();
        (principals.pop().unwrap(), gw)
    }

    fn household(name: &str, kind: HouseholdKind, grid: &str) -> HouseholdInput {
        HouseholdInput {
            head_name: name.into(),
            kind,
            grid_code: Some(grid.into()),
            phone: Some("13812345678".into()),
            id_number: Some("11010519491231002X".into()),
            members: Some(2),
            address: Some("水北街".into()),
            notes: None,
        }
    }

    async fn audit_count(store: &Store, action: &str) -> usize {
        store
            .audit_entries(&AuditFilter {
                action: Some(action.into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .len()
    }

    #[tokio::test]
    async fn household_reads_are_scoped_and_audited() {
        for engine in test_engines() {
            let db = TestDb::new(engine).await;
            let store = &db.store;
            let (admin, gw) = seed(store).await;
            let a = store
                .household_create(
                    &household("张三", HouseholdKind::Dibao, "350781001001"),
                    &admin,
                )
                .await
                .unwrap();
            let b = store
                .household_create(
                    &household("李四", HouseholdKind::Entitled, "350781002"),
                    &admin,
                )
                .await
                .unwrap();
            assert_eq!(audit_count(store, "household.create").await, 2);

            let q = HouseholdQuery {
                limit: 50,
                ..HouseholdQuery::default()
            };
            let (all, total) = store
                .household_list(&q, &GridScope::All, "full", &admin)
                .await
                .unwrap();
            assert_eq!((all.len(), total), (2, 2), "{engine:?}");
            // The grid worker of village 350781001001 sees only that village.
            let scope = GridScope::Within(gw.grid_codes.clone());
            let (mine, total) = store.household_list(&q, &scope, "full", &gw).await.unwrap();
            assert_eq!(total, 1);
            assert_eq!(mine[0].id, a.id);
            // A township filter finds the villages below it.
            let (t, _) = store
                .household_list(
                    &HouseholdQuery {
                        grid: Some("350781001".into()),
                        q: Some("张".into()),
                        kind: Some(HouseholdKind::Dibao),
                        ..q.clone()
                    },
                    &GridScope::All,
                    "full",
                    &admin,
                )
                .await
                .unwrap();
            assert_eq!(t.len(), 1);
            assert_eq!(audit_count(store, "household.list").await, 3);
            // The whole number finds the household; a part of it does not.
            let q_all = q.clone();
            let by_phone = |q: &str, phone: Option<&str>| HouseholdQuery {
                q: Some(q.into()),
                phone: phone.map(Into::into),
                ..q_all.clone()
            };
            let (found, _) = store
                .household_list(
                    &by_phone("13812345678", Some("13812345678")),
                    &GridScope::All,
                    "full",
                    &admin,
                )
                .await
                .unwrap();
            assert_eq!(found.len(), 2, "{engine:?}");
            let (found, _) = store
                .household_list(&by_phone("1234567", None), &GridScope::All, "full", &admin)
                .await
                .unwrap();
            assert!(found.is_empty());
            // A masked reader may not search by name: refused, and the refusal audited with
            // the search text hashed.
            assert!(matches!(
                store
                    .household_list(&by_phone("张三", None), &GridScope::All, "masked", &admin)
                    .await,
                Err(StoreError::Invalid(_))
            ));
            let refused = store
                .audit_entries(&AuditFilter {
                    action: Some("household.search_denied".into()),
                    ..AuditFilter::default()
                })
                .await
                .unwrap();
            assert_eq!(refused.len(), 1);
            let detail = refused[0].detail.clone().unwrap_or_default().to_string();
            assert!(
                !detail.contains("张三") && detail.contains("sha256:"),
                "{detail}"
            );
            // The screen pop's flag: a hit audited with the number hashed.
            let flags = store.household_flags("13812345678", &admin).await.unwrap();
            assert_eq!(flags.len(), 2);
            assert!(
                store
                    .household_flags("13800000000", &admin)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let flagged = store
                .audit_entries(&AuditFilter {
                    action: Some("household.flag".into()),
                    ..AuditFilter::default()
                })
                .await
                .unwrap();
            assert_eq!(flagged.len(), 1);
            assert_eq!(
                flagged[0].target.as_deref(),
                Some(format!("phone:{}", audit_key("13812345678")).as_str())
            );

            assert_eq!(
                store
                    .household_read(a.id, &scope, "full", &gw)
                    .await
                    .unwrap()
                    .head_name,
                "张三"
            );
            assert!(matches!(
                store.household_read(b.id, &scope, "full", &gw).await,
                Err(StoreError::NotFound)
            ));
            let denied = store
                .audit_entries(&AuditFilter {
                    action: Some("household.read_denied".into()),
                    ..AuditFilter::default()
                })
                .await
                .unwrap();
            assert_eq!(denied.len(), 1);
            assert_eq!(denied[0].actor_id, Some(gw.user_id));
            assert_eq!(
                denied[0].target.as_deref(),
                Some(format!("household:{}", b.id).as_str())
            );

            // A stale version is a conflict and changes nothing.
            let mut changed = household("张三丰", HouseholdKind::Dibao, "350781001001");
            changed.members = Some(3);
            let updated = store
                .household_update(a.id, &changed, Some(1), &scope, &gw)
                .await
                .unwrap();
            assert_eq!((updated.version, updated.members), (2, Some(3)));
            assert!(matches!(
                store
                    .household_update(a.id, &changed, Some(1), &scope, &gw)
                    .await,
                Err(StoreError::Conflict(_))
            ));
            let counts = store.household_counts(&admin).await.unwrap();
            assert_eq!(counts.iter().map(|c| c.households).sum::<i64>(), 2);
            assert_eq!(counts.iter().map(|c| c.members).sum::<i64>(), 5);
            assert_eq!(audit_count(store, "household.counts").await, 1);
        }
    }

    #[tokio::test]
    async fn directory_crud_and_search() {
        for engine in test_engines() {
            let db = TestDb::new(engine).await;
            let store = &db.store;
            let (admin, _) = seed(store).await;
            let input = |name: &str, category: &str, grid: Option<&str>| DirectoryInput {
                name: name.into(),
                category: Some(category.into()),
                phone: Some("0599-6321234".into()),
                grid_code: grid.map(Into::into),
                qualification: Some("营业执照".into()),
                status: "active".into(),
                ..DirectoryInput::default()
            };
            let mp = DirectorySystem::MarketProviders;
            let a = store
                .directory_create(
                    mp,
                    &input("好帮手家政_50%", "housekeeping", Some("350781001001")),
                    &admin,
                )
                .await
                .unwrap();
            store
                .directory_create(mp, &input("快修水电", "repairs", Some("350781002")), &admin)
                .await
                .unwrap();
            store
                .directory_create(
                    DirectorySystem::GovernmentServices,
                    &input("民政局", "welfare", None),
                    &admin,
                )
                .await
                .unwrap();
            let q = DirectoryQuery {
                limit: 50,
                ..DirectoryQuery::default()
            };
            let (all, total) = store.directory_search(&q).await.unwrap();
            assert_eq!((all.len(), total), (3, 3), "{engine:?}");
            let (mps, _) = store
                .directory_search(&DirectoryQuery {
                    system: Some(mp),
                    ..q.clone()
                })
                .await
                .unwrap();
            assert_eq!(mps.len(), 2);
            // LIKE metacharacters in q match literally.
            let (lit, _) = store
                .directory_search(&DirectoryQuery {
                    q: Some("_50%".into()),
                    ..q.clone()
                })
                .await
                .unwrap();
            assert_eq!(lit.len(), 1);
            let (none, _) = store
                .directory_search(&DirectoryQuery {
                    q: Some("_5_%".into()),
                    ..q.clone()
                })
                .await
                .unwrap();
            assert!(none.is_empty());
            let (in_township, _) = store
                .directory_search(&DirectoryQuery {
                    grid: Some("350781001".into()),
                    ..q.clone()
                })
                .await
                .unwrap();
            assert_eq!(in_township.len(), 1);
            assert_eq!(in_township[0].id, a.id);
            // Paging: total stays the full count.
            let (page, total) = store
                .directory_search(&DirectoryQuery {
                    limit: 1,
                    offset: 1,
                    ..q.clone()
                })
                .await
                .unwrap();
            assert_eq!((page.len(), total), (1, 3));

            let mut suspended = input("好帮手家政_50%", "housekeeping", Some("350781001001"));
            suspended.status = "suspended".into();
            let u = store
                .directory_update(mp, a.id, &suspended, Some(1), &admin)
                .await
                .unwrap();
            assert_eq!((u.status.as_str(), u.version), ("suspended", 2));
            assert!(matches!(
                store
                    .directory_update(mp, a.id, &suspended, Some(1), &admin)
                    .await,
                Err(StoreError::Conflict(_))
            ));
            assert!(matches!(
                store
                    .directory_get(DirectorySystem::WelfareFacilities, a.id)
                    .await,
                Err(StoreError::NotFound)
            ));
            store.directory_delete(mp, a.id, &admin).await.unwrap();
            assert!(matches!(
                store.directory_get(mp, a.id).await,
                Err(StoreError::NotFound)
            ));
            for action in ["directory.create", "directory.update", "directory.delete"] {
                assert!(audit_count(store, action).await >= 1, "{action}");
            }
        }
    }
}
