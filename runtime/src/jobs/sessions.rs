/*!
The session job: every few minutes, deletes sessions past their 12-hour expiry or idle for
longer than `session_idle_minutes`, and failed-login counts that no longer matter (no failure
for a window, no lock). Both are deletes by time, safe on every `m110d` at once.

A stale session is already refused where it is read (`Store::session` checks both times); the
purge only keeps the tables small and a leaked database backup free of live-looking sessions.
*/

use super::{Counts, Job};
use crate::policy::throttle::Rules;
use crate::store::{Store, StoreError};

pub struct SessionPurge {
    pub store: Store,
    pub idle_ms: i64,
    pub rules: Rules,
}

impl Job for SessionPurge {
    fn name(&self) -> &'static str {
        "session_purge"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let sessions = self.store.purge_expired_sessions(now, self.idle_ms).await?;
        let counts = self.store.purge_login_throttle(&self.rules, now).await?;
        Ok(vec![("sessions", sessions), ("login_counts", counts)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::throttle::DEFAULT_RULES;
    use crate::store::Engine;
    use crate::store::testdb::TestDb;

    async fn purges_expired_and_idle_sessions(engine: Engine) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        let user =
            crate::store::testdb::principal(store, "op1", crate::model::Role::Operator, None).await;
        let kept = store.create_session(user.user_id, 3_600_000).await.unwrap();
        let idle = store.create_session(user.user_id, 3_600_000).await.unwrap();
        let expired = store.create_session(user.user_id, -1).await.unwrap();
        let now = crate::model::time::now_ms();
        let job = SessionPurge {
            store: store.clone(),
            idle_ms: 600_000,
            rules: DEFAULT_RULES,
        };
        // Both live sessions were seen just now; only the expired one goes.
        let c = job.run(now).await.unwrap();
        assert_eq!(c[0], ("sessions", 1));
        assert!(store.session(&expired.id, 600_000).await.is_err());
        // Ten minutes later with no use: the idle one is refused, then purged.
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE csrf_token = $2")
            .bind(now - 600_001)
            .bind(&idle.csrf_token)
            .execute(store.pool())
            .await
            .unwrap();
        assert!(matches!(
            store.session(&idle.id, 600_000).await,
            Err(StoreError::NotFound)
        ));
        assert!(store.session(&kept.id, 600_000).await.is_ok());
        let c = job.run(now).await.unwrap();
        assert_eq!(c[0], ("sessions", 1));
        assert!(store.session(&kept.id, 600_000).await.is_ok());
    }

    #[tokio::test]
    async fn purges_expired_and_idle_sessions_sqlite() {
        purges_expired_and_idle_sessions(Engine::Sqlite).await
    }

    #[tokio::test]
    async fn purges_expired_and_idle_sessions_postgres() {
        if !crate::store::testdb::postgres_enabled() {
            return;
        }
        purges_expired_and_idle_sessions(Engine::Postgres).await
    }
}
