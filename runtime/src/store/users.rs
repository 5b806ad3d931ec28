/*!
Users, login sessions and API tokens.

A user has one [`Role`]; a `unit_handler` is bound to a handling unit, a `grid_worker` to one or
more grid units. An API token acts as its user: `m110 token add --name N --role R` creates a
password-less service user `N` when none exists. Sessions and tokens are looked up by the SHA-256
of the secret, so the database never holds a usable credential.

Password hashing is CPU heavy; [`Store::authenticate_password`] runs it on a blocking thread.
*/

use serde::Serialize;
use sqlx::AnyConnection;

use super::audit::{NewAudit, record_audit};
use super::{Store, StoreError};
use crate::model::time::now_ms;
use crate::model::{Principal, Role, TokenScope};
use crate::policy::credentials as auth;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub grid_codes: Vec<String>,
    /// argon2 PHC string from [`auth::hash_password`]; `None` for token-only service users.
    pub password_hash: Option<String>,
}

/// A stored user as listed to admins (no hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub grid_codes: Vec<String>,
    pub disabled: bool,
    pub has_password: bool,
    pub created_at: i64,
    /// Real name (姓名) and work phone, set by an admin (see [`super::accounts`]).
    pub real_name: Option<String>,
    pub phone: Option<String>,
    /// The password was set by someone else: the console asks for a new one first.
    pub must_change_password: bool,
}

/// A new login session: the cookie value (give to the client once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// A session found by its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: i64,
    /// The user must set a new password before anything else (a one-time password).
    pub must_change_password: bool,
}

/// An API token as listed to admins (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub role: Role,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Longest user name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Checks a login name: 1–64 characters, no whitespace or control characters.
pub fn validate_user_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(StoreError::Invalid(format!(
            "name: must be 1 to {MAX_NAME_LEN} characters"
        )));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(
            "name: must not contain spaces or control characters".into(),
        ));
    }
    Ok(())
}

/// Checks a role's bindings: `unit_handler` needs an existing unit, `grid_worker` existing grid
/// units, and other roles take neither.
pub(super) async fn check_bindings(
    conn: &mut AnyConnection,
    role: Role,
    unit_id: Option<&str>,
    grid_codes: &[String],
) -> Result<(), StoreError> {
    match (role.needs_unit(), &unit_id) {
        (true, None) => {
            return Err(StoreError::Invalid(format!(
                "unit: role {} must be bound to a handling unit",
                role
            )));
        }
        (false, Some(_)) => {
            return Err(StoreError::Invalid(format!(
                "unit: role {} is not bound to a unit",
                role
            )));
        }
        _ => {}
    }
    if role.needs_grid() && grid_codes.is_empty() {
        return Err(StoreError::Invalid(format!(
            "grid: role {} must be bound to at least one grid unit",
            role
        )));
    }
    if !role.needs_grid() && !grid_codes.is_empty() {
        return Err(StoreError::Invalid(format!(
            "grid: role {} is not bound to grid units",
            role
        )));
    }
    if let Some(unit) = &unit_id {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM units WHERE id = $1 AND retired_at IS NULL")
                .bind(unit)
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            return Err(StoreError::Invalid(format!(
                "unit: no handling unit {unit:?}"
            )));
        }
    }
    for code in grid_codes {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT code FROM grid_units WHERE code = $1 AND retired_at IS NULL")
                .bind(code)
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            return Err(StoreError::Invalid(format!("grid: no grid unit {code:?}")));
        }
    }
    Ok(())
}

/// Inserts a user and its grid units on an open connection or transaction; returns its id.
/// Checks the role bindings: `unit_handler` needs a unit, `grid_worker` needs grid units, and
/// other roles take neither.
pub async fn insert_user(conn: &mut AnyConnection, user: &NewUser) -> Result<i64, StoreError> {
    validate_user_name(&user.name)?;
    check_bindings(conn, user.role, user.unit_id.as_deref(), &user.grid_codes).await?;
    let now = now_ms();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (name, role, unit_id, password_hash, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
    )
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(user.unit_id.as_deref())
    .bind(user.password_hash.as_deref())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("name: user {:?} already exists", user.name))
        }
        other => other,
    })?;
    for code in &user.grid_codes {
        sqlx::query(
            "INSERT INTO user_grid_units (user_id, grid_code) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(code)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

type UserRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

/// The columns of [`UserRow`], in order.
pub(super) const USER_COLUMNS: &str = "id, name, role, unit_id, password_hash, disabled, \
     created_at, real_name, phone, must_change_password";

fn principal_of(user: User) -> Principal {
    Principal {
        user_id: user.id,
        name: user.name,
        role: user.role,
        unit_id: user.unit_id,
        grid_codes: user.grid_codes,
        scope: None,
    }
}

fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s)
        .ok_or_else(|| StoreError::Other(format!("unknown role {s:?} in database").into()))
}

