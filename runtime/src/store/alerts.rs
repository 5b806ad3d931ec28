/*!
Early-warning alerts (预警): what the detectors raised, kept with their figures and their
lifecycle (`new` → `acknowledged` → `dispatched` → `resolved`, or `dismissed` with a reason).
Detection is idempotent through the alert's `key` (method, category, area, first day): a later
tick or another `m110d` updates the figures of an alert that is still new instead of raising it
twice. A newly raised alert queues an `alert.raised` outbox message in the same transaction.
*/

use serde::Serialize;
use sqlx::AnyConnection;

use super::cases::{enqueue, enqueue_to};
use super::{Store, StoreError};

/// An alert as a detector raises it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAlert {
    pub key: String,
    pub method: String,
    pub category_code: Option<String>,
    pub area_code: Option<String>,
    pub grid_codes: Vec<String>,
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub start_day: String,
    pub end_day: String,
    pub detected_on: String,
    pub observed: i64,
    pub expected: f64,
    pub statistic: f64,
    pub p_value: Option<f64>,
    pub recurrence_days: Option<f64>,
    /// `[[day, observed, expected], …]`: the time curve the alert page draws.
    pub curve: serde_json::Value,
    /// The platform of the unit concerned and the outbox state its `alert.raised` message
    /// starts in (`None`: no platform receives it, the message is kept as unrouted).
    #[serde(skip)]
    pub deliver_to: Option<(String, &'static str)>,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: NewAlert,
    pub state: String,
    pub case_id: Option<i64>,
    pub case_public_id: Option<String>,
    pub reason: Option<String>,
    pub acted_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which alerts to list (`None`: any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Detected on or after / before this day (`YYYY-MM-DD`, both included).
    pub from_day: Option<String>,
    pub to_day: Option<String>,
    pub category: Option<String>,
    /// The alert's area is one of these grid units.
    pub areas: Option<Vec<String>>,
    pub state: Option<String>,
    pub limit: i64,
}

const COLUMNS: &str = "a.id, a.key, a.method, a.category_code, a.area_code, a.grid_codes, \
    a.start_day, a.end_day, a.detected_on, a.observed, a.expected, a.statistic, \
    CAST(a.p_value AS TEXT), CAST(a.recurrence_days AS TEXT), a.curve, a.state, a.case_id, \
    c.public_id, a.reason, a.acted_by, a.created_at, a.updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Alert, StoreError> {
    use sqlx::Row as _;
    let json = |s: String| serde_json::from_str(&s).unwrap_or_default();
    let opt_f64 = |s: Option<String>| s.and_then(|s| s.parse::<f64>().ok());
    Ok(Alert {
        id: row.try_get(0)?,
        alert: NewAlert {
            key: row.try_get(1)?,
            method: row.try_get(2)?,
            category_code: row.try_get(3)?,
            area_code: row.try_get(4)?,
            grid_codes: serde_json::from_str(&row.try_get::<String, _>(5)?).unwrap_or_default(),
            start_day: row.try_get(6)?,
            end_day: row.try_get(7)?,
            detected_on: row.try_get(8)?,
            observed: row.try_get(9)?,
            expected: row.try_get(10)?,
            statistic: row.try_get(11)?,
            p_value: opt_f64(row.try_get(12)?),
            recurrence_days: opt_f64(row.try_get(13)?),
            curve: json(row.try_get(14)?),
            deliver_to: None,
        },
        state: row.try_get(15)?,
        case_id: row.try_get(16)?,
        case_public_id: row.try_get(17)?,
        reason: row.try_get(18)?,
        acted_by: row.try_get(19)?,
        created_at: row.try_get(20)?,
        updated_at: row.try_get(21)?,
    })
}

