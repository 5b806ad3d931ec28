/*!
Administration of handling units (admin only): the list, and a unit's hotline, address and
contacts (联系人). Read from the database, not the start-up region, so a saved edit shows at
once. Each save is a live edit: audited, and listed by `m110 doctor` until `m110 pull` writes it
back into the profile (see [`crate::store::unit_edits`]).
*/

use super::*;
use crate::model::Contact;
use crate::store::unit_edits::{MAX_CONTACTS, UnitEdit};

/// Blank contact rows the form offers after the existing ones.
const BLANK_CONTACTS: usize = 2;

#[derive(Deserialize, Default)]
pub struct UnitsQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /console/admin/units`.
pub async fn admin_units(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<UnitsQuery>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let units = match state.store.load_units().await {
        Ok(u) => u,
        Err(e) => return store_error_page(&user, e),
    };
    let rows: Vec<_> = units
        .iter()
        .map(|u| {
            json!({
                "id": u.id, "name": u.name, "kind": u.kind.as_str(),
                "hotline": u.hotline.clone().unwrap_or_default(),
                "contacts": u.contacts.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join("、"),
                "platform": u.platform,
            })
        })
        .collect();
    let flash = q
        .saved
        .as_ref()
        .map(|_| json!({"kind": "ok", "text": user.lang.t("admin.unit_saved")}));
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "admin_units.html",
        "admin_units",
        Value::from_serialize(json!({"units": rows, "flash": flash})),
    )
}

fn unit_form(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    id: &str,
    name: &str,
    edit: &UnitEdit,
    error: Option<String>,
) -> Response {
    let mut contacts: Vec<_> = edit
        .contacts
        .iter()
        .map(|c| json!({"name": c.name, "role": c.role, "phone": c.phone}))
        .collect();
    let blanks = BLANK_CONTACTS.min(MAX_CONTACTS.saturating_sub(contacts.len()));
    contacts.extend((0..blanks).map(|_| json!({"name": "", "role": "", "phone": ""})));
    page_response(
        state,
        user,
        status,
        "admin_unit.html",
        "admin_units",
        Value::from_serialize(json!({
            "unit": {"id": id, "name": name, "hotline": edit.hotline, "address": edit.address},
            "contacts": contacts,
            "error": error,
        })),
    )
}

/// `GET /console/admin/units/{id}`.
pub async fn admin_unit_edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let units = match state.store.load_units().await {
        Ok(u) => u,
        Err(e) => return store_error_page(&user, e),
    };
    let Some(u) = units.into_iter().find(|u| u.id == id) else {
        return error_page(
            user.lang,
            Some(&user),
            StatusCode::NOT_FOUND,
            user.lang.t("error.not_found"),
        );
    };
    let edit = UnitEdit {
        hotline: u.hotline,
        address: u.address,
        contacts: u.contacts,
    };
    unit_form(&state, &user, StatusCode::OK, &u.id, &u.name, &edit, None)
}

/// The unit fields of a submitted form: contacts come as `contact_name`/`contact_role`/
/// `contact_phone` triples in order; a row without a name is dropped (that is how one is
/// removed).
fn read_unit_form(form: &[(String, String)]) -> UnitEdit {
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let column = |k: &str| -> Vec<String> {
        form.iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    let (names, roles, phones) = (
        column("contact_name"),
        column("contact_role"),
        column("contact_phone"),
    );
    let opt = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
    let contacts = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_empty())
        .map(|(i, n)| Contact {
            name: n.clone(),
            role: opt(roles.get(i)),
            phone: opt(phones.get(i)),
        })
        .collect();
    UnitEdit {
        hotline: get("hotline"),
        address: get("address"),
        contacts,
    }
}

/// `POST /console/admin/units/{id}`.
pub async fn admin_unit_save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !user.csrf_ok(csrf) {
        return csrf_rejected(user.lang);
    }
    let edit = read_unit_form(&form);
    let target = format!("unit:{id}");
    match state
        .store
        .update_unit(
            &id,
            &edit,
            &NewAudit::by(&user.principal, "unit.update", Some(&target)),
        )
        .await
    {
        Ok(()) => Redirect::to("/console/admin/units?saved=1").into_response(),
        Err(StoreError::Invalid(m)) => {
            let name = state
                .region
                .unit(&id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| id.clone());
            unit_form(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                &id,
                &name,
                &edit,
                Some(m),
            )
        }
        Err(e) => store_error_page(&user, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_rows_without_a_name_are_dropped() {
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        let edit = read_unit_form(&[
            f("hotline", " 0599-6302000 "),
            f("address", ""),
            f("contact_name", "王科长"),
            f("contact_role", "值班"),
            f("contact_phone", "0599-6302001"),
            f("contact_name", ""),
            f("contact_role", "ignored"),
            f("contact_phone", ""),
            f("contact_name", "李干事"),
            f("contact_role", ""),
            f("contact_phone", ""),
        ]);
        assert_eq!(edit.hotline.as_deref(), Some("0599-6302000"));
        assert_eq!(edit.address, None);
        assert_eq!(edit.contacts.len(), 2);
        assert_eq!(edit.contacts[0].role.as_deref(), Some("值班"));
        assert_eq!(edit.contacts[1].name, "李干事");
        assert_eq!(edit.contacts[1].phone, None);
    }
}
