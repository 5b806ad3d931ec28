//! 一事多诉 in the database. Reads: the open cases received near a case's time (the candidates
//! its text is compared with), bounded by the time window and a row limit, through
//! `cases_created` — never a case merged into another, nor one the center said is not the same
//! problem (`case_links`, migration 0090). Writes (building blocks on the caller's transaction):
//! the links themselves, and the close of the children that follow a parent ([`close_children`],
//! also run by the status pull's close in `store::forward`).

use serde_json::json;
use sqlx::AnyConnection;

use super::cases::{CASE_COLUMNS, CASE_FROM, CaseRow, NewEvent, append_events, update_case};
use super::{Engine, Store, StoreError};

/// The statuses in which a merged child follows its parent: still with the center (已受理,
/// 已退单) or replied with it (已反馈, 已回访). A child redone on its own after an unsatisfied
/// 回访 is with a unit and no longer follows.
pub const FOLLOWING: [&str; 4] = ["received", "returned", "replied", "followed_up"];

/// A link as stored: `merged` or `dismissed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Merged,
    Dismissed,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Merged => "merged",
            LinkKind::Dismissed => "dismissed",
        }
    }
}

/// An open case as the near-duplicate check reads it (no caller data).
#[derive(Debug, Clone, PartialEq)]
pub struct NearCase {
    pub id: i64,
    pub public_id: String,
    pub content: String,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub status: String,
    pub created_at: i64,
}

type Read = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    String,
    i64,
);

impl Store {
    /// Open cases other than `exclude` received in `[from, to]`, newest first, at most `limit`.
    pub async fn open_cases_between(
        &self,
        exclude: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<NearCase>, StoreError> {
        let rows: Vec<Read> = sqlx::query_as(
            "SELECT id, public_id, content, category_code, grid_code, lat, lon, status, created_at \
             FROM cases WHERE created_at >= $1 AND created_at <= $2 AND id <> $3 \
             AND status NOT IN ('closed', 'transferred_police') \
             AND NOT EXISTS (SELECT 1 FROM case_links m WHERE m.child_id = cases.id \
                 AND m.kind = 'merged') \
             AND NOT EXISTS (SELECT 1 FROM case_links d WHERE d.kind = 'dismissed' \
                 AND ((d.child_id = $3 AND d.parent_id = cases.id) \
                   OR (d.child_id = cases.id AND d.parent_id = $3))) \
             ORDER BY created_at DESC LIMIT $4",
        )
        .bind(from)
        .bind(to)
        .bind(exclude)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| NearCase {
                id: r.0,
                public_id: r.1,
                content: r.2,
                category_code: r.3,
                grid_code: r.4,
                lat: r.5,
                lon: r.6,
                status: r.7,
                created_at: r.8,
            })
            .collect())
    }
}

impl Store {
    /// The case `case_id` was merged into.
    pub async fn merged_into(&self, case_id: i64) -> Result<Option<ParentRef>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        parent_of(&mut conn, case_id).await
    }

    /// The cases merged into `parent_id`, oldest first, with their callers (raw: mask at the
    /// edges).
    pub async fn merged_children(&self, parent_id: i64) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM {CASE_FROM} JOIN case_links l ON l.child_id = c.id \
             WHERE l.parent_id = $1 AND l.kind = 'merged' ORDER BY c.id"
        );
        Ok(sqlx::query_as::<_, CaseRow>(&sql)
            .bind(parent_id)
            .fetch_all(self.pool())
            .await?)
    }
}

/// The case a child is merged into.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ParentRef {
    pub id: i64,
    pub public_id: String,
    pub status: String,
    pub unit_id: Option<String>,
}

