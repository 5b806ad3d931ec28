/*!
Accounts as the console's administration pages change them: real name and work phone, role and
its bindings, disabling, one-time passwords that must be changed at first login, one-time reset
links, and a user changing their own password.

Every change writes its audit row in the same transaction. A change of role, unit, grid cells,
password or the disabled flag ends the user's sessions, so nobody keeps acting under rights they
no longer have. Reset links are kept as the SHA-256 of the token only, used once, and expire.
*/

use sqlx::AnyConnection;

use super::audit::{NewAudit, record_audit};
use super::users::{NewUser, User, check_bindings, insert_user};
use super::{Store, StoreError};
use crate::model::Role;
use crate::model::time::now_ms;
use crate::policy::credentials as auth;

/// Longest real name accepted.
pub const MAX_REAL_NAME: usize = 32;

/// What an admin sets on an account besides its login name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEdit {
    pub real_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub unit_id: Option<String>,
    pub grid_codes: Vec<String>,
    pub disabled: bool,
}

fn check_profile(real_name: Option<&str>, phone: Option<&str>) -> Result<(), StoreError> {
    if let Some(n) = real_name
        && (n.chars().count() > MAX_REAL_NAME || n.chars().any(char::is_control))
    {
        return Err(StoreError::Invalid(format!(
            "real_name: at most {MAX_REAL_NAME} characters, no control characters"
        )));
    }
    if let Some(p) = phone
        && !(p.len() <= 24 && p.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c)))
    {
        return Err(StoreError::Invalid(
            "phone: digits, spaces, + - ( ) only, at most 24".into(),
        ));
    }
    Ok(())
}

