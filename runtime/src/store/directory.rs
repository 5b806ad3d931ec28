/*!
Directory entries of the four directory data systems (government services, welfare facilities,
social organizations and volunteers, market providers): create, read, update, delete, search.

Writes record an audit row in the same transaction, so an entry and the record of who changed it
commit together. Updates use the `version` column for optimistic concurrency: a stale version is
a [`StoreError::Conflict`]. Search is one fixed, fully parameterized statement; the grid filter
matches the unit and everything below it (a township finds its villages' entries).
*/

use serde::Serialize;

use super::audit::{NewAudit, record_audit};
use super::{Store, StoreError, WriteTx};
use crate::model::DirectorySystem;
use crate::model::Principal;
use crate::model::time::now_ms;

/// Status of a directory entry. Market providers can be suspended (停用) after complaints;
/// suspended entries stay searchable for history but are not dispatch targets.
pub const STATUSES: [&str; 2] = ["active", "suspended"];

/// One stored directory entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryRecord {
    pub id: i64,
    pub system: String,
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid_code: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: String,
    pub unit_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The writable fields of an entry, already validated by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryInput {
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid_code: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: String,
    pub unit_id: Option<String>,
}

/// Search filters; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryQuery {
    pub system: Option<DirectorySystem>,
    /// Case-insensitive substring of name, category, description, address or qualification.
    pub q: Option<String>,
    pub category: Option<String>,
    /// Grid unit code: entries in this unit or any unit below it.
    pub grid: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    i64,
    i64,
    i64,
);

const COLUMNS: &str = "id, system, name, category, phone, address, grid_code, description, \
                       qualification, status, unit_id, created_at, updated_at, version";

