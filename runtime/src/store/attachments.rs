/*!
Attachments (附件): photos and documents on cases — the rows; the bytes live in the engine's blob
store under `sha256`. `(case_id, sha256)` is unique, so a retried upload finds its row instead of
adding one ([`insert_attachment`] answers with the row either way and says whether it is new).
*/

use serde::Serialize;
use sqlx::AnyConnection;

use super::open311::PUBLIC_CASE;
use super::{Store, StoreError};

/// An attachment to store.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub case_id: i64,
    /// Hex SHA-256 of the stored bytes (location metadata already stripped): the blob's key.
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub filename: &'a str,
    /// `photo` or `document`.
    pub kind: &'a str,
    /// `intake`, `reply` or `patrol`.
    pub stage: &'a str,
    pub thumb_sha256: Option<&'a str>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub uploaded_by: Option<i64>,
    pub created_at: i64,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub case_id: i64,
    pub case_public_id: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub filename: String,
    pub kind: String,
    pub stage: String,
    pub thumb_sha256: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub uploaded_by: Option<i64>,
    pub uploaded_by_name: Option<String>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT a.id, a.case_id, c.public_id, a.sha256, a.content_type, a.size, \
       a.filename, a.kind, a.stage, a.thumb_sha256, a.width, a.height, a.uploaded_by, u.name, \
       a.created_at \
     FROM attachments a JOIN cases c ON c.id = a.case_id \
     LEFT JOIN users u ON u.id = a.uploaded_by ";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Attachment, StoreError> {
    use sqlx::Row as _;
    Ok(Attachment {
        id: row.try_get(0)?,
        case_id: row.try_get(1)?,
        case_public_id: row.try_get(2)?,
        sha256: row.try_get(3)?,
        content_type: row.try_get(4)?,
        size: row.try_get(5)?,
        filename: row.try_get(6)?,
        kind: row.try_get(7)?,
        stage: row.try_get(8)?,
        thumb_sha256: row.try_get(9)?,
        width: row.try_get(10)?,
        height: row.try_get(11)?,
        uploaded_by: row.try_get(12)?,
        uploaded_by_name: row.try_get(13)?,
        created_at: row.try_get(14)?,
    })
}

/// Stores `a` in the caller's transaction, or finds the row of the same bytes on the same case;
/// `true` when the row is new.
pub async fn insert_attachment(
    conn: &mut AnyConnection,
    a: &NewAttachment<'_>,
) -> Result<(Attachment, bool), StoreError> {
    let done = sqlx::query(
        "INSERT INTO attachments (case_id, sha256, content_type, size, filename, kind, stage, \
         thumb_sha256, width, height, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (case_id, sha256) DO NOTHING",
    )
    .bind(a.case_id)
    .bind(a.sha256)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.filename)
    .bind(a.kind)
    .bind(a.stage)
    .bind(a.thumb_sha256)
    .bind(a.width)
    .bind(a.height)
    .bind(a.uploaded_by)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&format!("{SELECT}WHERE a.case_id = $1 AND a.sha256 = $2"))
        .bind(a.case_id)
        .bind(a.sha256)
        .fetch_one(&mut *conn)
        .await?;
    Ok((from_row(&row)?, done.rows_affected() == 1))
}

/// The first public photo of each of `case_ids`: its SHA-256 and content type, for Open311's
/// `media_url`. Public means a photo taken in at intake (what the reporter showed) of a case
/// submitted through Open311 that the public feed shows (the feed publishes the words and place
/// of those only); the unit's reply and a grid worker's patrol photos stay inside.
pub async fn first_public_photos(
    conn: &mut AnyConnection,
    case_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, StoreError> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=case_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT a.case_id, a.sha256, a.content_type FROM attachments a \
         JOIN cases c ON c.id = a.case_id \
         WHERE a.case_id IN ({}) AND a.kind = 'photo' AND a.stage = 'intake' \
         AND c.channel = 'open311' AND {PUBLIC_CASE} \
         AND a.id = (SELECT MIN(b.id) FROM attachments b WHERE b.case_id = a.case_id \
                     AND b.kind = 'photo' AND b.stage = 'intake')",
        marks.join(", ")
    );
    let mut q = sqlx::query_as(&sql);
    for id in case_ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

impl Store {
    /// One attachment by id.
    pub async fn attachment(&self, id: i64) -> Result<Option<Attachment>, StoreError> {
        let row = sqlx::query(&format!("{SELECT}WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A case's attachments, oldest first.
    pub async fn case_attachments(&self, case_id: i64) -> Result<Vec<Attachment>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT}WHERE a.case_id = $1 ORDER BY a.id"))
            .bind(case_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The attachments stored under `sha256` (one per case that holds those bytes).
    pub async fn attachments_by_sha(&self, sha256: &str) -> Result<Vec<Attachment>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT}WHERE a.sha256 = $1 ORDER BY a.id"))
            .bind(sha256)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// [`first_public_photos`] on a pooled connection.
    pub async fn first_public_photos(
        &self,
        case_ids: &[i64],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        first_public_photos(&mut conn, case_ids).await
    }

    /// The content type of the public photo stored under `sha256` (see [`first_public_photos`]
    /// for what is public), `None` when those bytes are no public photo.
    pub async fn public_photo_type(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT a.content_type FROM attachments a JOIN cases c ON c.id = a.case_id \
             WHERE a.sha256 = $1 AND a.kind = 'photo' AND a.stage = 'intake' \
             AND c.channel = 'open311' AND {PUBLIC_CASE} LIMIT 1"
        ))
        .bind(sha256)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// The public id of the case with internal id `case_id`.
    pub async fn case_public_id(&self, case_id: i64) -> Result<String, StoreError> {
        let (id,): (String,) = sqlx::query_as("SELECT public_id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(self.pool())
            .await?;
        Ok(id)
    }
}