/// Raises or refreshes alerts in the caller's transaction; returns the ids of the alerts that
/// are new (each with its `alert.raised` message queued).
pub async fn upsert_alerts(
    conn: &mut AnyConnection,
    alerts: &[NewAlert],
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut raised = Vec::new();
    for a in alerts {
        let existing: Option<(i64, String)> =
            sqlx::query_as("SELECT id, state FROM alerts WHERE key = $1")
                .bind(&a.key)
                .fetch_optional(&mut *conn)
                .await?;
        let grid = serde_json::to_string(&a.grid_codes).unwrap_or_else(|_| "[]".into());
        // Optional floats travel as text (the Any driver's NULL f64 parameter is not portable).
        let p = a.p_value.map(|v| v.to_string());
        let ri = a.recurrence_days.map(|v| v.to_string());
        match existing {
            Some((id, state)) => {
                // A decided alert keeps the figures it was decided on.
                if state == "new" {
                    sqlx::query(
                        "UPDATE alerts SET end_day = $1, observed = $2, expected = $3, \
                         statistic = $4, p_value = CAST($5 AS DOUBLE PRECISION), \
                         recurrence_days = CAST($6 AS DOUBLE PRECISION), curve = $7, \
                         grid_codes = $8, updated_at = $9 WHERE id = $10",
                    )
                    .bind(&a.end_day)
                    .bind(a.observed)
                    .bind(a.expected)
                    .bind(a.statistic)
                    .bind(p)
                    .bind(ri)
                    .bind(a.curve.to_string())
                    .bind(grid)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO alerts (key, method, category_code, area_code, grid_codes, \
                     start_day, end_day, detected_on, observed, expected, statistic, p_value, \
                     recurrence_days, curve, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                     CAST($12 AS DOUBLE PRECISION), CAST($13 AS DOUBLE PRECISION), $14, 'new', \
                     $15, $15) RETURNING id",
                )
                .bind(&a.key)
                .bind(&a.method)
                .bind(a.category_code.clone())
                .bind(a.area_code.clone())
                .bind(grid)
                .bind(&a.start_day)
                .bind(&a.end_day)
                .bind(&a.detected_on)
                .bind(a.observed)
                .bind(a.expected)
                .bind(a.statistic)
                .bind(p)
                .bind(ri)
                .bind(a.curve.to_string())
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
                let payload = serde_json::json!({
                    "event": "alert.raised", "alert_id": id, "method": a.method,
                    "category": a.category_code, "area": a.area_code,
                    "grid_codes": a.grid_codes, "start_day": a.start_day,
                    "end_day": a.end_day, "observed": a.observed, "expected": a.expected,
                    "recurrence_days": a.recurrence_days,
                });
                match &a.deliver_to {
                    Some((platform, state)) => {
                        enqueue_to(conn, "alert.raised", &payload, Some(platform), state, now)
                            .await?;
                    }
                    None => {
                        enqueue(conn, "alert.raised", &payload, now).await?;
                    }
                }
                raised.push(id);
            }
        }
    }
    Ok(raised)
}

/// Moves an alert from one of `from` states to `to` in the caller's transaction; false when it
/// is not in one of them (someone decided first).
#[allow(clippy::too_many_arguments)] // one UPDATE's columns, each named at the call site
pub async fn set_state(
    conn: &mut AnyConnection,
    id: i64,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
    case_id: Option<i64>,
    actor: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let marks: Vec<String> = (0..from.len()).map(|i| format!("${}", i + 7)).collect();
    let sql = format!(
        "UPDATE alerts SET state = $1, reason = COALESCE($2, reason), \
         case_id = COALESCE($3, case_id), acted_by = $4, updated_at = $5 \
         WHERE id = $6 AND state IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(to)
        .bind(reason.map(str::to_string))
        .bind(case_id)
        .bind(actor)
        .bind(now)
        .bind(id);
    for f in from {
        q = q.bind(*f);
    }
    Ok(q.execute(&mut *conn).await?.rows_affected() == 1)
}

impl Store {
    /// Raises or refreshes alerts in one transaction; the ids of the new ones.
    pub async fn raise_alerts(
        &self,
        alerts: &[NewAlert],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let ids = upsert_alerts(&mut tx, alerts, now).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Alerts matching `f`, newest first.
    pub async fn alerts(&self, f: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = Vec::new();
        let mut push = |cond: &str, v: String, conds: &mut Vec<String>| {
            binds.push(v);
            conds.push(cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(d) = &f.from_day {
            push("a.detected_on >= ?", d.clone(), &mut conds);
        }
        if let Some(d) = &f.to_day {
            push("a.detected_on <= ?", d.clone(), &mut conds);
        }
        if let Some(c) = &f.category {
            push("a.category_code = ?", c.clone(), &mut conds);
        }
        if let Some(s) = &f.state {
            push("a.state = ?", s.clone(), &mut conds);
        }
        if let Some(areas) = &f.areas {
            if areas.is_empty() {
                conds.push("1 = 0".into());
            } else {
                let start = binds.len();
                binds.extend(areas.iter().cloned());
                let marks: Vec<String> =
                    (start + 1..=binds.len()).map(|i| format!("${i}")).collect();
                conds.push(format!("a.area_code IN ({})", marks.join(", ")));
            }
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts a LEFT JOIN cases c ON c.id = a.case_id \
             WHERE {} ORDER BY a.id DESC LIMIT {}",
            conds.join(" AND "),
            f.limit.clamp(1, 1000)
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// One alert.
    pub async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts a LEFT JOIN cases c ON c.id = a.case_id WHERE a.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Alerts by state (the dashboard's count of new ones).
    pub async fn alert_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM alerts GROUP BY state ORDER BY state")
                .fetch_all(self.pool())
                .await?,
        )
    }
}
