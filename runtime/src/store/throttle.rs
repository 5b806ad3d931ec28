/*!
Failed-login counts (`login_throttle`) and the credentials epoch (`auth_epoch`).

The rules are [`crate::policy::throttle`]; this module only keeps the counts, so that every
`m110d` on the database and a restart see the same ones. Every time is passed in (`now`), never
read here, so tests run a virtual clock.
*/

use super::audit::{NewAudit, record_audit};
use super::{Store, StoreError};
use crate::policy::throttle::{Entry, Rules};

/// The throttle key of a login name: `account:` + SHA-256 of the trimmed, lower-cased name.
pub fn account_key(name: &str) -> String {
    format!(
        "account:{}",
        crate::policy::credentials::sha256_hex(&name.trim().to_lowercase())
    )
}

/// The throttle key of a client address.
pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// An entry from its row (failures, first_at, last_at, locked_until).
fn entry((failures, first_at, last_at, locked_until): (i64, i64, i64, i64)) -> Entry {
    Entry {
        failures,
        first_at,
        last_at,
        locked_until,
    }
}

/// A key and the failure limit that applies to it.
#[derive(Debug, Clone)]
pub struct Counted {
    pub key: String,
    pub limit: i64,
}

impl Store {
    /// The entries of `keys` that exist.
    pub async fn login_throttle(&self, keys: &[&str]) -> Result<Vec<(String, Entry)>, StoreError> {
        let mut out = Vec::new();
        for key in keys {
            let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
                "SELECT failures, first_at, last_at, locked_until FROM login_throttle \
                 WHERE key = $1",
            )
            .bind(*key)
            .fetch_optional(self.pool())
            .await?;
            if let Some(row) = row {
                out.push((key.to_string(), entry(row)));
            }
        }
        Ok(out)
    }

    /// Counts one failed login at `now` against every key (in one transaction with its audit
    /// row); returns the entries as they now stand, in the order of `keys`.
    pub async fn record_login_failure(
        &self,
        rules: &Rules,
        keys: &[Counted],
        now: i64,
        audit: &NewAudit<'_>,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Vec::with_capacity(keys.len());
        for c in keys {
            let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
                "SELECT failures, first_at, last_at, locked_until FROM login_throttle \
                 WHERE key = $1",
            )
            .bind(&c.key)
            .fetch_optional(&mut *tx)
            .await?;
            let old = row.map(entry);
            let e = rules.after_failure(old, now, c.limit);
            sqlx::query(
                "INSERT INTO login_throttle (key, failures, first_at, last_at, locked_until) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET \
                 failures = excluded.failures, first_at = excluded.first_at, \
                 last_at = excluded.last_at, locked_until = excluded.locked_until",
            )
            .bind(&c.key)
            .bind(e.failures)
            .bind(e.first_at)
            .bind(e.last_at)
            .bind(e.locked_until)
            .execute(&mut *tx)
            .await?;
            out.push(e);
        }
        record_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Forgets an account's failures (a successful login). Returns whether there were any.
    pub async fn clear_login_failures(&self, key: &str) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// An administrator lifts a lockout: clears the failures of user `user_id`'s login name
    /// (audited as `user.unlock` by `actor`). `NotFound` for an unknown user; `Ok(false)` when
    /// the account had no failures.
    pub async fn unlock_user(
        &self,
        user_id: i64,
        actor: &NewAudit<'_>,
    ) -> Result<bool, StoreError> {
        let (name,): (String,) = sqlx::query_as("SELECT name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(self.pool())
            .await?;
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(account_key(&name))
            .execute(&mut *tx)
            .await?;
        let target = format!("user:{user_id}");
        let cleared = done.rows_affected() > 0;
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::json!({ "had_failures": cleared })),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(cleared)
    }

    /// Deletes counts that no longer matter at `now` (no failure for a window, no lock).
    pub async fn purge_login_throttle(&self, rules: &Rules, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("DELETE FROM login_throttle WHERE last_at < $1 AND locked_until <= $2")
                .bind(now - rules.window_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The credentials epoch: changes whenever a Bearer token may have lost rights.
    pub async fn auth_epoch(&self) -> Result<i64, StoreError> {
        let (epoch,): (i64,) =
            sqlx::query_as("SELECT epoch FROM auth_epoch WHERE name = 'credentials'")
                .fetch_one(self.pool())
                .await?;
        Ok(epoch)
    }
}

/// Moves the credentials epoch on, inside the transaction that revokes or demotes.
pub(super) async fn bump_auth_epoch(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE auth_epoch SET epoch = epoch + 1 WHERE name = 'credentials'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::throttle::DEFAULT_RULES;
    use crate::store::Engine;
    use crate::store::testdb::TestDb;

    async fn counts_and_locks(engine: Engine) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        let acct = account_key(" Op1 ");
        assert_eq!(acct, account_key("op1"), "names compare trimmed, any case");
        let keys = [
            Counted {
                key: acct.clone(),
                limit: 3,
            },
            Counted {
                key: address_key("10.0.0.9"),
                limit: 100,
            },
        ];
        let audit = NewAudit::system("test", "login.failed", None);
        // A virtual clock: failures one second apart.
        let mut last = Vec::new();
        for i in 0..3 {
            last = store
                .record_login_failure(&DEFAULT_RULES, &keys, 1_000 * i, &audit)
                .await
                .unwrap();
        }
        assert_eq!(last[0].failures, 3);
        assert_eq!(last[0].locked_for(2_000), Some(DEFAULT_RULES.base_lock_ms));
        assert_eq!(
            last[1].locked_for(2_000),
            None,
            "the address is under its limit"
        );
        let seen = store
            .login_throttle(&[acct.as_str(), "address:10.0.0.9"])
            .await
            .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].1, last[0]);
        // Purge keeps what still counts, drops what is over.
        assert_eq!(
            store
                .purge_login_throttle(&DEFAULT_RULES, 3_000)
                .await
                .unwrap(),
            0
        );
        let much_later = 2_000 + DEFAULT_RULES.window_ms + DEFAULT_RULES.max_lock_ms;
        assert_eq!(
            store
                .purge_login_throttle(&DEFAULT_RULES, much_later)
                .await
                .unwrap(),
            2
        );
        // A success clears the account.
        store
            .record_login_failure(&DEFAULT_RULES, &keys[..1], 5_000, &audit)
            .await
            .unwrap();
        assert!(store.clear_login_failures(&acct).await.unwrap());
        assert!(!store.clear_login_failures(&acct).await.unwrap());
        let e0 = store.auth_epoch().await.unwrap();
        let mut tx = store.write().await.unwrap();
        bump_auth_epoch(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.auth_epoch().await.unwrap(), e0 + 1);
    }

    #[tokio::test]
    async fn counts_and_locks_sqlite() {
        counts_and_locks(Engine::Sqlite).await
    }

    #[tokio::test]
    async fn counts_and_locks_postgres() {
        if !crate::store::testdb::postgres_enabled() {
            return;
        }
        counts_and_locks(Engine::Postgres).await
    }
}
