/*!
Administration of accounts (admin only, every change audited by the store in its transaction):
the list, a new account with a one-time password shown once, editing real name, phone, role,
unit, grid cells and the disabled flag, a one-time reset link, and a bulk import from CSV or XLSX
(all rows checked first; one bad row creates nothing and is named by row and column).
*/

use axum::extract::Multipart;

use super::*;
use crate::engine::accounts::{self as import, ImportRow, RowError};
use crate::policy::credentials as auth;
use crate::store::accounts::AccountEdit;
use crate::store::users::{NewUser, User};

/// How long a reset link works.
const RESET_TTL_MS: i64 = 24 * 3_600_000;
/// Largest import file accepted.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

fn user_json(state: &AppState, u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "name": u.name,
        "real_name": u.real_name.clone().unwrap_or_default(),
        "phone": u.phone.clone().unwrap_or_default(),
        "role": u.role.as_str(),
        "unit_id": u.unit_id.clone().unwrap_or_default(),
        "unit": u.unit_id.as_deref().map(|x| unit_name(state, Some(x))).unwrap_or_default(),
        "grid_codes": u.grid_codes,
        "grid": u.grid_codes.iter().map(|g| grid_name(state, Some(g))).collect::<Vec<_>>().join("、"),
        "disabled": u.disabled,
        "must_change": u.must_change_password,
        "has_password": u.has_password,
    })
}

/// The choices of the account form: roles, handling units, grid cells by their tier path.
fn form_choices(state: &AppState) -> serde_json::Value {
    json!({
        "roles": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "units": state.region.units.iter()
            .filter(|u| !matches!(u.kind, crate::model::UnitKind::Police))
            .map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>(),
        "grid_choices": state.region.grid_units.iter()
            .map(|g| json!({"code": g.code, "path": state.region.grid_path(&g.code)}))
            .collect::<Vec<_>>(),
    })
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    unlocked: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

/// `GET /console/admin/users`.
pub async fn admin_users(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<UsersQuery>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => return store_error_page(&user, e),
    };
    let needle = q.q.as_deref().map(str::trim).unwrap_or("");
    let rows: Vec<_> = users
        .iter()
        .filter(|u| {
            needle.is_empty()
                || u.name.contains(needle)
                || u.real_name.as_deref().is_some_and(|n| n.contains(needle))
        })
        .map(|u| user_json(&state, u))
        .collect();
    let flash = match (&q.saved, &q.unlocked) {
        (_, Some(_)) => Some(json!({"kind": "ok", "text": user.lang.t("admin.unlocked")})),
        (Some(_), None) => Some(json!({"kind": "ok", "text": user.lang.t("common.saved")})),
        (None, None) => None,
    };
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "admin_users.html",
        "admin_users",
        Value::from_serialize(json!({"users": rows, "q": needle, "flash": flash})),
    )
}

fn user_form(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    target: Option<serde_json::Value>,
    error: Option<String>,
) -> Response {
    let editing = target.as_ref().is_some_and(|t| !t["id"].is_null());
    let ctx = merge_maps([
        Value::from_serialize(form_choices(state)),
        Value::from_serialize(json!({
            "target": target.unwrap_or_else(|| {
                json!({
                    "id": null, "name": "", "real_name": "", "phone": "", "role": "operator",
                    "unit_id": "", "grid_codes": [], "disabled": false,
                })
            }),
            "editing": editing,
            "error": error,
        })),
    ]);
    page_response(state, user, status, "admin_user.html", "admin_users", ctx)
}

/// `GET /console/admin/users/new`.
pub async fn admin_user_new(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    user_form(&state, &user, StatusCode::OK, None, None)
}

/// The account fields of a submitted form (grid cells come as repeated `grid` fields).
struct Submitted {
    name: String,
    edit: AccountEdit,
}

