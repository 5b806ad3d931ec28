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
