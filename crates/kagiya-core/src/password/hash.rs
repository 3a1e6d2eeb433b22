//! Argon2id PHC hashing of stored passwords. The parameters live in each hash string, so a change
//! of cost is detected at the next successful sign-in and the hash is upgraded then (OWASP:
//! "store params in PHC string; rehash on login").

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};

use crate::secret::Secret;
use crate::Error;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19456 KiB (19 MiB), t=2, p=1.
    pub const OWASP_MINIMUM: HashParams = HashParams {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// True when these parameters are at least as strong as the OWASP minimum in every dimension
    /// that OWASP's equivalence table trades against memory (time and memory).
    pub fn meets_owasp_minimum(&self) -> bool {
        let m = Self::OWASP_MINIMUM;
        self.memory_kib >= m.memory_kib && self.iterations >= m.iterations && self.parallelism >= 1
    }
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams::OWASP_MINIMUM
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The password is wrong (or the stored hash is unreadable: treated the same, never a match).
    No,
    /// The password matches. `needs_rehash` is true when the stored hash used other parameters
    /// (or another algorithm) than the current ones.
    Yes { needs_rehash: bool },
}

/// Hashes and verifies passwords with one set of current parameters.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
}

impl PasswordHasher {
    /// A hasher with the given parameters. Parameters that argon2 rejects are an error.
    pub fn new(params: HashParams) -> Result<Self, Error> {
        Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
        Ok(PasswordHasher { params })
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    fn argon2(&self) -> Argon2<'static> {
        let p = Params::new(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            None,
        )
        .expect("parameters validated in PasswordHasher::new");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
    }

    /// Hashes a password with a fresh random salt into a PHC string (`$argon2id$v=19$m=…`).
    pub fn hash(&self, password: &Secret) -> Result<String, Error> {
        use argon2::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2 hashing: {e}")))
    }

    /// Checks a password against a stored PHC string, using the parameters stored in it.
    pub fn verify(&self, password: &Secret, phc: &str) -> Verified {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return Verified::No;
        };
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        if !ok {
            return Verified::No;
        }
        Verified::Yes {
            needs_rehash: !self.is_current(&parsed),
        }
    }

    fn is_current(&self, parsed: &PasswordHash<'_>) -> bool {
        if parsed.algorithm.as_str() != "argon2id" || parsed.version != Some(0x13) {
            return false;
        }
        let Ok(stored) = Params::try_from(parsed) else {
            return false;
        };
        stored.m_cost() == self.params.memory_kib
            && stored.t_cost() == self.params.iterations
            && stored.p_cost() == self.params.parallelism
    }

    /// Spends the same time as a real verification, for sign-ins with an unknown operator ID,
    /// so that response time does not tell which IDs exist.
    pub fn waste_time(&self, password: &Secret) {
        use argon2::PasswordHasher as _;
        let salt = SaltString::encode_b64(b"kagiya-dummy-salt").expect("static salt is valid");
        let _ = self
            .argon2()
            .hash_password(password.expose().as_bytes(), &salt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn light() -> HashParams {
        HashParams {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn owasp_hash_is_argon2id_with_its_parameters_in_the_phc_string() {
        let h = PasswordHasher::new(HashParams::default()).unwrap();
        let phc = h.hash(&"correct horse".into()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(
            h.verify(&"correct horse".into(), &phc),
            Verified::Yes {
                needs_rehash: false
            }
        );
        assert_eq!(h.verify(&"correct horsE".into(), &phc), Verified::No);
    }

    #[test]
    fn salts_differ_between_hashes_of_the_same_password() {
        let h = PasswordHasher::new(light()).unwrap();
        let a = h.hash(&"same".into()).unwrap();
        let b = h.hash(&"same".into()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_hash_with_old_parameters_verifies_and_asks_for_a_rehash() {
        let old = PasswordHasher::new(light()).unwrap();
        let phc = old.hash(&"pw".into()).unwrap();
        let current = PasswordHasher::new(HashParams::default()).unwrap();
        assert_eq!(
            current.verify(&"pw".into(), &phc),
            Verified::Yes { needs_rehash: true }
        );
    }

    #[test]
    fn garbage_and_other_algorithms_never_match() {
        let h = PasswordHasher::new(light()).unwrap();
        assert_eq!(h.verify(&"pw".into(), ""), Verified::No);
        assert_eq!(h.verify(&"pw".into(), "$argon2id$nonsense"), Verified::No);
        assert_eq!(h.verify(&"pw".into(), "plaintext-pw"), Verified::No);
    }

    #[test]
    fn rejects_parameters_argon2_cannot_use() {
        assert!(PasswordHasher::new(HashParams {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0
        })
        .is_err());
        assert!(HashParams::default().meets_owasp_minimum());
        assert!(!light().meets_owasp_minimum());
    }
}
