/*!
Queries behind the Open311 GeoReport v2 endpoints: the region's discovery facts, cases as
public service requests, their event history, and the `open311_submissions` row that keeps what
a `POST requests` carried beyond the case (attributes, media link, client ids, e-mail).

Rows come back as stored; what the public may see (no names, phones or e-mail; descriptions and
exact locations only for requests submitted through Open311) is decided in
the Open311 front-end. Every statement is parameterized; list filters add one placeholder
per value.
*/

use sqlx::AnyConnection;

use super::{Store, StoreError};
use crate::model::time::now_ms;

/// The region facts the discovery document shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionInfo {
    pub name: String,
    pub service_number: String,
    /// When the region was provisioned (the discovery changeset), epoch ms.
    pub provisioned_at: i64,
}

/// A case as the Open311 layer reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Case {
    pub id: i64,
    pub public_id: String,
    pub channel: String,
    pub status: String,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    pub content: String,
    pub unit_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub close_due: Option<i64>,
    pub address: Option<String>,
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub media_url: Option<String>,
    /// (code, value) pairs submitted with the request.
    pub attributes: Vec<(String, String)>,
    pub address_id: Option<String>,
}

/// One case event as the Open311 layer reads it (free-text notes are not read: staff write
/// them and they may name people).
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Event {
    pub id: i64,
    pub case_id: i64,
    pub public_id: String,
    pub kind: String,
    /// Status after the event (the status it left when the event changed none).
    pub status: String,
    pub at: i64,
    pub unit_name: Option<String>,
}

/// What a `POST requests` carried beyond the case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub service_code: String,
    pub attributes: Vec<(String, String)>,
    pub media_url: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub api_user_id: Option<i64>,
}

/// Filters of `GET requests` (already validated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub service_codes: Vec<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    /// `Some(true)`: closed (办结 or handed to police) only; `Some(false)`: open only.
    pub closed: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

/// Statuses Open311 reports as `closed`.
pub const CLOSED_STATUSES: [&str; 2] = ["closed", "transferred_police"];

/// A case the public Open311 feed may list: not handed to an emergency line, not in a police
/// category.
pub(super) const PUBLIC_CASE: &str = "(c.status <> 'transferred_police' AND NOT EXISTS \
    (SELECT 1 FROM categories k WHERE k.code = c.category_code AND k.police = 1))";

const CASE_SELECT: &str = "SELECT c.id, c.public_id, c.channel, c.status, c.category_code, \
       cat.name_zh, c.content, u.name, c.created_at, c.updated_at, c.close_due, c.address, \
       c.grid_code, g.name, c.lat, c.lon, s.media_url, s.attributes, s.address_id \
     FROM cases c \
     LEFT JOIN categories cat ON cat.code = c.category_code \
     LEFT JOIN units u ON u.id = c.unit_id \
     LEFT JOIN grid_units g ON g.code = c.grid_code \
     LEFT JOIN open311_submissions s ON s.case_id = c.id ";

