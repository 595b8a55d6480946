//! Password hashing (Argon2id, PHC strings).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes `password` with a random salt.
///
/// # Errors
/// The hasher's message, when it fails (it does not for passwords of sane length).
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hashed = hash("s3cret").unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("s3cret", &hashed));
        assert!(!verify("S3cret", &hashed));
        assert!(!verify("s3cret", "not a hash"));
    }
}
