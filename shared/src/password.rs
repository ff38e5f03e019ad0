//! Password hashes for dashboard sign-in: Argon2id with OWASP's minimum parameters (19 MiB of
//! memory, two passes, one lane), stored as a PHC string so the parameters travel with each
//! hash and can be raised later without breaking old ones.
//!
//! Workers' WebCrypto caps PBKDF2 at 100,000 iterations, a sixth of what OWASP asks for
//! SHA-256, so PBKDF2 through WebCrypto is not an option at the edge.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// KiB of memory, passes, lanes.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

fn hasher() -> Option<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).ok()?;
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a random `salt`.
pub fn hash(password: &str, salt: [u8; 16]) -> Option<String> {
    let salt = SaltString::encode_b64(&salt).ok()?;
    let hashed = hasher()?.hash_password(password.as_bytes(), &salt).ok()?;
    Some(hashed.to_string())
}

/// Whether `password` matches the stored PHC string. Only Argon2id hashes whose cost is at most
/// this module's are checked: a tampered row cannot make sign-in spend unbounded memory.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let affordable = parsed.algorithm.as_str() == "argon2id"
        && params.m_cost() <= MEMORY_KIB
        && params.t_cost() <= PASSES
        && params.p_cost() <= LANES;
    affordable
        && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

/// A hash no password matches, verified for unknown emails so that an unknown email takes as
/// long to refuse as a wrong password.
pub const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dGlsbGRlY295c2FsdDEyMw$YzySw++GRufBusq1wmebhY9iHqBxe3kkJkKMEW5X4qE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery", [7; 16]).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("", &stored));
        // Another salt, another hash.
        assert_ne!(stored, hash("correct horse battery", [8; 16]).unwrap());
    }

    #[test]
    fn malformed_weaker_or_costlier_hashes_never_verify() {
        assert!(!verify("x", "not a hash"));
        assert!(!verify("x", ""));
        let costly = "$argon2id$v=19$m=4194304,t=2,p=1$dGlsbGRlY295c2FsdA$J2nQHfV3s0D5xqlDlQ3Zx0h6bX2W5cUePyyEtN0GqYk";
        assert!(!verify("x", costly));
        let argon2i = hash("pw", [1; 16]).unwrap().replace("argon2id", "argon2i");
        assert!(!verify("pw", &argon2i));
        // The decoy is a real hash of the same cost, so refusing an unknown email takes as long.
        assert!(PasswordHash::new(DECOY).is_ok());
        assert!(!verify("anything", DECOY));
    }
}