fn case_from_row(row: &sqlx::any::AnyRow) -> Result<Open311Case, StoreError> {
    use sqlx::Row;
    let attributes: Option<String> = row.try_get(17)?;
    let attributes = match attributes {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    };
    Ok(Open311Case {
        id: row.try_get(0)?,
        public_id: row.try_get(1)?,
        channel: row.try_get(2)?,
        status: row.try_get(3)?,
        category_code: row.try_get(4)?,
        category_name: row.try_get(5)?,
        content: row.try_get(6)?,
        unit_name: row.try_get(7)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        close_due: row.try_get(10)?,
        address: row.try_get(11)?,
        grid_code: row.try_get(12)?,
        grid_name: row.try_get(13)?,
        lat: row.try_get(14)?,
        lon: row.try_get(15)?,
        media_url: row.try_get(16)?,
        attributes,
        address_id: row.try_get(18)?,
    })
}

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// What the discovery document says about the region.
    pub async fn open311_region_info(&self) -> Result<RegionInfo, StoreError> {
        let (name, service_number, provisioned_at): (String, String, i64) =
            sqlx::query_as("SELECT name, service_number, provisioned_at FROM region")
                .fetch_one(self.pool())
                .await?;
        Ok(RegionInfo {
            name,
            service_number,
            provisioned_at,
        })
    }

    /// The public id of the case an Open311 token was handed out for.
    pub async fn open311_case_by_token(&self, token: &str) -> Result<String, StoreError> {
        let (public_id,): (String,) =
            sqlx::query_as("SELECT public_id FROM cases WHERE open311_token = $1")
                .bind(token)
                .fetch_one(self.pool())
                .await?;
        Ok(public_id)
    }

    /// Cases by public id, in the order asked (unknown ids are skipped).
    pub async fn open311_cases_by_ids(
        &self,
        public_ids: &[String],
    ) -> Result<Vec<Open311Case>, StoreError> {
        if public_ids.is_empty() {
            return Ok(Vec::new());
        }
        // By id: also the submitter's own Open311 request, whatever became of it.
        let sql = format!(
            "{CASE_SELECT}WHERE c.public_id IN ({}) AND (c.channel = 'open311' OR {PUBLIC_CASE})",
            placeholders(1, public_ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in public_ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut cases = rows
            .iter()
            .map(case_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        cases.sort_by_key(|c| public_ids.iter().position(|p| *p == c.public_id));
        Ok(cases)
    }

    /// Cases requested in the filter's window, newest first.
    pub async fn open311_cases(&self, f: &CaseFilter) -> Result<Vec<Open311Case>, StoreError> {
        let closed_expr =
            "CASE WHEN c.status IN ('closed', 'transferred_police') THEN 1 ELSE 0 END";
        // The public feed leaves out what went to an emergency line and police categories.
        let mut sql = format!(
            "{CASE_SELECT}WHERE c.created_at >= $1 AND c.created_at <= $2 \
             AND ($3 IS NULL OR {closed_expr} = $3) AND {PUBLIC_CASE}"
        );
        if !f.service_codes.is_empty() {
            sql.push_str(&format!(
                " AND c.category_code IN ({})",
                placeholders(4, f.service_codes.len())
            ));
        }
        let next = 4 + f.service_codes.len();
        sql.push_str(&format!(
            " ORDER BY c.created_at DESC, c.id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        ));
        let mut q = sqlx::query(&sql)
            .bind(f.start_ms)
            .bind(f.end_ms)
            .bind(f.closed.map(i64::from));
        for code in &f.service_codes {
            q = q.bind(code);
        }
        let rows = q
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// The events of these cases, oldest first within each case.
    pub async fn open311_events(&self, case_ids: &[i64]) -> Result<Vec<Open311Event>, StoreError> {
        if case_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT e.id, e.case_id, c.public_id, e.kind, \
                    COALESCE(e.to_status, e.from_status, c.status), e.at, u.name \
             FROM case_events e JOIN cases c ON c.id = e.case_id \
             LEFT JOIN units u ON u.id = e.unit_id \
             WHERE e.case_id IN ({}) ORDER BY e.case_id, e.seq",
            placeholders(1, case_ids.len())
        );
        let mut q = sqlx::query_as::<_, EventRow>(&sql);
        for id in case_ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(self.pool())
            .await?
            .into_iter()
            .map(event)
            .collect())
    }

    /// Events in a time window (mySociety `servicerequestupdates`), oldest first, at most
    /// `limit`.
    pub async fn open311_updates(
        &self,
        start_ms: i64,
        end_ms: i64,
        limit: i64,
    ) -> Result<Vec<Open311Event>, StoreError> {
        let sql = format!(
            "SELECT e.id, e.case_id, c.public_id, e.kind, \
                    COALESCE(e.to_status, e.from_status, c.status), e.at, u.name \
             FROM case_events e JOIN cases c ON c.id = e.case_id \
             LEFT JOIN units u ON u.id = e.unit_id \
             WHERE e.at >= $1 AND e.at <= $2 AND {PUBLIC_CASE} ORDER BY e.at, e.id LIMIT $3"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(start_ms)
            .bind(end_ms)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(event).collect())
    }

    /// Records what a `POST requests` carried for the case `case_id`.
    pub async fn open311_record_submission(
        &self,
        case_id: i64,
        s: &Submission,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_submission(&mut conn, case_id, s).await
    }
}

type EventRow = (i64, i64, String, String, String, i64, Option<String>);

fn event(r: EventRow) -> Open311Event {
    Open311Event {
        id: r.0,
        case_id: r.1,
        public_id: r.2,
        kind: r.3,
        status: r.4,
        at: r.5,
        unit_name: r.6,
    }
}

/// Inserts the submission row on an open connection or transaction (so it can commit with the
/// case when the caller has one).
pub async fn insert_submission(
    conn: &mut AnyConnection,
    case_id: i64,
    s: &Submission,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO open311_submissions (case_id, service_code, attributes, media_url, \
         address_id, email, device_id, account_id, api_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(case_id)
    .bind(&s.service_code)
    .bind(serde_json::to_string(&s.attributes)?)
    .bind(&s.media_url)
    .bind(&s.address_id)
    .bind(&s.email)
    .bind(&s.device_id)
    .bind(&s.account_id)
    .bind(s.api_user_id)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_the_given_index() {
        assert_eq!(placeholders(4, 3), "$4, $5, $6");
        assert_eq!(placeholders(1, 1), "$1");
    }
}