/// How precisely a token's `last_used_at` is kept: the administrator's "last used" column
/// needs minutes, not every request.
pub const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;

/// How precisely a session's `last_seen_at` is kept: the idle timeout counts in minutes.
pub const SESSION_SEEN_RESOLUTION_MS: i64 = 60_000;

/// When this process last recorded each token's use.
#[derive(Debug, Default, Clone)]
pub(super) struct TokenUses(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, i64>>>);

impl TokenUses {
    /// Whether token `id`'s use at `now` should be written (and, if so, remembers it).
    fn due(&self, id: i64, now: i64) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(&id) {
            Some(at) if now - at < TOKEN_USE_RESOLUTION_MS => false,
            _ => {
                seen.insert(id, now);
                true
            }
        }
    }
}

impl Store {
    /// Creates a user (audited as `user.create` by `actor`); returns its id.
    pub async fn create_user(
        &self,
        user: &NewUser,
        actor: &NewAudit<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_user(&mut tx, user).await?;
        let target = format!("user:{id}");
        let audit = NewAudit {
            target: Some(&target),
            detail: Some(serde_json::json!({"name": user.name, "role": user.role.as_str()})),
            ..actor.clone()
        };
        record_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn grid_codes_of(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT grid_code FROM user_grid_units WHERE user_id = $1 ORDER BY grid_code",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    pub(super) async fn user_from_row(&self, row: UserRow) -> Result<User, StoreError> {
        let (
            id,
            name,
            role,
            unit_id,
            password_hash,
            disabled,
            created_at,
            real_name,
            phone,
            must_change,
        ) = row;
        Ok(User {
            id,
            name,
            role: parse_role(&role)?,
            unit_id,
            grid_codes: self.grid_codes_of(id).await?,
            disabled: disabled != 0,
            has_password: password_hash.is_some(),
            created_at,
            real_name,
            phone,
            must_change_password: must_change != 0,
        })
    }

    /// A user by id.
    pub async fn user(&self, id: i64) -> Result<User, StoreError> {
        let row: UserRow =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        self.user_from_row(row).await
    }

    /// A user by login name.
    pub async fn user_by_name(&self, name: &str) -> Result<User, StoreError> {
        let row: UserRow =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"))
                .bind(name)
                .fetch_one(self.pool())
                .await?;
        self.user_from_row(row).await
    }

    /// All users, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
                .fetch_all(self.pool())
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.user_from_row(row).await?);
        }
        Ok(out)
    }

    /// The principal of an enabled user.
    pub async fn principal(&self, user_id: i64) -> Result<Principal, StoreError> {
        let user = self.user(user_id).await?;
        if user.disabled {
            return Err(StoreError::NotFound);
        }
        Ok(principal_of(user))
    }

    /// Enables or disables a user; disabling also ends their sessions.
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        // Cached Bearer tokens of the user stop working in every process.
        super::throttle::bump_auth_epoch(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's password hash and ends their sessions (a changed password must log out
    /// whoever used the old one).
    pub async fn set_password_hash(&self, user_id: i64, phc: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(phc)
                .bind(now_ms())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a login checks a password against: the user's id and PHC string, when the name
    /// belongs to an enabled user with a password (`None` otherwise — the caller then checks
    /// against a dummy hash, so every answer takes as long).
    pub async fn login_record(&self, name: &str) -> Result<Option<(i64, String)>, StoreError> {
        let row: Option<(i64, Option<String>, i64)> =
            sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            Some((id, Some(phc), 0)) => Some((id, phc)),
            _ => None,
        })
    }

    /// Checks a login. `NotFound` for an unknown or disabled user, a user without password, or
    /// a wrong password — callers must not tell these apart to the client.
    pub async fn authenticate_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Principal, StoreError> {
        let Some((id, phc)) = self.login_record(name).await? else {
            return Err(StoreError::NotFound);
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
            .await
            .map_err(|e| StoreError::Other(Box::new(e)))?
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        if !ok {
            return Err(StoreError::NotFound);
        }
        self.principal(id).await
    }

    /// Starts a session for `user_id` lasting `ttl_ms`.
    pub async fn create_session(
        &self,
        user_id: i64,
        ttl_ms: i64,
    ) -> Result<NewSession, StoreError> {
        let (id, id_hash) = auth::generate_session_id();
        let csrf_token = auth::random_hex(32);
        let now = now_ms();
        let expires_at = now + ttl_ms;
        // Through the writer like every write: on SQLite a write beside it would wait in
        // SQLite's busy handler (and past the bound fail) while a batch holds the lock.
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(&id_hash)
        .bind(user_id)
        .bind(&csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            id,
            csrf_token,
            expires_at,
        })
    }

    /// The live session behind a cookie value; `NotFound` when unknown, expired, idle for
    /// longer than `idle_ms`, or the user is disabled. Records the use (to the minute, off the
    /// request path, like a token's) so the idle clock restarts.
    pub async fn session(&self, cookie_value: &str, idle_ms: i64) -> Result<Session, StoreError> {
        self.session_with(cookie_value, idle_ms, true).await
    }

    /// [`Store::session`] without recording a use: for checks that are not the user's doing
    /// (a live-update stream asking whether its session still stands), which must not keep an
    /// idle session alive.
    pub async fn session_peek(
        &self,
        cookie_value: &str,
        idle_ms: i64,
    ) -> Result<Session, StoreError> {
        self.session_with(cookie_value, idle_ms, false).await
    }

    async fn session_with(
        &self,
        cookie_value: &str,
        idle_ms: i64,
        touch: bool,
    ) -> Result<Session, StoreError> {
        let id_hash = auth::sha256_hex(cookie_value);
        let now = now_ms();
        let (user_id, csrf_token, expires_at, last_seen_at): (i64, String, i64, i64) =
            sqlx::query_as(
                "SELECT user_id, csrf_token, expires_at, last_seen_at FROM sessions \
                 WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
            )
            .bind(&id_hash)
            .bind(now)
            .bind(now - idle_ms)
            .fetch_one(self.pool())
            .await?;
        let user = self.user(user_id).await?;
        if user.disabled {
            return Err(StoreError::NotFound);
        }
        if touch && now - last_seen_at >= SESSION_SEEN_RESOLUTION_MS {
            // Off the request path: one write per session and minute, not per page view.
            let store = self.clone();
            tokio::spawn(async move {
                let touched = async {
                    let mut tx = store.write().await?;
                    sqlx::query(
                        "UPDATE sessions SET last_seen_at = $1 \
                         WHERE id_hash = $2 AND last_seen_at < $1",
                    )
                    .bind(now)
                    .bind(&id_hash)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                };
                if let Err(e) = touched.await {
                    tracing::warn!(error = %e, "recording a session's use failed");
                }
            });
        }
        Ok(Session {
            must_change_password: user.must_change_password,
            principal: principal_of(user),
            csrf_token,
            expires_at,
        })
    }

    /// Ends a session (logout). Unknown sessions are ignored.
    pub async fn delete_session(&self, cookie_value: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(auth::sha256_hex(cookie_value))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes sessions that expired or were idle longer than `idle_ms` at `now`; returns how
    /// many (the session job runs it).
    pub async fn purge_expired_sessions(&self, now: i64, idle_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now - idle_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Issues an API token for user `name`, creating a password-less service user with `role`
    /// when none exists; an existing user must have that role. Returns the token (show it once)
    /// and its id. Audited as `token.create`.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        actor: &NewAudit<'_>,
    ) -> Result<(String, i64), StoreError> {
        self.create_scoped_token(name, role, None, actor).await
    }

    /// [`Store::create_token`] limited to `scope` (Open311 clients, emergency-line bridges).
    pub async fn create_scoped_token(
        &self,
        name: &str,
        role: Role,
        scope: Option<TokenScope>,
        actor: &NewAudit<'_>,
    ) -> Result<(String, i64), StoreError> {
        if role.needs_unit() || role.needs_grid() {
            // A service user cannot be bound from here; bind a real user instead.
            let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
            if existing.is_none() {
                return Err(StoreError::Invalid(format!(
                    "role: a {role} token needs an existing user {name:?} bound to its unit or grid \
                     (create it with `m110 user add`)"
                )));
            }
        }
        let mut tx = self.write().await?;
        let row: Option<(i64, String, i64)> =
            sqlx::query_as("SELECT id, role, disabled FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let user_id = match row {
            Some((id, existing, disabled)) => {
                if existing != role.as_str() {
                    return Err(StoreError::Conflict(format!(
                        "role: user {name:?} exists with role {existing}, not {role}"
                    )));
                }
                if disabled != 0 {
                    return Err(StoreError::Invalid(format!(
                        "name: user {name:?} is disabled"
                    )));
                }
                id
            }
            None => {
                insert_user(
                    &mut tx,
                    &NewUser {
                        name: name.to_string(),
                        role,
                        unit_id: None,
                        grid_codes: vec![],
                        password_hash: None,
                    },
                )
                .await?
            }
        };
        let (token, hash) = auth::generate_token();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, scope) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(&hash)
        .bind(now_ms())
        .bind(scope.map(TokenScope::as_str))
        .fetch_one(&mut *tx)
        .await?;
        let target = format!("token:{id}");
        let audit = NewAudit {
            target: Some(&target),
            detail: Some(serde_json::json!({
                "user": name,
                "role": role.as_str(),
                "scope": scope.map(TokenScope::as_str),
            })),
            ..actor.clone()
        };
        record_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok((token, id))
    }

    /// The principal behind a Bearer token / Open311 `api_key`; records its last use (to the
    /// minute: at most once per [`TOKEN_USE_RESOLUTION_MS`] per token and process).
    /// `NotFound` when unknown, revoked, or its user is disabled.
    pub async fn principal_for_token(&self, token: &str) -> Result<Principal, StoreError> {
        let hash = auth::sha256_hex(token);
        let (id, user_id, scope): (i64, i64, Option<String>) = sqlx::query_as(
            "SELECT id, user_id, scope FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_one(self.pool())
        .await?;
        let mut principal = self.principal(user_id).await?;
        principal.scope = scope.as_deref().and_then(TokenScope::parse);
        let now = now_ms();
        if self.token_uses.due(id, now) {
            // Off the request path: an integration posting hundreds of cases a second would
            // otherwise write this one row (one commit, and on SQLite the one writer) per
            // request, and every request would queue behind the last one's.
            let store = self.clone();
            tokio::spawn(async move {
                let touched = async {
                    let mut tx = store.write().await?;
                    sqlx::query(
                        "UPDATE api_tokens SET last_used_at = $1 \
                         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                };
                if let Err(e) = touched.await {
                    tracing::warn!(error = %e, token = id, "recording a token's last use failed");
                }
            });
        }
        Ok(principal)
    }

    /// Revokes a token by id. `NotFound` when there is no such live token.
    pub async fn revoke_token(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        super::throttle::bump_auth_epoch(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// All tokens, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        type Row = (
            i64,
            i64,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT t.id, t.user_id, u.name, u.role, t.name, t.created_at, t.last_used_at, \
             t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(
                |(id, user_id, user_name, role, name, created_at, last_used_at, revoked_at)| {
                    Ok(TokenInfo {
                        id,
                        user_id,
                        user_name,
                        role: parse_role(&role)?,
                        name,
                        created_at,
                        last_used_at,
                        revoked_at,
                    })
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_use_is_written_once_a_minute() {
        let uses = TokenUses::default();
        assert!(uses.due(1, 1_000), "the first use is recorded");
        assert!(!uses.due(1, 1_000 + TOKEN_USE_RESOLUTION_MS - 1));
        assert!(uses.due(2, 1_500), "each token on its own");
        assert!(uses.due(1, 1_000 + TOKEN_USE_RESOLUTION_MS));
        // A clone (another handle on the same store) shares what was recorded.
        assert!(!uses.clone().due(2, 2_000));
    }
}
