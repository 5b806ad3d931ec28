/*!
How secrets are kept: password hashing and the generation of passwords, session ids and tokens.

Secrets never reach the database or the logs in the clear: passwords are stored as argon2 PHC
strings, session ids and API tokens as SHA-256 hex of the random value handed to the client.
A token is shown once, as `m110_<64 hex>`; losing it means issuing a new one.

The storage side (users, sessions, tokens) is in `store::users`; roles and principals are
[`crate::model::role`]; route guards live in the front-ends.
*/

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so a leaked token is recognisable in a scanner.
pub const TOKEN_PREFIX: &str = "m110_";

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
