/*!
The SQL of `engine::upgrade`, all on the upgrade's one open transaction: the kit migrations
applied inside it (so a kill before commit leaves the schema as it was), what the plan needs to
know about live data, retiring what a new profile drops, and moving open cases off a retired
unit with an event each.
*/

use sqlx::AnyConnection;

use super::cases::{NewEvent, append_events};
use super::{Engine, StoreError};

/// An open case held by a unit the new profile drops.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct HeldCase {
    #[serde(skip)]
    pub id: i64,
    pub public_id: String,
    pub status: String,
    pub unit_id: String,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
}

/// The migrations applied so far with their checksums, read inside the transaction.
pub async fn applied_versions(conn: &mut AnyConnection) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Applies one kit migration inside the caller's transaction and records it as sqlx does, so
/// `m110d` later sees it applied with the same checksum.
pub async fn apply_migration(
    conn: &mut AnyConnection,
    engine: Engine,
    version: i64,
    description: &str,
    sql: &str,
    checksum: &[u8],
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    sqlx::raw_sql(sql).execute(&mut *conn).await?;
    let success = match engine {
        Engine::Sqlite => "1",
        Engine::Postgres => "TRUE",
    };
    sqlx::query(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, {success}, $3, $4)"
    ))
    .bind(version)
    .bind(description)
    .bind(checksum.to_vec())
    .bind(started.elapsed().as_nanos() as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Open cases (not closed, not with an emergency line) held by any of `units`.
pub async fn open_cases_of_units(
    conn: &mut AnyConnection,
    units: &[String],
) -> Result<Vec<HeldCase>, StoreError> {
    let mut out = Vec::new();
    for u in units {
        let rows: Vec<HeldCase> = sqlx::query_as(
            "SELECT id, public_id, status, unit_id, category_code, grid_code FROM cases \
             WHERE unit_id = $1 AND status IN ('dispatched', 'signed', 'in_progress', 'replied') \
             ORDER BY id",
        )
        .bind(u)
        .fetch_all(&mut *conn)
        .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// How many cases (all time) name `value` in `column` (`grid_code` or `category_code`), and how
/// many of them are open.
pub async fn cases_naming(
    conn: &mut AnyConnection,
    column: &'static str,
    value: &str,
) -> Result<(i64, i64), StoreError> {
    // `column` is one of two fixed names, never input.
    let (all, open): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status <> 'closed' THEN 1 ELSE 0 END), 0) \
         FROM cases WHERE {column} = $1"
    ))
    .bind(value)
    .fetch_one(&mut *conn)
    .await?;
    Ok((all, open))
}

/// Retires a unit, grid unit or category (`table` of the three): kept for history, left out of
/// the region from now on.
pub async fn retire(
    conn: &mut AnyConnection,
    table: &'static str,
    key: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (column, extra) = match table {
        "units" => ("id", ", active = 0"),
        "grid_units" | "categories" => ("code", ""),
        other => return Err(StoreError::Other(format!("cannot retire {other}").into())),
    };
    sqlx::query(&format!(
        "UPDATE {table} SET retired_at = $1{extra} WHERE {column} = $2 AND retired_at IS NULL"
    ))
    .bind(now)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a platform the new profile drops, unless cameras still name it (then it stays).
pub async fn drop_platform(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM platforms WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM cameras WHERE platform_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done > 0)
}

/// Where a held case goes: a unit (with fresh 签收/办结 deadlines) or back to the center queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub to_unit: Option<String>,
    pub sign_due: Option<i64>,
    pub close_due: Option<i64>,
}

/// Moves a held case off its retired unit, with a `rerouted` event naming both ends.
pub async fn reroute_case(
    conn: &mut AnyConnection,
    case: &HeldCase,
    to: &Move,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    let status = if to.to_unit.is_some() {
        "dispatched"
    } else {
        "received"
    };
    sqlx::query(
        "UPDATE cases SET unit_id = $1, status = $2, sign_due = $3, close_due = $4, \
         dispatched_at = CASE WHEN $1 IS NULL THEN NULL ELSE $5 END, signed_at = NULL, \
         replied_at = NULL, overdue_sign = 0, overdue_close = 0, escalation_step = 0, \
         extension_requested = 0, forward_ref = NULL, forward_at = NULL, updated_at = $5, \
         version = version + 1 WHERE id = $6",
    )
    .bind(to.to_unit.as_deref())
    .bind(status)
    .bind(to.sign_due)
    .bind(to.close_due)
    .bind(now)
    .bind(case.id)
    .execute(&mut *conn)
    .await?;
    append_events(
        conn,
        case.id,
        &[NewEvent {
            kind: "rerouted".into(),
            from_status: Some(case.status.clone()),
            to_status: Some(status.into()),
            actor_id: None,
            unit_id: to.to_unit.clone(),
            note: None,
            detail: Some(detail),
        }],
        now,
        None,
    )
    .await?;
    Ok(())
}

/// Moves every record naming the old id or code of a renamed entry to the new one (the old row
/// stays, retired, for the history in the audit log). `kind` is `units`, `grid_units` or
/// `categories`; the tables and columns are this fixed list, never input.
pub async fn move_references(
    conn: &mut AnyConnection,
    kind: &str,
    from: &str,
    to: &str,
) -> Result<u64, StoreError> {
    let targets: &[(&str, &str)] = match kind {
        "units" => &[
            // case_events are append-only: the timeline keeps the unit as it was then.
            ("cases", "unit_id"),
            ("users", "unit_id"),
            ("directory_entries", "unit_id"),
        ],
        "grid_units" => &[
            ("cases", "grid_code"),
            ("user_grid_units", "grid_code"),
            ("directory_entries", "grid_code"),
            ("households", "grid_code"),
            ("cameras", "grid_code"),
            ("grid_units", "parent_code"),
        ],
        "categories" => &[("cases", "category_code"), ("categories", "parent_code")],
        other => return Err(StoreError::Other(format!("cannot rename {other}").into())),
    };
    let mut n = 0;
    for (table, column) in targets {
        n += sqlx::query(&format!(
            "UPDATE {table} SET {column} = $1 WHERE {column} = $2"
        ))
        .bind(to)
        .bind(from)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(n)
}