fn read_form(form: &[(String, String)]) -> Result<Submitted, String> {
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let role = get("role")
        .as_deref()
        .and_then(Role::parse)
        .ok_or("role: choose a role")?;
    let grid_codes: Vec<String> = form
        .iter()
        .filter(|(k, v)| k == "grid" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    Ok(Submitted {
        name: get("name").unwrap_or_default(),
        edit: AccountEdit {
            real_name: get("real_name"),
            phone: get("phone"),
            role,
            // A role without a unit or grid drops what the form still carried for another.
            unit_id: if role.needs_unit() {
                get("unit_id")
            } else {
                None
            },
            grid_codes: if role.needs_grid() {
                grid_codes
            } else {
                vec![]
            },
            disabled: get("disabled").is_some(),
        },
    })
}

fn form_target(s: &Submitted, id: Option<i64>) -> serde_json::Value {
    json!({
        "id": id, "name": s.name,
        "real_name": s.edit.real_name, "phone": s.edit.phone,
        "role": s.edit.role.as_str(), "unit_id": s.edit.unit_id,
        "grid_codes": s.edit.grid_codes, "disabled": s.edit.disabled,
    })
}

/// `POST /console/admin/users/new`: creates the account and shows its one-time password once.
pub async fn admin_user_create(
    State(state): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf")) {
        return csrf_rejected(user.lang);
    }
    let s = match read_form(&form) {
        Ok(s) => s,
        Err(e) => {
            return user_form(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e),
            );
        }
    };
    let password = auth::generate_password();
    let pw = password.clone();
    let Ok(Ok(phc)) = tokio::task::spawn_blocking(move || auth::hash_password(&pw)).await else {
        return error_page(
            user.lang,
            Some(&user),
            StatusCode::INTERNAL_SERVER_ERROR,
            user.lang.t("error.title"),
        );
    };
    let new = NewUser {
        name: s.name.clone(),
        role: s.edit.role,
        unit_id: s.edit.unit_id.clone(),
        grid_codes: s.edit.grid_codes.clone(),
        password_hash: Some(phc),
    };
    match state
        .store
        .create_account(
            &new,
            s.edit.real_name.as_deref(),
            s.edit.phone.as_deref(),
            &NewAudit::by(&user.principal, "user.create", None),
        )
        .await
    {
        Ok(id) => secret_page(
            &state,
            &user,
            &s.name,
            id,
            "admin.one_time_password",
            &password,
        ),
        // The form comes back with what was typed: a failed save loses nothing.
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => user_form(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(form_target(&s, None)),
            Some(m),
        ),
        Err(e) => store_error_page(&user, e),
    }
}

fn field<'a>(form: &'a [(String, String)], k: &str) -> &'a str {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The page that shows a one-time secret (password or reset link) once.
fn secret_page(
    state: &AppState,
    user: &ConsoleUser,
    name: &str,
    id: i64,
    label_key: &str,
    secret: &str,
) -> Response {
    page_response(
        state,
        user,
        StatusCode::OK,
        "admin_secret.html",
        "admin_users",
        Value::from_serialize(json!({
            "name": name, "id": id, "label_key": label_key, "secret": secret,
        })),
    )
}

/// `GET /console/admin/users/{id}`.
pub async fn admin_user_edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    match state.store.user(id).await {
        Ok(u) => {
            let mut target = user_json(&state, &u);
            // Whether the account waits out a login lockout, so the admin knows why a user
            // cannot sign in (minutes left, rounded up).
            let key = crate::store::throttle::account_key(&u.name);
            let now = crate::model::time::now_ms();
            if let Ok(entries) = state.store.login_throttle(&[key.as_str()]).await
                && let Some(ms) = entries.first().and_then(|(_, e)| e.locked_for(now))
            {
                target["locked_minutes"] = json!((ms + 59_999) / 60_000);
            }
            user_form(&state, &user, StatusCode::OK, Some(target), None)
        }
        Err(e) => store_error_page(&user, e),
    }
}

/// `POST /console/admin/users/{id}`: saves the edit (sessions end when rights change).
pub async fn admin_user_save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf")) {
        return csrf_rejected(user.lang);
    }
    let before = match state.store.user(id).await {
        Ok(u) => u,
        Err(e) => return store_error_page(&user, e),
    };
    let s = match read_form(&form) {
        Ok(s) => s,
        Err(e) => {
            return user_form(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(user_json(&state, &before)),
                Some(e),
            );
        }
    };
    match state
        .store
        .update_account(
            id,
            &s.edit,
            &NewAudit::by(&user.principal, "user.update", None),
        )
        .await
    {
        Ok(_) => Redirect::to("/console/admin/users?saved=1").into_response(),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            let mut target = form_target(&s, Some(id));
            target["name"] = json!(before.name);
            user_form(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(target),
                Some(m),
            )
        }
        Err(e) => store_error_page(&user, e),
    }
}

/// `POST /console/admin/users/{id}/reset`: a one-time reset link, shown once.
pub async fn admin_user_reset(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf")) {
        return csrf_rejected(user.lang);
    }
    let target = match state.store.user(id).await {
        Ok(u) => u,
        Err(e) => return store_error_page(&user, e),
    };
    match state
        .store
        .create_password_reset(
            id,
            RESET_TTL_MS,
            &NewAudit::by(&user.principal, "user.reset_link", None),
        )
        .await
    {
        Ok(token) => secret_page(
            &state,
            &user,
            &target.name,
            id,
            "admin.reset_link",
            &format!("/console/reset/{token}"),
        ),
        Err(StoreError::Invalid(m)) => user_form(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(user_json(&state, &target)),
            Some(m),
        ),
        Err(e) => store_error_page(&user, e),
    }
}

