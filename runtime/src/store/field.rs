/*!
The grid worker's field work in the database (migration 0140): patrol reports' idempotency keys,
the close of a report settled on the spot (就地解决), and household visits (走访).

A report key is written in the intake transaction that creates its case ([`insert_report_key`]):
if the key is already there the insert does nothing and intake rolls the whole case back, so two
sends of one report — however close together — leave one case. A visit is written with its
household's changes and an audit row (`household.visit`, the fields before and after) in one
transaction, like every household write.
*/

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::AnyConnection;

use super::audit::{NewAudit, record_audit};
use super::households::{HouseholdRecord, fetch, in_scope};
use super::{Store, StoreError};
use crate::model::Principal;
use crate::policy::access::GridScope;

/// What a grid worker found on a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// 情况稳定.
    Stable,
    /// 需要帮扶: the visit found a need (a case may be reported with it).
    NeedsHelp,
    /// 未遇到: nobody at home.
    Absent,
    /// 已搬离: the household no longer lives there.
    Moved,
}

impl Situation {
    pub const ALL: [Situation; 4] = [
        Situation::Stable,
        Situation::NeedsHelp,
        Situation::Absent,
        Situation::Moved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Stable => "stable",
            Situation::NeedsHelp => "needs_help",
            Situation::Absent => "absent",
            Situation::Moved => "moved",
        }
    }

    pub fn parse(s: &str) -> Option<Situation> {
        Situation::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A visit to record, already checked by the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisit {
    pub situation: Situation,
    pub notes: Option<String>,
    /// Registry fields the visit corrects (`None`: unchanged).
    pub members: Option<i64>,
    pub phone: Option<String>,
    pub household_notes: Option<String>,
    /// A case reported from this visit.
    pub case_id: Option<i64>,
}

/// A stored visit, with the visitor's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitRow {
    pub id: i64,
    pub household_id: i64,
    pub visitor: Option<String>,
    pub visited_at: i64,
    pub situation: String,
    pub notes: Option<String>,
    pub case_public_id: Option<String>,
}

/// Marks a case just inserted as closed on the spot (replied and closed now).
pub async fn close_on_spot(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET replied_at = $1, closed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores a report's key with its case; `false` when the key was stored before (nothing
/// written — the caller rolls back).
pub async fn insert_report_key(
    conn: &mut AnyConnection,
    key: &str,
    user_id: i64,
    case_id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO report_keys (key, user_id, case_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(user_id)
    .bind(case_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    /// The case a report key made, with the user who sent it: `(user id, case public id)`.
    pub async fn report_key_case(&self, key: &str) -> Result<Option<(i64, String)>, StoreError> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT k.user_id, c.public_id FROM report_keys k JOIN cases c ON c.id = k.case_id \
             WHERE k.key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Records a visit to household `id` and the registry fields it corrects, audited as
    /// `household.visit` with those fields before and after. Outside `scope` it is
    /// [`StoreError::NotFound`] (and nothing is written).
    pub async fn household_visit(
        &self,
        id: i64,
        visit: &NewVisit,
        scope: &GridScope,
        actor: &Principal,
        now: i64,
    ) -> Result<(HouseholdRecord, i64), StoreError> {
        let scope = self.expand_scope(scope).await?;
        let mut tx = self.write().await?;
        let before = fetch(&mut tx, id).await?;
        if !in_scope(&scope, before.grid_code.as_deref()) {
            return Err(StoreError::NotFound);
        }
        let mut changed = Map::new();
        let mut members = before.members;
        let mut phone = before.phone.clone();
        let mut notes = before.notes.clone();
        if let Some(m) = visit.members.filter(|m| Some(*m) != before.members) {
            changed.insert(
                "members".into(),
                json!({"before": before.members, "after": m}),
            );
            members = Some(m);
        }
        if let Some(p) = visit
            .phone
            .as_ref()
            .filter(|p| Some(*p) != before.phone.as_ref())
        {
            // The audit log says that the phone changed, never the numbers.
            changed.insert("phone".into(), json!({"changed": true}));
            phone = Some(p.clone());
        }
        if let Some(n) = visit
            .household_notes
            .as_ref()
            .filter(|n| Some(*n) != before.notes.as_ref())
        {
            changed.insert("notes".into(), json!({"changed": true}));
            notes = Some(n.clone());
        }
        if !changed.is_empty() {
            sqlx::query(
                "UPDATE households SET members = $1, phone = $2, notes = $3, updated_at = $4, \
                 version = version + 1 WHERE id = $5",
            )
            .bind(members)
            .bind(phone)
            .bind(notes)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let (visit_id,): (i64,) = sqlx::query_as(
            "INSERT INTO household_visits (household_id, user_id, visited_at, situation, notes, \
             case_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $3) RETURNING id",
        )
        .bind(id)
        .bind(actor.user_id)
        .bind(now)
        .bind(visit.situation.as_str())
        .bind(visit.notes.clone())
        .bind(visit.case_id)
        .fetch_one(&mut *tx)
        .await?;
        let target = format!("household:{id}");
        record_audit(
            &mut tx,
            &NewAudit::by(actor, "household.visit", Some(&target)).with_detail(json!({
                "ids": [id],
                "visit": visit_id,
                "situation": visit.situation.as_str(),
                "changed": Value::Object(changed),
            })),
        )
        .await?;
        let after = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok((after, visit_id))
    }

    /// The visits to household `id`, newest first (the caller has read the household, audited).
    pub async fn household_visits(&self, id: i64) -> Result<Vec<VisitRow>, StoreError> {
        type Read = (
            i64,
            i64,
            Option<String>,
            i64,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Read> = sqlx::query_as(
            "SELECT v.id, v.household_id, COALESCE(u.real_name, u.name), v.visited_at, \
             v.situation, v.notes, c.public_id FROM household_visits v \
             LEFT JOIN users u ON u.id = v.user_id LEFT JOIN cases c ON c.id = v.case_id \
             WHERE v.household_id = $1 ORDER BY v.visited_at DESC, v.id DESC",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| VisitRow {
                id: r.0,
                household_id: r.1,
                visitor: r.2,
                visited_at: r.3,
                situation: r.4,
                notes: r.5,
                case_public_id: r.6,
            })
            .collect())
    }

    /// The last visit time of each of `ids` that was ever visited.
    pub async fn last_visits(&self, ids: &[i64]) -> Result<HashMap<i64, i64>, StoreError> {
        let mut out = HashMap::new();
        // Chunked: a grid worker's cells hold hundreds of households, not tens of thousands.
        for chunk in ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT household_id, MAX(visited_at) FROM household_visits \
                 WHERE household_id IN ({}) GROUP BY household_id",
                marks.join(", ")
            );
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            out.extend(q.fetch_all(self.pool()).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn situations_round_trip() {
        for s in Situation::ALL {
            assert_eq!(Situation::parse(s.as_str()), Some(s));
        }
        assert_eq!(Situation::parse("gone"), None);
    }
}
