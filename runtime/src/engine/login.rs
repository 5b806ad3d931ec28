/*!
Password checks for every front-end (JSON login, console login, password changes): throttled,
bounded and constant in what they reveal.

- **Throttled** ([`crate::policy::throttle`]): failures are counted per login name and per client
  address in the database; past the limits an attempt is refused unchecked with a wait
  ([`LoginError::Locked`], 429 + `Retry-After` at the edges).
- **Bounded**: argon2 costs ~19 MiB and tens of milliseconds of one core per check. Checks and
  hashes run on the blocking pool behind one semaphore of [`hashing_permits`]; a caller waits
  at most [`HASHING_WAIT`] for a permit, then gets [`LoginError::Busy`] (503). A login flood
  therefore takes that many cores at most, never hundreds of threads, and intake keeps its
  latency.
- **Constant**: an unknown, disabled or password-less name is checked against a dummy hash, so it
  takes as long as a known one; all of them answer the same [`LoginError::Refused`].
- **Audited**: every refusal writes `login.failed` (a known user as its target; an unknown name
  only as a SHA-256 prefix — people type passwords into the name box) with the client address;
  a lock that starts writes `login.locked`. Logs carry the same hash prefix, never the name.

The clock is injected ([`LoginGate::with_clock`]) so the throttling tests run on virtual time.
*/

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::model::Principal;
use crate::model::time::now_ms;
use crate::policy::credentials;
use crate::policy::throttle::{DEFAULT_RULES, Rules, retry_after_secs};
use crate::store::audit::NewAudit;
use crate::store::throttle::{Counted, account_key, address_key};
use crate::store::{Store, StoreError};

/// How many password hashes run at once: half the cores (at least one), so a login flood
/// leaves the other half to intake and the console.
pub fn hashing_permits() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}
/// The longest a check waits for a hashing permit before answering busy.
pub const HASHING_WAIT: Duration = Duration::from_secs(3);

/// Why a password check did not let someone in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong name or password (never says which).
    #[error("wrong login name or password")]
    Refused,
    /// Too many failures: try again in `retry_after_secs`.
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    /// Every hashing permit is taken: try again shortly.
    #[error("too many logins at once; try again shortly")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A clock in Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The login gate one server shares: rules, hashing permits and a clock.
#[derive(Clone)]
pub struct LoginGate {
    rules: Rules,
    hashing: Arc<Semaphore>,
    hashing_wait: Duration,
    clock: Clock,
}

impl Default for LoginGate {
    fn default() -> Self {
        LoginGate::with_clock(DEFAULT_RULES, Arc::new(now_ms))
    }
}

impl std::fmt::Debug for LoginGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGate")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// The dummy PHC string unknown names are checked against (made once, with the real
/// parameters, so the check costs what a real one does).
static DUMMY_PHC: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    credentials::hash_password(&credentials::random_hex(16)).expect("argon2 with fixed parameters")
});

/// A short, stable, non-reversible mention of a login name for logs and audit rows.
pub fn name_hash(name: &str) -> String {
    credentials::sha256_hex(&name.trim().to_lowercase())[..16].to_string()
}

impl LoginGate {
    pub fn with_clock(rules: Rules, clock: Clock) -> LoginGate {
        LoginGate {
            rules,
            hashing: Arc::new(Semaphore::new(hashing_permits())),
            hashing_wait: HASHING_WAIT,
            clock,
        }
    }

