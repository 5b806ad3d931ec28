/*!
Cameras (table `cameras`, columns of 0001 plus `kind`, `link`, `position` from 0130): the
profile's cameras as provisioning and upgrades write them, and as the region is read back.
Cameras carry no history (no case points at one), so an upgrade that drops a camera deletes it.
*/

use sqlx::AnyConnection;

use super::StoreError;
use super::provision::WriteMode;
use crate::model::time::now_ms;
use crate::model::{Camera, LatLon, Region};

/// Writes the region's cameras in the caller's transaction. Provisioning inserts; an upgrade
/// upserts by camera id and deletes the cameras the new region no longer lists.
pub async fn write_cameras(
    tx: &mut AnyConnection,
    region: &Region,
    mode: WriteMode,
) -> Result<(), StoreError> {
    let now = now_ms();
    if mode == WriteMode::Upsert {
        let keep: std::collections::HashSet<&str> =
            region.cameras.iter().map(|c| c.id.as_str()).collect();
        let have: Vec<(String,)> = sqlx::query_as("SELECT code FROM cameras")
            .fetch_all(&mut *tx)
            .await?;
        for (code,) in have.iter().filter(|(c,)| !keep.contains(c.as_str())) {
            sqlx::query("DELETE FROM cameras WHERE code = $1")
                .bind(code)
                .execute(&mut *tx)
                .await?;
        }
    }
    let conflict = match mode {
        WriteMode::Insert => "",
        WriteMode::Upsert => {
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             platform_id = excluded.platform_id, grid_code = excluded.grid_code, \
             lat = excluded.lat, lon = excluded.lon, link = excluded.link, \
             position = excluded.position, updated_at = excluded.updated_at"
        }
    };
    let sql = format!(
        "INSERT INTO cameras (code, name, kind, platform_id, grid_code, lat, lon, link, position, \
         status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10){conflict}"
    );
    for (pos, c) in region.cameras.iter().enumerate() {
        sqlx::query(&sql)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.kind)
            .bind(c.platform.as_deref())
            .bind(c.grid.as_deref())
            .bind(c.location.map(|l| l.lat))
            .bind(c.location.map(|l| l.lon))
            .bind(c.link.as_deref())
            .bind(pos as i64)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(m) => StoreError::Conflict(format!("camera {}: {m}", c.id)),
                StoreError::Invalid(m) => StoreError::Invalid(format!("camera {}: {m}", c.id)),
                other => other,
            })?;
    }
    Ok(())
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
);

/// The provisioned cameras, in profile order.
pub async fn load_cameras(conn: &mut AnyConnection) -> Result<Vec<Camera>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT code, name, kind, grid_code, platform_id, lat, lon, link FROM cameras \
         ORDER BY position, code",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind, grid, platform, lat, lon, link)| Camera {
            id,
            name,
            kind,
            grid,
            location: lat.zip(lon).map(|(lat, lon)| LatLon { lat, lon }),
            platform,
            link,
        })
        .collect())
}
