/*!
Policy: who may see and do what, and how personal data and secrets are protected — one rule, one
place. [`access`] (visibility and write rights per role), [`masking`] (phone, ID and name masks),
[`credentials`] (password hashing, tokens), [`throttle`] (login throttling).

Depends only on `model`; the store, the engines and every front-end ask here.
*/

pub mod access;
pub mod credentials;
pub mod masking;
pub mod throttle;
