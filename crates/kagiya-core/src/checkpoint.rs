//! Signed checkpoints of the audit log's head: (seq, hash, time) signed with the branch's Ed25519
//! key, kept outside the database — written next to every backup and export, printable, and
//! later sent to the central server. Whoever rewrites the log and re-hashes it (the database key
//! suffices for that) cannot make an earlier checkpoint fit the new log: a checkpoint names an
//! entry by its hash, and the rewritten log no longer has that entry. The signing key is derived
//! from the database key, so it is as safe as the database key and needs no second secret.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use openssl::pkey::{Id, PKey};
use openssl::sign::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Millis};

/// What the derivation of the signing seed is keyed with, so that the seed is of no use as
/// anything else.
const SEED_LABEL: &[u8] = b"kagiya audit checkpoint signing key v1";

/// A signed head of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The format, for later changes.
    pub version: u32,
    pub seq: i64,
    /// The chain hash of entry `seq`.
    pub hash: String,
    /// When it was signed.
    pub at: Millis,
    /// The branch's Ed25519 public key (raw, base64): the server pins it.
    pub public_key: String,
    /// Ed25519 over [`Checkpoint::message`], base64.
    pub signature: String,
}

/// The Ed25519 seed derived from the database key: HMAC-SHA256(db key, label).
pub fn seed_from(db_key: &[u8]) -> Zeroizing<[u8; 32]> {
    derive_seed(db_key, SEED_LABEL)
}

/// A 32-byte seed derived from the database key for one purpose (`label`): HMAC-SHA256. The
/// database key is in the OS keyring, so what is derived from it is kept there too, and a
/// restored copy of the database (with its key) keeps its identities.
pub fn derive_seed(db_key: &[u8], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(db_key).expect("HMAC takes any key");
    mac.update(label);
    let out = mac.finalize().into_bytes();
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&out);
    seed
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("checkpoint: {e}"))
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Checkpoint {
    /// The signed text: format, seq, hash and time, one per line.
    pub fn message(version: u32, seq: i64, hash: &str, at: Millis) -> String {
        format!("kagiya-checkpoint/{version}\n{seq}\n{hash}\n{at}\n")
    }

    /// Signs the head (`seq`, `hash`) at `at` with the key of `seed`.
    pub fn sign(seed: &[u8; 32], seq: i64, hash: &str, at: Millis) -> Result<Checkpoint, Error> {
        let key = PKey::private_key_from_raw_bytes(seed, Id::ED25519).map_err(failed)?;
        let public = key.raw_public_key().map_err(failed)?;
        let mut signer = Signer::new_without_digest(&key).map_err(failed)?;
        let sig = signer
            .sign_oneshot_to_vec(Self::message(1, seq, hash, at).as_bytes())
            .map_err(failed)?;
        Ok(Checkpoint {
            version: 1,
            seq,
            hash: hash.to_owned(),
            at,
            public_key: b64().encode(public),
            signature: b64().encode(sig),
        })
    }

    /// Checks the signature against the public key the checkpoint names, and that this key is
    /// `expected_key` (the branch's own, or the one the server pinned) when given.
    pub fn verify(&self, expected_key: Option<&str>) -> Result<(), Error> {
        let bad = || Error::InvalidValue("checkpoint");
        if expected_key.is_some_and(|k| k != self.public_key) {
            return Err(bad());
        }
        let public = b64().decode(&self.public_key).map_err(|_| bad())?;
        let sig = b64().decode(&self.signature).map_err(|_| bad())?;
        let key = PKey::public_key_from_raw_bytes(&public, Id::ED25519).map_err(|_| bad())?;
        let mut v = Verifier::new_without_digest(&key).map_err(|_| bad())?;
        let msg = Self::message(self.version, self.seq, &self.hash, self.at);
        match v.verify_oneshot(&sig, msg.as_bytes()) {
            Ok(true) => Ok(()),
            _ => Err(bad()),
        }
    }

    /// The public key of `seed` (base64), to compare a checkpoint's with.
    pub fn public_key_of(seed: &[u8; 32]) -> Result<String, Error> {
        let key = PKey::private_key_from_raw_bytes(seed, Id::ED25519).map_err(failed)?;
        Ok(b64().encode(key.raw_public_key().map_err(failed)?))
    }

    /// A text to print and file: what a later check compares the log with.
    pub fn printable(&self) -> String {
        format!(
            "Kagiya audit checkpoint / 監査ログのチェックポイント\n\
             entry / 件目: {}\nhash / ハッシュ: {}\nsigned at (ms since 1970, UTC) / 署名時刻: {}\n\
             branch key / 支店の公開鍵: {}\nsignature / 署名: {}\n",
            self.seq, self.hash, self.at, self.public_key, self.signature
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_and_any_change_breaks_it() {
        let seed = seed_from(&[7u8; 32]);
        let c = Checkpoint::sign(&seed, 42, "ab".repeat(32).as_str(), 1_000).unwrap();
        c.verify(None).unwrap();
        c.verify(Some(&Checkpoint::public_key_of(&seed).unwrap()))
            .unwrap();
        for tampered in [
            Checkpoint {
                seq: 43,
                ..c.clone()
            },
            Checkpoint {
                hash: "cd".repeat(32),
                ..c.clone()
            },
            Checkpoint {
                at: 1_001,
                ..c.clone()
            },
        ] {
            assert!(tampered.verify(None).is_err());
        }
        // Another branch's key, even with a valid signature of its own, is not this branch's.
        let other = Checkpoint::sign(&seed_from(&[8u8; 32]), 42, &c.hash, 1_000).unwrap();
        other.verify(None).unwrap();
        assert!(other.verify(Some(&c.public_key)).is_err());
        assert_ne!(seed_from(&[7u8; 32])[..], seed_from(&[8u8; 32])[..]);
    }
}