    /// The gate with another bound on the wait for a hashing permit.
    pub fn with_hashing_wait(mut self, wait: Duration) -> LoginGate {
        self.hashing_wait = wait;
        self
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Checks `name` and `password` from client `address` (`None` when unknown): the principal,
    /// or why not. See the module documentation for the rules.
    pub async fn check(
        &self,
        store: &Store,
        name: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<Principal, LoginError> {
        let name = name.trim();
        let now = (self.clock)();
        let account = account_key(name);
        let addr_key = address.map(address_key);
        let mut keys = vec![account.as_str()];
        if let Some(k) = &addr_key {
            keys.push(k.as_str());
        }
        let entries = store.login_throttle(&keys).await?;
        if let Some(wait) = entries.iter().filter_map(|(_, e)| e.locked_for(now)).max() {
            tracing::info!(name_hash = %name_hash(name), address, "login refused: locked");
            return Err(LoginError::Locked {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        let (user_id, phc) = match store.login_record(name).await? {
            Some((id, phc)) => (Some(id), phc),
            None => (None, DUMMY_PHC.clone()),
        };
        let verified = self.verify(password, phc).await?;
        if let Some(id) = user_id.filter(|_| verified) {
            if entries.iter().any(|(k, _)| *k == account) {
                store.clear_login_failures(&account).await?;
            }
            return Ok(store.principal(id).await?);
        }
        self.fail(store, name, user_id, address, account, addr_key, now)
            .await
    }

    /// Counts and audits a failure; `Refused`, or `Locked` when this failure started a lock.
    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        store: &Store,
        name: &str,
        user_id: Option<i64>,
        address: Option<&str>,
        account: String,
        addr_key: Option<String>,
        now: i64,
    ) -> Result<Principal, LoginError> {
        let mut counted = vec![Counted {
            key: account,
            limit: self.rules.account_limit,
        }];
        if let Some(key) = addr_key {
            counted.push(Counted {
                key,
                limit: self.rules.address_limit,
            });
        }
        let target = user_id.map(|id| format!("user:{id}"));
        let audit = NewAudit {
            actor_id: None,
            actor_name: None,
            action: "login.failed",
            target: target.as_deref(),
            detail: Some(serde_json::json!({
                "name_hash": name_hash(name),
                "address": address,
            })),
        };
        let after = store
            .record_login_failure(&self.rules, &counted, now, &audit)
            .await?;
        tracing::info!(name_hash = %name_hash(name), address, "login refused");
        if let Some(wait) = after.iter().filter_map(|e| e.locked_for(now)).max() {
            let audit = NewAudit {
                action: "login.locked",
                detail: Some(serde_json::json!({
                    "name_hash": name_hash(name),
                    "address": address,
                    "seconds": retry_after_secs(wait),
                })),
                ..audit
            };
            store.audit(&audit).await?;
        }
        Err(LoginError::Refused)
    }

    /// Verifies on the blocking pool under a hashing permit.
    async fn verify(&self, password: &str, phc: String) -> Result<bool, LoginError> {
        let password = password.to_string();
        self.hashing_job(move || {
            credentials::verify_password(&password, &phc)
                .map_err(|e| LoginError::Hash(e.to_string()))
        })
        .await
    }

    /// Hashes a new password on the blocking pool under a hashing permit.
    pub async fn hash(&self, password: &str) -> Result<String, LoginError> {
        let password = password.to_string();
        self.hashing_job(move || {
            credentials::hash_password(&password).map_err(|e| LoginError::Hash(e.to_string()))
        })
        .await
    }

    async fn hashing_job<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, LoginError> + Send + 'static,
    ) -> Result<T, LoginError> {
        let permit =
            tokio::time::timeout(self.hashing_wait, Arc::clone(&self.hashing).acquire_owned())
                .await
                .map_err(|_| LoginError::Busy)?
                .map_err(|_| LoginError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| LoginError::Hash(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::model::Role;
    use crate::store::Engine;
    use crate::store::audit::AuditFilter;
    use crate::store::testdb::TestDb;
    use crate::store::users::NewUser;

    /// A virtual clock the test moves by hand.
    fn virtual_clock() -> (Arc<AtomicI64>, Clock) {
        let t = Arc::new(AtomicI64::new(1_800_000_000_000));
        let c = Arc::clone(&t);
        (t, Arc::new(move || c.load(Ordering::SeqCst)))
    }

    async fn locks_then_lets_in_after_the_wait(engine: Engine) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        let phc = credentials::hash_password("right-password-1").unwrap();
        store
            .create_user(
                &NewUser {
                    name: "op1".into(),
                    role: Role::Operator,
                    unit_id: None,
                    grid_codes: vec![],
                    password_hash: Some(phc),
                },
                &NewAudit::system("test", "user.create", None),
            )
            .await
            .unwrap();
        let (t, clock) = virtual_clock();
        let gate = LoginGate::with_clock(DEFAULT_RULES, clock);
        let addr = Some("192.0.2.7");
        for _ in 0..DEFAULT_RULES.account_limit {
            let e = gate.check(store, "op1", "wrong", addr).await.unwrap_err();
            assert!(matches!(e, LoginError::Refused), "{e:?}");
            t.fetch_add(1_000, Ordering::SeqCst);
        }
        // Locked: even the right password is refused, unchecked, with the wait.
        match gate.check(store, "OP1", "right-password-1", addr).await {
            Err(LoginError::Locked { retry_after_secs }) => {
                assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected a lock, got {other:?}"),
        }
        // An unknown name is counted and locked the same way (no user enumeration).
        for _ in 0..DEFAULT_RULES.account_limit {
            assert!(matches!(
                gate.check(store, "nobody", "x", None).await,
                Err(LoginError::Refused)
            ));
        }
        assert!(matches!(
            gate.check(store, "nobody", "x", None).await,
            Err(LoginError::Locked { .. })
        ));
        // The wait passes on the virtual clock: the right password gets in and clears the count.
        t.fetch_add(DEFAULT_RULES.base_lock_ms, Ordering::SeqCst);
        let p = gate
            .check(store, "op1", "right-password-1", addr)
            .await
            .unwrap();
        assert_eq!(p.name, "op1");
        assert!(
            store
                .login_throttle(&[account_key("op1").as_str()])
                .await
                .unwrap()
                .is_empty()
        );
        // Each failure is audited, with the known user as target and no name in the clear.
        let entries = |action: &str| {
            let filter = AuditFilter {
                action: Some(action.to_string()),
                ..AuditFilter::default()
            };
            async move { store.audit_entries(&filter).await.unwrap() }
        };
        // Newest first.
        let failed: Vec<(Option<String>, String)> = entries("login.failed")
            .await
            .into_iter()
            .rev()
            .map(|e| {
                (
                    e.target,
                    e.detail.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(failed.len(), 2 * DEFAULT_RULES.account_limit as usize);
        assert!(failed[0].0.as_deref().unwrap().starts_with("user:"));
        assert_eq!(
            failed.last().unwrap().0,
            None,
            "an unknown name has no target"
        );
        assert!(
            failed
                .iter()
                .all(|(_, d)| !d.contains("nobody") && !d.contains("op1"))
        );
        assert_eq!(entries("login.locked").await.len(), 2);
    }

    #[tokio::test]
    async fn locks_then_lets_in_after_the_wait_sqlite() {
        locks_then_lets_in_after_the_wait(Engine::Sqlite).await
    }

    #[tokio::test]
    async fn locks_then_lets_in_after_the_wait_postgres() {
        if !crate::store::testdb::postgres_enabled() {
            return;
        }
        locks_then_lets_in_after_the_wait(Engine::Postgres).await
    }

    #[tokio::test]
    async fn hashing_waits_for_a_permit_and_answers_busy_past_the_bound() {
        let gate = LoginGate::default().with_hashing_wait(Duration::from_millis(50));
        // Hold every permit: a check cannot start and answers busy past the wait.
        let held = Arc::clone(&gate.hashing)
            .acquire_many_owned(hashing_permits() as u32)
            .await
            .unwrap();
        let r = gate.hash("some-password-9").await;
        assert!(matches!(r, Err(LoginError::Busy)), "{r:?}");
        drop(held);
        assert!(
            gate.hash("some-password-9")
                .await
                .unwrap()
                .starts_with("$argon2id$")
        );
    }
}
