/*!
Live edits of handling units from the console's administration pages: a unit's hotline, address
and contacts (联系人), and the routing rules (category × area → unit).

These change the region in the database only; the profile still says what it said. That is on
purpose: `m110 doctor` lists each such change as a live edit (the database against the model
recorded at the last provision or upgrade) and `m110 pull` writes it back into the profile, so
the next `m110 upgrade` keeps it instead of overwriting it. Each edit writes its audit row in the
same transaction.
*/

use super::audit::{NewAudit, record_audit};
use super::{Store, StoreError};
use crate::model::Contact;

/// Most contacts a unit keeps.
pub const MAX_CONTACTS: usize = 20;

/// A unit's editable fields.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitEdit {
    pub hotline: Option<String>,
    pub address: Option<String>,
    pub contacts: Vec<Contact>,
}

fn check(edit: &UnitEdit) -> Result<(), StoreError> {
    let phone_ok =
        |p: &str| p.len() <= 24 && p.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c));
    if edit.hotline.as_deref().is_some_and(|h| !phone_ok(h)) {
        return Err(StoreError::Invalid(
            "hotline: digits, spaces, + - ( ) only, at most 24".into(),
        ));
    }
    if edit.contacts.len() > MAX_CONTACTS {
        return Err(StoreError::Invalid(format!(
            "contacts: at most {MAX_CONTACTS}"
        )));
    }
    for (i, c) in edit.contacts.iter().enumerate() {
        if c.name.trim().is_empty() || c.name.chars().count() > 32 {
            return Err(StoreError::Invalid(format!(
                "contacts[{i}].name: 1 to 32 characters"
            )));
        }
        if c.phone.as_deref().is_some_and(|p| !phone_ok(p)) {
            return Err(StoreError::Invalid(format!(
                "contacts[{i}].phone: digits, spaces, + - ( ) only, at most 24"
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Replaces a unit's hotline, address and contacts; audited as `unit.update` (which fields
    /// changed, not the phone numbers themselves).
    pub async fn update_unit(
        &self,
        unit_id: &str,
        edit: &UnitEdit,
        actor: &NewAudit<'_>,
    ) -> Result<(), StoreError> {
        check(edit)?;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE units SET hotline = $1, address = $2 WHERE id = $3 AND retired_at IS NULL",
        )
        .bind(edit.hotline.as_deref())
        .bind(edit.address.as_deref())
        .bind(unit_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM unit_contacts WHERE unit_id = $1")
            .bind(unit_id)
            .execute(&mut *tx)
            .await?;
        for (pos, c) in edit.contacts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO unit_contacts (unit_id, position, name, role, phone) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(unit_id)
            .bind(pos as i64)
            .bind(c.name.trim())
            .bind(c.role.as_deref())
            .bind(c.phone.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        let target = format!("unit:{unit_id}");
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::json!({
                    "contacts": edit.contacts.iter().map(|c| &c.name).collect::<Vec<_>>(),
                    "hotline": edit.hotline.is_some(),
                    "address": edit.address,
                })),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A routing rule as stored, with its row id (for the edit page).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RuleRow {
    pub id: i64,
    pub category: String,
    pub scope: Option<String>,
    pub unit: String,
}

/// Setting bumped on every routing edit: each `m110d` sharing the database reloads its table
/// when it sees a new value (see `jobs::routing`).
pub const ROUTING_VERSION: &str = "routing_version";

async fn bump_routing(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    super::set_setting_in(
        conn,
        ROUTING_VERSION,
        &crate::model::time::now_ms().to_string(),
    )
    .await
}

impl Store {
    /// The routing rules in force, in order, and the fallback unit.
    pub async fn routing_rules(&self) -> Result<(Vec<RuleRow>, String), StoreError> {
        let rows: Vec<RuleRow> = sqlx::query_as(
            "SELECT id, category_code AS category, scope_code AS scope, unit_id AS unit \
             FROM routing_rules ORDER BY position, id",
        )
        .fetch_all(self.pool())
        .await?;
        let (fallback,): (String,) = sqlx::query_as("SELECT fallback_unit_id FROM region")
            .fetch_one(self.pool())
            .await?;
        Ok((rows, fallback))
    }

    /// The routing edit version (`None` when nothing was ever edited live).
    pub async fn routing_version(&self) -> Result<Option<String>, StoreError> {
        self.setting(ROUTING_VERSION).await
    }

    /// Routes `category` in `scope` (`None`: the whole region) to `unit`: replaces the unit of
    /// the rule for that pair, or adds one. Audited as `routing.update`.
    pub async fn put_routing_rule(
        &self,
        category: &str,
        scope: Option<&str>,
        unit: &str,
        actor: &NewAudit<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let cat: Option<(i64,)> =
            sqlx::query_as("SELECT police FROM categories WHERE code = $1 AND retired_at IS NULL")
                .bind(category)
                .fetch_optional(&mut *tx)
                .await?;
        match cat {
            None => {
                return Err(StoreError::Invalid(format!(
                    "category: no category {category:?}"
                )));
            }
            Some((1,)) => {
                return Err(StoreError::Invalid(
                    "category: a police category is transferred to its line, not routed".into(),
                ));
            }
            _ => {}
        }
        if let Some(g) = scope {
            let found: Option<(String,)> = sqlx::query_as(
                "SELECT code FROM grid_units WHERE code = $1 AND retired_at IS NULL",
            )
            .bind(g)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(format!("scope: no grid unit {g:?}")));
            }
        }
        let kind: Option<(String,)> =
            sqlx::query_as("SELECT kind FROM units WHERE id = $1 AND retired_at IS NULL")
                .bind(unit)
                .fetch_optional(&mut *tx)
                .await?;
        match kind.as_ref().map(|(k,)| k.as_str()) {
            None => {
                return Err(StoreError::Invalid(format!(
                    "unit: no handling unit {unit:?}"
                )));
            }
            Some("police") => {
                return Err(StoreError::Invalid(
                    "unit: the police line takes transfers, not routed cases".into(),
                ));
            }
            _ => {}
        }
        // Two statements rather than `scope_code = $2 OR both NULL`: PostgreSQL cannot type a
        // parameter that is only compared with NULL.
        let existing: Option<(i64, String)> = match scope {
            Some(g) => {
                sqlx::query_as(
                    "SELECT id, unit_id FROM routing_rules WHERE category_code = $1 \
                     AND scope_code = $2",
                )
                .bind(category)
                .bind(g)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id, unit_id FROM routing_rules WHERE category_code = $1 \
                     AND scope_code IS NULL",
                )
                .bind(category)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let before = existing.as_ref().map(|(_, u)| u.clone());
        match existing {
            Some((id, _)) => {
                sqlx::query("UPDATE routing_rules SET unit_id = $1 WHERE id = $2")
                    .bind(unit)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                let (pos,): (i64,) =
                    sqlx::query_as("SELECT COALESCE(MAX(position), -1) + 1 FROM routing_rules")
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query(
                    "INSERT INTO routing_rules (category_code, scope_code, unit_id, position) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(category)
                .bind(scope)
                .bind(unit)
                .bind(pos)
                .execute(&mut *tx)
                .await?;
            }
        }
        bump_routing(&mut tx).await?;
        let target = format!("routing:{category}@{}", scope.unwrap_or("*"));
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::json!({"from": before, "to": unit})),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes routing rule `id` (its cases then route by the next broader rule or the
    /// fallback). Audited as `routing.delete`.
    pub async fn delete_routing_rule(
        &self,
        id: i64,
        actor: &NewAudit<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let row: Option<RuleRow> = sqlx::query_as(
            "SELECT id, category_code AS category, scope_code AS scope, unit_id AS unit \
             FROM routing_rules WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let (police,): (i64,) = sqlx::query_as("SELECT police FROM categories WHERE code = $1")
            .bind(&row.category)
            .fetch_one(&mut *tx)
            .await?;
        if police == 1 {
            return Err(StoreError::Invalid(
                "category: a police category's rule is the transfer to its line; change it in the \
                 profile"
                    .into(),
            ));
        }
        sqlx::query("DELETE FROM routing_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        bump_routing(&mut tx).await?;
        let target = format!(
            "routing:{}@{}",
            row.category,
            row.scope.as_deref().unwrap_or("*")
        );
        record_audit(
            &mut tx,
            &NewAudit {
                target: Some(&target),
                detail: Some(serde_json::json!({"unit": row.unit})),
                ..actor.clone()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