fn record(r: Row) -> DirectoryRecord {
    DirectoryRecord {
        id: r.0,
        system: r.1,
        name: r.2,
        category: r.3,
        phone: r.4,
        address: r.5,
        grid_code: r.6,
        description: r.7,
        qualification: r.8,
        status: r.9,
        unit_id: r.10,
        created_at: r.11,
        updated_at: r.12,
        version: r.13,
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The subtree of a grid unit as a recursive CTE named `subtree(code)`, rooted at the
/// placeholder `root` (e.g. `$1`); prefix it to a statement that filters on `subtree`.
pub(crate) fn grid_subtree_cte(root: &str) -> String {
    format!(
        "WITH RECURSIVE subtree(code) AS (SELECT code FROM grid_units WHERE code = {root} \
         UNION ALL SELECT g.code FROM grid_units g JOIN subtree s ON g.parent_code = s.code) "
    )
}

impl Store {
    /// Creates an entry; returns it with its id.
    pub async fn directory_create(
        &self,
        system: DirectorySystem,
        input: &DirectoryInput,
        actor: &Principal,
    ) -> Result<DirectoryRecord, StoreError> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO directory_entries (system, name, category, phone, address, grid_code, \
             description, qualification, status, unit_id, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1) RETURNING id",
        )
        .bind(system.as_str())
        .bind(&input.name)
        .bind(&input.category)
        .bind(&input.phone)
        .bind(&input.address)
        .bind(&input.grid_code)
        .bind(&input.description)
        .bind(&input.qualification)
        .bind(&input.status)
        .bind(&input.unit_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        audit_write(&mut tx, actor, "directory.create", id, system).await?;
        let rec = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// One entry of `system`; [`StoreError::NotFound`] when the id belongs to another system.
    pub async fn directory_get(
        &self,
        system: DirectorySystem,
        id: i64,
    ) -> Result<DirectoryRecord, StoreError> {
        let rec = fetch(&mut *self.pool().acquire().await?, id).await?;
        if rec.system != system.as_str() {
            return Err(StoreError::NotFound);
        }
        Ok(rec)
    }

    /// Replaces the writable fields of an entry. With `expected_version`, a concurrent change
    /// since that version is a [`StoreError::Conflict`] and nothing is written.
    pub async fn directory_update(
        &self,
        system: DirectorySystem,
        id: i64,
        input: &DirectoryInput,
        expected_version: Option<i64>,
        actor: &Principal,
    ) -> Result<DirectoryRecord, StoreError> {
        let mut tx = self.write().await?;
        let current = fetch(&mut tx, id).await?;
        if current.system != system.as_str() {
            return Err(StoreError::NotFound);
        }
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(StoreError::Conflict(format!(
                "entry {id} is at version {}, not {v}",
                current.version
            )));
        }
        let result = sqlx::query(
            "UPDATE directory_entries SET name = $1, category = $2, phone = $3, address = $4, \
             grid_code = $5, description = $6, qualification = $7, status = $8, unit_id = $9, \
             updated_at = $10, version = version + 1 WHERE id = $11 AND version = $12",
        )
        .bind(&input.name)
        .bind(&input.category)
        .bind(&input.phone)
        .bind(&input.address)
        .bind(&input.grid_code)
        .bind(&input.description)
        .bind(&input.qualification)
        .bind(&input.status)
        .bind(&input.unit_id)
        .bind(now_ms())
        .bind(id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "entry {id} changed concurrently"
            )));
        }
        audit_write(&mut tx, actor, "directory.update", id, system).await?;
        let rec = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Deletes an entry of `system`.
    pub async fn directory_delete(
        &self,
        system: DirectorySystem,
        id: i64,
        actor: &Principal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let result = sqlx::query("DELETE FROM directory_entries WHERE id = $1 AND system = $2")
            .bind(id)
            .bind(system.as_str())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_write(&mut tx, actor, "directory.delete", id, system).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Entries matching `query`, ordered by system, name and id, plus the total match count.
    pub async fn directory_search(
        &self,
        query: &DirectoryQuery,
    ) -> Result<(Vec<DirectoryRecord>, i64), StoreError> {
        // $1 is the grid root (used by the CTE); every other filter is "($n IS NULL OR …)" so
        // the statement text never depends on the input.
        let filter = "FROM directory_entries WHERE ($2 IS NULL OR system = $2) \
             AND ($3 IS NULL OR LOWER(name) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(category, '')) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(description, '')) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(address, '')) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(qualification, '')) LIKE $3 ESCAPE '\\') \
             AND ($4 IS NULL OR category = $4) \
             AND ($1 IS NULL OR grid_code IN (SELECT code FROM subtree)) \
             AND ($5 IS NULL OR status = $5)";
        let cte = grid_subtree_cte("$1");
        let pattern = query.q.as_deref().map(like_pattern);
        let system = query.system.map(DirectorySystem::as_str);
        let (total,): (i64,) = sqlx::query_as(&format!("{cte}SELECT COUNT(*) {filter}"))
            .bind(&query.grid)
            .bind(system)
            .bind(&pattern)
            .bind(&query.category)
            .bind(&query.status)
            .fetch_one(self.pool())
            .await?;
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "{cte}SELECT {COLUMNS} {filter} ORDER BY system, name, id LIMIT $6 OFFSET $7"
        ))
        .bind(&query.grid)
        .bind(system)
        .bind(&pattern)
        .bind(&query.category)
        .bind(&query.status)
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(self.pool())
        .await?;
        Ok((rows.into_iter().map(record).collect(), total))
    }

    /// Whether a grid unit with this code exists.
    pub async fn grid_unit_exists(&self, code: &str) -> Result<bool, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grid_units WHERE code = $1")
            .bind(code)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    /// Whether a handling unit with this id exists.
    pub async fn unit_exists(&self, id: &str) -> Result<bool, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM units WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }
}

async fn fetch(conn: &mut sqlx::AnyConnection, id: i64) -> Result<DirectoryRecord, StoreError> {
    let row: Row = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM directory_entries WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(record(row))
}

async fn audit_write(
    tx: &mut WriteTx,
    actor: &Principal,
    action: &str,
    id: i64,
    system: DirectorySystem,
) -> Result<(), StoreError> {
    let target = format!("directory:{id}");
    record_audit(
        tx,
        &NewAudit::by(actor, action, Some(&target))
            .with_detail(serde_json::json!({ "system": system.as_str() })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_pattern("Home_Care"), "%home\\_care%");
        assert_eq!(like_pattern("50%"), "%50\\%%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
        assert_eq!(like_pattern("家政"), "%家政%");
    }
}