/// `POST /console/admin/users/{id}/unlock`: lifts a login lockout (audited `user.unlock`).
pub async fn admin_user_unlock(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf")) {
        return csrf_rejected(user.lang);
    }
    match state
        .store
        .unlock_user(id, &NewAudit::by(&user.principal, "user.unlock", None))
        .await
    {
        Ok(_) => Redirect::to("/console/admin/users?unlocked=1").into_response(),
        Err(e) => store_error_page(&user, e),
    }
}

/// `GET /console/admin/users/import`.
pub async fn admin_import_form(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    import_page(&state, &user, StatusCode::OK, &[], None)
}

fn import_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    errors: &[RowError],
    created: Option<Vec<serde_json::Value>>,
) -> Response {
    page_response(
        state,
        user,
        status,
        "admin_import.html",
        "admin_users",
        Value::from_serialize(json!({
            "errors": errors.iter().map(|e| json!({
                "row": e.row, "column": e.column, "message": e.message,
            })).collect::<Vec<_>>(),
            "created": created,
            "max_rows": import::MAX_ROWS,
        })),
    )
}

fn one_error(message: String) -> Vec<RowError> {
    vec![RowError {
        row: 0,
        column: "file".into(),
        message,
    }]
}

/// `POST /console/admin/users/import` (multipart: `csrf`, `file`): all rows or none.
pub async fn admin_import(
    State(state): State<AppState>,
    user: ConsoleUser,
    mut multipart: Multipart,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or("").to_string();
                let filename = f.file_name().unwrap_or("").to_string();
                let Ok(bytes) = f.bytes().await else {
                    let e = one_error(format!(
                        "the upload failed or is over {MAX_IMPORT_BYTES} bytes"
                    ));
                    return import_page(&state, &user, StatusCode::PAYLOAD_TOO_LARGE, &e, None);
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => file = Some((filename, bytes.to_vec())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                let e = one_error(format!("the upload could not be read: {e}"));
                return import_page(&state, &user, StatusCode::BAD_REQUEST, &e, None);
            }
        }
    }
    if !user.csrf_ok(&csrf) {
        return csrf_rejected(user.lang);
    }
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let e = one_error("choose a .csv or .xlsx file".into());
        return import_page(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, &e, None);
    };
    // An XLSX file is a zip archive: known by its magic bytes, whatever its name says.
    let sheet = if bytes.starts_with(b"PK\x03\x04") {
        import::xlsx_sheet(&bytes)
    } else {
        import::csv_sheet(&bytes)
    };
    let sheet = match sheet {
        Ok(s) => s,
        Err(m) => {
            let e = one_error(format!("{filename}: {m}"));
            return import_page(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, &e, None);
        }
    };
    let rows: Vec<ImportRow> = match import::read_rows(&sheet, &state.region) {
        Ok(r) => r,
        Err(errs) => {
            return import_page(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, &errs, None);
        }
    };
    // One-time passwords, hashed off the async threads (argon2 is slow on purpose).
    let passwords: Vec<String> = rows.iter().map(|_| auth::generate_password()).collect();
    let to_hash = passwords.clone();
    let Ok(Ok(hashes)) = tokio::task::spawn_blocking(move || {
        to_hash
            .iter()
            .map(|p| auth::hash_password(p))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    else {
        return error_page(
            user.lang,
            Some(&user),
            StatusCode::INTERNAL_SERVER_ERROR,
            user.lang.t("error.title"),
        );
    };
    let accounts: Vec<_> = rows
        .iter()
        .zip(hashes)
        .map(|(r, phc)| {
            (
                NewUser {
                    name: r.name.clone(),
                    role: r.role,
                    unit_id: r.unit_id.clone(),
                    grid_codes: r.grid_codes.clone(),
                    password_hash: Some(phc),
                },
                r.real_name.clone(),
                r.phone.clone(),
            )
        })
        .collect();
    match state
        .store
        .import_accounts(
            &accounts,
            &NewAudit::by(&user.principal, "user.import", None),
        )
        .await
    {
        Ok(_) => {
            let created = rows
                .iter()
                .zip(&passwords)
                .map(|(r, p)| json!({"name": r.name, "real_name": r.real_name, "role": r.role.as_str(), "password": p}))
                .collect();
            import_page(&state, &user, StatusCode::OK, &[], Some(created))
        }
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => import_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            &one_error(m),
            None,
        ),
        Err(e) => store_error_page(&user, e),
    }
}
