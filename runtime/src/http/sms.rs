/*!
The SMS gateway's inbound callback: `POST /api/v1/sms/inbound {"from", "text", "id"}` with a
token of scope `sms_gateway` (`m110 token add --scope sms_gateway`). What becomes of the text —
a new case, an addition to the sender's open case, or the answer to its 回访 question — is the
engine's ([`crate::engine::sms::inbound`]); the answer says which, and a retry of the same
gateway id answers `duplicate` and changes nothing.
*/

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::engine::sms::{self, Inbound, Received};
use crate::model::{Principal, TokenScope};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sms/inbound", post(inbound))
}

async fn inbound(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(msg): ApiJson<Inbound>,
) -> ApiResult<Json<Received>> {
    // A person could otherwise file texts in a citizen's name.
    if principal.scope != Some(TokenScope::SmsGateway) {
        return Err(ApiError::forbidden(
            "only the SMS gateway's token (scope sms_gateway) posts inbound texts",
        ));
    }
    Ok(Json(
        sms::inbound(&state.store, &state.region, &principal, msg).await?,
    ))
}
