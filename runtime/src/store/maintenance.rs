/*!
What maintainers' commands ask of the database: a consistent online copy (SQLite
`VACUUM INTO`, which reads one snapshot while `m110d` keeps writing), integrity and foreign-key
checks, the migrations applied with their checksums, and the counts a backup or a check reports.
*/

use super::{Engine, Store, StoreError};

/// A migration as the database recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
    pub success: bool,
    pub checksum: Vec<u8>,
}

impl Store {
    /// Writes a consistent copy of a SQLite database to `path` (which must not exist), while
    /// other connections keep reading and writing.
    pub async fn sqlite_copy_into(&self, path: &str) -> Result<(), StoreError> {
        if self.engine() != Engine::Sqlite {
            return Err(StoreError::Other("VACUUM INTO is SQLite's".into()));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// SQLite `PRAGMA integrity_check` and `foreign_key_check`: every problem, none when sound.
    /// PostgreSQL enforces both itself; nothing to report there.
    pub async fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        if self.engine() != Engine::Sqlite {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(self.pool())
            .await?;
        out.extend(
            rows.into_iter()
                .map(|r| r.0)
                .filter(|r| r != "ok")
                .map(|r| format!("integrity_check: {r}")),
        );
        let fk: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
                .fetch_all(self.pool())
                .await?;
        out.extend(
            fk.into_iter()
                .map(|(t, id, p)| format!("foreign key: {t} row {id} points to a missing {p}")),
        );
        Ok(out)
    }

    /// The migrations recorded in `_sqlx_migrations`, by version.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        // The Any driver decodes no SQLite BOOLEAN: the flag is read as an integer.
        let rows: Vec<(i64, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT version, description, CAST(success AS INTEGER), checksum \
             FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(version, description, success, checksum)| AppliedMigration {
                    version,
                    description,
                    success: success != 0,
                    checksum,
                },
            )
            .collect())
    }

    /// Rows of the main tables (what a backup or restore reports).
    pub async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut out = Vec::new();
        for t in [
            "cases",
            "case_events",
            "follow_ups",
            "users",
            "audit_log",
            "outbox",
        ] {
            // Table names are this fixed list, never input.
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(self.pool())
                .await?;
            out.push((t, n));
        }
        Ok(out)
    }

    /// Outbox messages that are dead, or pending since before `cutoff`: what does not arrive.
    pub async fn outbox_backlog(&self, cutoff: i64) -> Result<(i64, i64), StoreError> {
        let (dead, stale): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'pending' AND created_at < $1 THEN 1 ELSE 0 END), 0) \
             FROM outbox",
        )
        .bind(cutoff)
        .fetch_one(self.pool())
        .await?;
        Ok((dead, stale))
    }
}

/// The embedded migrations of `engine`: (version, description, checksum).
pub fn embedded_migrations(engine: Engine) -> Vec<(i64, String, Vec<u8>)> {
    engine
        .migrator()
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, m.description.to_string(), m.checksum.to_vec()))
        .collect()
}

/// One embedded migration in full: what `engine::upgrade` applies inside its transaction.
#[derive(Debug, Clone)]
pub struct KitMigration {
    pub version: i64,
    pub description: String,
    pub sql: String,
    pub checksum: Vec<u8>,
}

/// The embedded migrations of `engine`, in order.
pub fn kit_migrations(engine: Engine) -> Vec<KitMigration> {
    engine
        .migrator()
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| KitMigration {
            version: m.version,
            description: m.description.to_string(),
            sql: m.sql.to_string(),
            checksum: m.checksum.to_vec(),
        })
        .collect()
}

impl Store {
    /// Records left pointing at retired entries that should have moved: open cases held by a
    /// retired unit, active users of a retired unit or grid unit. Each as a sentence.
    pub async fn orphans(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let open: Vec<(String, i64)> = sqlx::query_as(
            "SELECT u.id, COUNT(*) FROM cases c JOIN units u ON u.id = c.unit_id \
             WHERE u.retired_at IS NOT NULL AND c.status <> 'closed' GROUP BY u.id ORDER BY u.id",
        )
        .fetch_all(self.pool())
        .await?;
        for (unit, n) in open {
            out.push(format!("{n} open case(s) held by retired unit {unit}"));
        }
        let users: Vec<(String, i64)> = sqlx::query_as(
            "SELECT u.id, COUNT(*) FROM users s JOIN units u ON u.id = s.unit_id \
             WHERE u.retired_at IS NOT NULL AND s.disabled = 0 GROUP BY u.id ORDER BY u.id",
        )
        .fetch_all(self.pool())
        .await?;
        for (unit, n) in users {
            out.push(format!(
                "{n} active user(s) of retired unit {unit}: give them another unit or disable them"
            ));
        }
        let grid: Vec<(String, i64)> = sqlx::query_as(
            "SELECT g.code, COUNT(*) FROM user_grid_units x JOIN grid_units g ON g.code = x.grid_code \
             WHERE g.retired_at IS NOT NULL GROUP BY g.code ORDER BY g.code",
        )
        .fetch_all(self.pool())
        .await?;
        for (code, n) in grid {
            out.push(format!(
                "{n} grid worker(s) still assigned to retired grid unit {code}"
            ));
        }
        Ok(out)
    }
}
