/*!
Who is calling: roles, the authenticated [`Principal`], password hashing and secret generation.

Secrets never reach the database or the logs in the clear: passwords are stored as argon2 PHC
strings, session ids and API tokens as SHA-256 hex of the random value handed to the client.
A token is shown once, as `m110_<64 hex>`; losing it means issuing a new one.

The storage side (users, sessions, tokens) is in [`crate::store::users`]; route guards live in
the HTTP layer and decide with [`Role`] and [`Principal`] from here.
*/

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so a leaked token is recognisable in a scanner.
pub const TOKEN_PREFIX: &str = "m110_";

/// The roles of the service center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Configures the center: users, tokens, directories.
    Admin,
    /// Oversees operators and units: supervision (督办), extensions, escalations.
    Supervisor,
    /// Takes calls and requests (受理), follows up (回访).
    Operator,
    /// Dispatches cases to handling units (派单).
    Dispatcher,
    /// Works cases of one handling unit (bound to `unit_id`).
    UnitHandler,
    /// Reports and works cases in their grid units (bound to `grid_codes`).
    GridWorker,
    /// Reads statistics and scorecards, no personal data.
    Analyst,
    /// Reads the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Supervisor,
        Role::Operator,
        Role::Dispatcher,
        Role::UnitHandler,
        Role::GridWorker,
        Role::Analyst,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
            Role::UnitHandler => "unit_handler",
            Role::GridWorker => "grid_worker",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Supervisor => "督办员",
            Role::Operator => "受理员",
            Role::Dispatcher => "派单员",
            Role::UnitHandler => "承办人员",
            Role::GridWorker => "网格员",
            Role::Analyst => "分析员",
            Role::Auditor => "审计员",
        }
    }

    /// Roles whose users must be bound to a handling unit.
    pub fn needs_unit(self) -> bool {
        self == Role::UnitHandler
    }

    /// Roles whose users must be bound to at least one grid unit.
    pub fn needs_grid(self) -> bool {
        self == Role::GridWorker
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role {s:?}; one of {}", all.join(", "))
        })
    }
}

/// An authenticated caller of the API or console (a user, or an API token acting as its user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// Handling unit of a `unit_handler`.
    pub unit_id: Option<String>,
    /// Grid units of a `grid_worker`.
    pub grid_codes: Vec<String>,
}

impl Principal {
    pub fn has_role(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}

/// Errors of password hashing.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("stored password hash is malformed")]
    MalformedHash,
}

/// Minimum length of a password set through the CLI or API.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password with argon2id (default parameters) and a random salt, as a PHC string.
/// CPU heavy (tens of ms): call it from `spawn_blocking` in async request handlers.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string. `Ok(false)` on a wrong password.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(phc).map_err(|_| AuthError::MalformedHash)?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// `n` random bytes from the OS generator, hex encoded.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 hex of a secret (token, session id): what the database stores and looks up by.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new API token: `(token shown once, hash to store)`.
pub fn generate_token() -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let hash = sha256_hex(&token);
    (token, hash)
}

/// A new session id: `(cookie value, hash to store)`.
pub fn generate_session_id() -> (String, String) {
    let id = random_hex(32);
    let hash = sha256_hex(&id);
    (id, hash)
}

/// A random password for the bootstrap admin: 20 characters from an unambiguous alphabet
/// (no 0/O, 1/l/I), about 114 bits.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| {
            // Rejection sampling keeps the choice uniform.
            loop {
                let b = (rng.next_u32() & 0xff) as usize;
                if b < 256 - 256 % ALPHABET.len() {
                    return ALPHABET[b % ALPHABET.len()] as char;
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!("root".parse::<Role>().unwrap_err().contains("unit_handler"));
    }

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc).unwrap());
        assert!(!verify_password("correct horse batterY", &phc).unwrap());
        assert!(matches!(
            verify_password("x", "not-a-hash"),
            Err(AuthError::MalformedHash)
        ));
        // Salted: the same password hashes differently.
        assert_ne!(phc, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let (t1, h1) = generate_token();
        let (t2, h2) = generate_token();
        assert!(t1.starts_with(TOKEN_PREFIX));
        assert_eq!(t1.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(t1, t2);
        assert_eq!(h1, sha256_hex(&t1));
        assert_ne!(h1, h2);
        assert_eq!(h1.len(), 64);
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert!(a.len() >= MIN_PASSWORD_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate_password());
    }
}
