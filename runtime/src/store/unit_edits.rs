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