async fn end_sessions(conn: &mut AnyConnection, user_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets the real name, phone and the must-change flag of a user inside a transaction.
pub async fn set_profile_in(
    conn: &mut AnyConnection,
    user_id: i64,
    real_name: Option<&str>,
    phone: Option<&str>,
    must_change_password: bool,
) -> Result<(), StoreError> {
    check_profile(real_name, phone)?;
    sqlx::query(
        "UPDATE users SET real_name = $1, phone = $2, must_change_password = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(real_name)
    .bind(phone)
    .bind(i64::from(must_change_password))
    .bind(now_ms())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Creates an account with a real name and phone; a password given here is a one-time
    /// password (must be changed at first login). Audited as `user.create`.
    pub async fn create_account(
        &self,
        user: &NewUser,
        real_name: Option<&str>,
        phone: Option<&str>,
        actor: &NewAudit<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_user(&mut tx, user).await?;
        set_profile_in(&mut tx, id, real_name, phone, user.password_hash.is_some()).await?;
        let target = format!("user:{id}");
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::json!({
                    "name": user.name, "role": user.role.as_str(), "unit": user.unit_id,
                })),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Applies an admin's edit to account `id`; audited as `user.update` with what changed.
    /// Returns the account as it is now.
    pub async fn update_account(
        &self,
        id: i64,
        edit: &AccountEdit,
        actor: &NewAudit<'_>,
    ) -> Result<User, StoreError> {
        let before = self.user(id).await?;
        if actor.actor_id == Some(id) && (edit.disabled || edit.role != before.role) {
            return Err(StoreError::Invalid(
                "role: you cannot disable yourself or change your own role".into(),
            ));
        }
        let mut tx = self.write().await?;
        check_bindings(
            &mut tx,
            edit.role,
            edit.unit_id.as_deref(),
            &edit.grid_codes,
        )
        .await?;
        check_profile(edit.real_name.as_deref(), edit.phone.as_deref())?;
        sqlx::query(
            "UPDATE users SET real_name = $1, phone = $2, role = $3, unit_id = $4, disabled = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(edit.real_name.as_deref())
        .bind(edit.phone.as_deref())
        .bind(edit.role.as_str())
        .bind(edit.unit_id.as_deref())
        .bind(i64::from(edit.disabled))
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM user_grid_units WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for code in &edit.grid_codes {
            sqlx::query(
                "INSERT INTO user_grid_units (user_id, grid_code) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        }
        let mut grid = edit.grid_codes.clone();
        grid.sort();
        let rights_changed = edit.role != before.role
            || edit.unit_id != before.unit_id
            || grid != before.grid_codes
            || edit.disabled != before.disabled;
        if rights_changed {
            end_sessions(&mut tx, id).await?;
            super::throttle::bump_auth_epoch(&mut tx).await?;
        }
        let mut changed = serde_json::Map::new();
        let mut note = |k: &str, was: serde_json::Value, now: serde_json::Value| {
            if was != now {
                changed.insert(k.into(), serde_json::json!({"from": was, "to": now}));
            }
        };
        note(
            "real_name",
            before.real_name.clone().into(),
            edit.real_name.clone().into(),
        );
        // The phone itself stays out of the audit trail (it is personal data).
        note(
            "phone",
            before.phone.is_some().into(),
            edit.phone.is_some().into(),
        );
        note(
            "role",
            before.role.as_str().into(),
            edit.role.as_str().into(),
        );
        note(
            "unit",
            before.unit_id.clone().into(),
            edit.unit_id.clone().into(),
        );
        note("grid", before.grid_codes.clone().into(), grid.into());
        note("disabled", before.disabled.into(), edit.disabled.into());
        let target = format!("user:{id}");
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::Value::Object(changed)),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        self.user(id).await
    }

    /// Issues a one-time reset link token for `user_id` valid for `ttl_ms` (earlier unused links
    /// of the user die); audited as `user.reset_link`. Returns the token (show it once).
    pub async fn create_password_reset(
        &self,
        user_id: i64,
        ttl_ms: i64,
        actor: &NewAudit<'_>,
    ) -> Result<String, StoreError> {
        let user = self.user(user_id).await?;
        if user.disabled {
            return Err(StoreError::Invalid(
                "disabled: enable the account before resetting its password".into(),
            ));
        }
        let token = auth::random_hex(24);
        let now = now_ms();
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(auth::sha256_hex(&token))
        .bind(user_id)
        .bind(actor.actor_id)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&mut *tx)
        .await?;
        let target = format!("user:{user_id}");
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user a live reset token belongs to (`NotFound` when unknown, used or expired).
    pub async fn password_reset_user(&self, token: &str) -> Result<User, StoreError> {
        let row: (i64,) = sqlx::query_as(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL \
             AND expires_at > $2",
        )
        .bind(auth::sha256_hex(token))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?;
        let user = self.user(row.0).await?;
        if user.disabled {
            return Err(StoreError::NotFound);
        }
        Ok(user)
    }

    /// Sets a new password through a reset token, once; ends every session of the user.
    /// Audited as `user.password_reset` by the user. Returns the user.
    pub async fn redeem_password_reset(&self, token: &str, phc: &str) -> Result<User, StoreError> {
        let user = self.password_reset_user(token).await?;
        let now = now_ms();
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(auth::sha256_hex(token))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(phc)
        .bind(now)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
        end_sessions(&mut tx, user.id).await?;
        let target = format!("user:{}", user.id);
        record_audit(
            &mut tx,
            &NewAudit {
                actor_id: Some(user.id),
                actor_name: Some(&user.name),
                action: "user.password_reset",
                target: Some(&target),
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A user's own password change (the caller checked the current one): sets the hash,
    /// clears the must-change flag and ends every session (the caller starts a fresh one).
    /// Audited as `user.password_change`.
    pub async fn change_own_password(
        &self,
        user_id: i64,
        phc: &str,
        actor: &NewAudit<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(phc)
        .bind(now_ms())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions(&mut tx, user_id).await?;
        let target = format!("user:{user_id}");
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One account of a bulk import: the user, its real name and phone.
pub type ImportAccount = (NewUser, Option<String>, Option<String>);

impl Store {
    /// Creates every account of an import in one transaction (all or none), each with its
    /// one-time password (must change at first login); audited as one `user.import` row
    /// naming them. A failing row comes back as `Invalid`/`Conflict` naming its login name.
    pub async fn import_accounts(
        &self,
        accounts: &[ImportAccount],
        actor: &NewAudit<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(accounts.len());
        for (user, real_name, phone) in accounts {
            let id = insert_user(&mut tx, user).await.map_err(|e| match e {
                StoreError::Invalid(m) => StoreError::Invalid(format!("{} — {m}", user.name)),
                StoreError::Conflict(m) => StoreError::Conflict(format!("{} — {m}", user.name)),
                other => other,
            })?;
            set_profile_in(&mut tx, id, real_name.as_deref(), phone.as_deref(), true).await?;
            ids.push(id);
        }
        record_audit(
            &mut tx,
            &NewAudit {
                detail: Some(serde_json::json!({
                    "count": accounts.len(),
                    "names": accounts.iter().map(|(u, _, _)| &u.name).collect::<Vec<_>>(),
                })),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }
}
