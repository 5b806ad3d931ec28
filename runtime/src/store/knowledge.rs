/*!
The knowledge base (知识库, table `knowledge_entries`): answers the center gives to consultations
(答疑解惑) — question, answer, category, the unit the answer comes from, the last day it holds.
Entries are retired, never deleted (a case answered from one keeps pointing at it); `answered`
counts the cases closed on the call from an entry (`engine::actions`, in the answer's
transaction). Edits bump `version` (optimistic concurrency) and `updated_at`, which together are
the [`KnowledgeStamp`] a process compares to know its search index is stale.
*/

use serde::Serialize;
use sqlx::AnyConnection;

use super::{Store, StoreError};

/// The fields an editor writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KnowledgeFields {
    pub question: String,
    pub answer: String,
    pub category_code: Option<String>,
    pub source_unit: Option<String>,
    /// `YYYY-MM-DD` (Asia/Shanghai), the last day the answer holds; `None`: no end.
    pub valid_until: Option<String>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnowledgeEntry {
    pub id: i64,
    #[serde(flatten)]
    pub fields: KnowledgeFields,
    pub active: bool,
    /// Cases answered on the call from this entry.
    pub answered: i64,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: i64,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
    pub updated_at: i64,
}

/// What changes when any entry is written: (rows, latest `updated_at`, sum of versions).
pub type KnowledgeStamp = (i64, i64, i64);

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnowledgeFilter {
    /// Retired ones too.
    pub include_retired: bool,
    pub category: Option<String>,
    /// Substring of the question or the answer.
    pub text: Option<String>,
    pub limit: i64,
}

const COLUMNS: &str = "k.id, k.question, k.answer, k.category_code, k.source_unit, \
    k.valid_until, k.active, k.answered, k.version, k.created_by, COALESCE(cu.real_name, cu.name), k.created_at, \
    k.updated_by, COALESCE(uu.real_name, uu.name), k.updated_at";
const FROM: &str = "knowledge_entries k LEFT JOIN users cu ON cu.id = k.created_by \
    LEFT JOIN users uu ON uu.id = k.updated_by";

fn from_row(row: &sqlx::any::AnyRow) -> Result<KnowledgeEntry, StoreError> {
    use sqlx::Row as _;
    Ok(KnowledgeEntry {
        id: row.try_get(0)?,
        fields: KnowledgeFields {
            question: row.try_get(1)?,
            answer: row.try_get(2)?,
            category_code: row.try_get(3)?,
            source_unit: row.try_get(4)?,
            valid_until: row.try_get(5)?,
        },
        active: row.try_get::<i64, _>(6)? != 0,
        answered: row.try_get(7)?,
        version: row.try_get(8)?,
        created_by: row.try_get(9)?,
        created_by_name: row.try_get(10)?,
        created_at: row.try_get(11)?,
        updated_by: row.try_get(12)?,
        updated_by_name: row.try_get(13)?,
        updated_at: row.try_get(14)?,
    })
}

/// Inserts an entry in the caller's transaction; its id.
pub async fn insert_entry(
    conn: &mut AnyConnection,
    f: &KnowledgeFields,
    actor: i64,
    now: i64,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO knowledge_entries (question, answer, category_code, source_unit, \
         valid_until, active, answered, version, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, 0, 1, $6, $7, $6, $7) RETURNING id",
    )
    .bind(&f.question)
    .bind(&f.answer)
    .bind(f.category_code.clone())
    .bind(f.source_unit.clone())
    .bind(f.valid_until.clone())
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Replaces an entry's fields (and its active flag) at `expected_version` in the caller's
/// transaction; a stale version is a [`StoreError::Conflict`] and nothing is written.
pub async fn update_entry(
    conn: &mut AnyConnection,
    id: i64,
    f: &KnowledgeFields,
    active: bool,
    expected_version: i64,
    actor: i64,
    now: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE knowledge_entries SET question = $1, answer = $2, category_code = $3, \
         source_unit = $4, valid_until = $5, active = $6, updated_by = $7, updated_at = $8, \
         version = version + 1 WHERE id = $9 AND version = $10",
    )
    .bind(&f.question)
    .bind(&f.answer)
    .bind(f.category_code.clone())
    .bind(f.source_unit.clone())
    .bind(f.valid_until.clone())
    .bind(i64::from(active))
    .bind(actor)
    .bind(now)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "knowledge entry {id} changed since version {expected_version}"
        )))
    }
}

/// Counts one more case answered from entry `id` (the answer's transaction). Neither `version`
/// nor `updated_at` move: a use is not an edit.
pub async fn count_answer(conn: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE knowledge_entries SET answered = answered + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One entry, read in the caller's transaction.
pub async fn entry_in(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<KnowledgeEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE k.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

impl Store {
    /// One entry.
    pub async fn knowledge_entry(&self, id: i64) -> Result<Option<KnowledgeEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE k.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Entries matching `f`, the most recently edited first.
    pub async fn knowledge_entries(
        &self,
        f: &KnowledgeFilter,
    ) -> Result<Vec<KnowledgeEntry>, StoreError> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = Vec::new();
        if !f.include_retired {
            conds.push("k.active = 1".into());
        }
        if let Some(c) = &f.category {
            binds.push(c.clone());
            conds.push(format!("k.category_code = ${}", binds.len()));
        }
        if let Some(t) = &f.text {
            // LIKE metacharacters typed by a person are literal text.
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            binds.push(format!("%{escaped}%"));
            let n = binds.len();
            conds.push(format!(
                "(k.question LIKE ${n} ESCAPE '\\' OR k.answer LIKE ${n} ESCAPE '\\')"
            ));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE {} ORDER BY k.updated_at DESC, k.id DESC LIMIT {}",
            conds.join(" AND "),
            f.limit.clamp(1, 5000)
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// The stamp of the whole table (see [`KnowledgeStamp`]).
    pub async fn knowledge_stamp(&self) -> Result<KnowledgeStamp, StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MAX(updated_at), 0), \
             CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM knowledge_entries",
        )
        .fetch_one(self.pool())
        .await?)
    }
}