/// The case `case_id` is merged into, if any.
pub async fn parent_of(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<Option<ParentRef>, StoreError> {
    Ok(sqlx::query_as::<_, ParentRef>(
        "SELECT p.id, p.public_id, p.status, p.unit_id FROM case_links l \
         JOIN cases p ON p.id = l.parent_id WHERE l.child_id = $1 AND l.kind = 'merged'",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The public ids of the cases merged into `parent_id`, oldest first.
pub async fn children_of(
    conn: &mut AnyConnection,
    parent_id: i64,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT c.public_id FROM case_links l JOIN cases c ON c.id = l.child_id \
         WHERE l.parent_id = $1 AND l.kind = 'merged' ORDER BY c.id",
    )
    .bind(parent_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

/// The public id of case `id`.
pub async fn public_id(conn: &mut AnyConnection, id: i64) -> Result<String, StoreError> {
    let (p,): (String,) = sqlx::query_as("SELECT public_id FROM cases WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(p)
}

/// The note of the latest event of `kind` on a case (the parent's answer, for its children).
pub async fn last_note(
    conn: &mut AnyConnection,
    case_id: i64,
    kind: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT note FROM case_events WHERE case_id = $1 AND kind = $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_id)
    .bind(kind)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(n,)| n))
}

/// Whether the center said `a` and `b` are not the same problem (either way round).
pub async fn dismissed(conn: &mut AnyConnection, a: i64, b: i64) -> Result<bool, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM case_links WHERE kind = 'dismissed' \
         AND ((child_id = $1 AND parent_id = $2) OR (child_id = $2 AND parent_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Records a link. A `merged` link replaces a dismissal of the same pair (either way round):
/// the center changed its mind.
pub async fn insert_link(
    conn: &mut AnyConnection,
    child_id: i64,
    parent_id: i64,
    kind: LinkKind,
    actor_id: Option<i64>,
    note: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    if kind == LinkKind::Merged {
        sqlx::query(
            "DELETE FROM case_links WHERE kind = 'dismissed' \
             AND ((child_id = $1 AND parent_id = $2) OR (child_id = $2 AND parent_id = $1))",
        )
        .bind(child_id)
        .bind(parent_id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO case_links (child_id, parent_id, kind, actor_id, note, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(child_id)
    .bind(parent_id)
    .bind(kind.as_str())
    .bind(actor_id)
    .bind(note.map(str::to_string))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the children of `from` to `to` (a child merged into another case takes its own
/// children along); returns their ids. Dismissals between them and `to` give way.
pub async fn move_children(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT child_id FROM case_links WHERE parent_id = $1 AND kind = 'merged' \
         ORDER BY child_id",
    )
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    for (id,) in &ids {
        sqlx::query(
            "DELETE FROM case_links WHERE kind = 'dismissed' \
             AND ((child_id = $1 AND parent_id = $2) OR (child_id = $2 AND parent_id = $1))",
        )
        .bind(*id)
        .bind(to)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE case_links SET parent_id = $1 WHERE parent_id = $2 AND kind = 'merged'")
        .bind(to)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    Ok(ids.into_iter().map(|(i,)| i).collect())
}

/// The children of `parent_id` that follow it ([`FOLLOWING`]), locked for this transaction.
pub async fn lock_following(
    conn: &mut AnyConnection,
    engine: Engine,
    parent_id: i64,
) -> Result<Vec<CaseRow>, StoreError> {
    let base = format!(
        "SELECT {CASE_COLUMNS} FROM {CASE_FROM} JOIN case_links l ON l.child_id = c.id \
         WHERE l.parent_id = $1 AND l.kind = 'merged' \
         AND c.status IN ('received', 'returned', 'replied', 'followed_up') ORDER BY c.id"
    );
    let sql = match engine {
        Engine::Postgres => format!("{base} FOR UPDATE OF c"),
        Engine::Sqlite => base,
    };
    Ok(sqlx::query_as::<_, CaseRow>(&sql)
        .bind(parent_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// Closes every child following `parent` ([`FOLLOWING`]) with it, each with its own `closed`
/// event (`detail.with_parent`), in the caller's transaction; returns their public ids. The
/// rules (a replied child must have been followed up, or the close give a reason) are the
/// engine's, checked before.
pub async fn close_children(
    conn: &mut AnyConnection,
    engine: Engine,
    parent_id: i64,
    parent_public_id: &str,
    actor_id: Option<i64>,
    note: Option<&str>,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let children = lock_following(conn, engine, parent_id).await?;
    let mut closed = Vec::new();
    for child in children {
        let mut next = child.clone();
        next.status = "closed".into();
        next.closed_at = Some(now);
        update_case(conn, &next, now).await?;
        let event = NewEvent {
            kind: "closed".into(),
            from_status: Some(child.status.clone()),
            to_status: Some("closed".into()),
            actor_id,
            unit_id: None,
            note: note.map(str::to_string),
            detail: Some(json!({"with_parent": parent_public_id})),
        };
        append_events(conn, child.id, &[event], now, None).await?;
        closed.push(child.public_id);
    }
    Ok(closed)
}
