//! The op: one directory event a branch recorded, as it travels to the server. Each device's ops
//! form a hash chain of their own (gap-free `device_seq`, `prev_hash`), and each op is signed by
//! the device's ed25519 key, so the server can tell a retry from a forgery, a gap from a replay,
//! and who sent what — whatever the transport did.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use kagiya_core::event::{EventKind, GENESIS_HASH};
use kagiya_core::Millis;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the branch's operator did, before the device numbers and signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpDraft {
    /// The branch event's own ID (its place in the branch's log, made unique per device).
    pub op_id: String,
    /// The customer's contract number (the chain the op is decided on).
    pub customer: String,
    /// The last sequence of the customer's chain the branch had pulled when its operator acted.
    pub base_seq: i64,
    /// The branch operator who acted.
    pub operator: Option<String>,
    /// The branch's clock when it acted: shown, never used to decide.
    pub at: Millis,
    pub event: EventKind,
}

/// A numbered, chained and signed op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub device_id: String,
    pub device_seq: i64,
    #[serde(flatten)]
    pub draft: OpDraft,
    pub prev_hash: String,
    pub hash: String,
    /// The device's ed25519 signature of `hash`, base64.
    pub sig: String,
}

/// Why an op is not what it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpFault {
    /// The hash does not cover the fields.
    Hash,
    /// The signature is not the device's.
    Signature,
}

/// SHA-256 over the previous hash and every field, each length-prefixed (as the audit chain).
pub fn op_hash(prev_hash: &str, device_id: &str, device_seq: i64, draft: &OpDraft) -> String {
    let event = serde_json::to_string(&draft.event).expect("events always serialize");
    // "-" for no operator and "+name" for one: None and Some("") hash differently.
    let operator = match &draft.operator {
        Some(o) => format!("+{o}"),
        None => "-".to_owned(),
    };
    let mut h = Sha256::new();
    for part in [
        prev_hash.as_bytes(),
        device_id.as_bytes(),
        device_seq.to_string().as_bytes(),
        draft.op_id.as_bytes(),
        draft.customer.as_bytes(),
        draft.base_seq.to_string().as_bytes(),
        operator.as_bytes(),
        draft.at.to_string().as_bytes(),
        event.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// A device's signing key (kept in the OS keyring by the desktop; only its public half leaves).
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A new key from the CSPRNG.
    pub fn generate() -> DeviceKey {
        let mut seed = [0u8; 32];
        kagiya_core::random::fill(&mut seed);
        DeviceKey(SigningKey::from_bytes(&seed))
    }

    /// The key from a 32-byte seed (derived from a secret the OS keyring holds).
    pub fn from_seed(seed: &[u8; 32]) -> DeviceKey {
        DeviceKey(SigningKey::from_bytes(seed))
    }

    /// The key from its 32 secret bytes, base64 (as the keyring keeps it).
    pub fn from_secret(b64: &str) -> Option<DeviceKey> {
        let bytes: [u8; 32] = B64.decode(b64.trim()).ok()?.try_into().ok()?;
        Some(DeviceKey(SigningKey::from_bytes(&bytes)))
    }

    /// The 32 secret bytes, base64: only for the keyring.
    pub fn secret(&self) -> String {
        B64.encode(self.0.to_bytes())
    }

    /// The public key, base64: what enrolment binds to the device.
    pub fn public(&self) -> String {
        B64.encode(self.0.verifying_key().to_bytes())
    }

    /// Signs any bytes (ops, and the requests that carry them).
    pub fn sign(&self, msg: &[u8]) -> String {
        B64.encode(self.0.sign(msg).to_bytes())
    }

    /// Numbers, chains and signs `draft` as the device's op after (`last_seq`, `prev_hash`).
    pub fn seal(&self, device_id: &str, last_seq: i64, prev_hash: &str, draft: OpDraft) -> Op {
        let device_seq = last_seq + 1;
        let hash = op_hash(prev_hash, device_id, device_seq, &draft);
        Op {
            device_id: device_id.to_owned(),
            device_seq,
            sig: self.sign(hash.as_bytes()),
            draft,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }
}

/// Checks a signature of `msg` by the public key `public` (base64), strictly.
pub fn verify_signature(public: &str, msg: &[u8], sig: &str) -> bool {
    let Some(key) = B64
        .decode(public.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
    else {
        return false;
    };
    let Some(sig) = B64
        .decode(sig.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(&sig)).is_ok()
}

impl Op {
    /// Checks the op's hash and its signature by `public` (the link to the previous op is the
    /// ingest's to check, against what it stored).
    pub fn check(&self, public: &str) -> Result<(), OpFault> {
        if op_hash(
            &self.prev_hash,
            &self.device_id,
            self.device_seq,
            &self.draft,
        ) != self.hash
        {
            return Err(OpFault::Hash);
        }
        if !verify_signature(public, self.hash.as_bytes(), &self.sig) {
            return Err(OpFault::Signature);
        }
        Ok(())
    }
}

/// What a device signs to authenticate a request: the method, the path, its own time and the
/// SHA-256 of the body, one per line. The server takes a request only within a few minutes of
/// its own time and from a device it has not revoked.
pub fn request_message(method: &str, path: &str, time: Millis, body: &[u8]) -> Vec<u8> {
    format!(
        "{method}\n{path}\n{time}\n{}",
        hex::encode(Sha256::digest(body))
    )
    .into_bytes()
}

/// The headers that carry a device's request signature.
pub const DEVICE_HEADER: &str = "kagiya-device";
pub const TIME_HEADER: &str = "kagiya-time";
pub const SIGNATURE_HEADER: &str = "kagiya-signature";

/// The hash before a device's first op.
pub const DEVICE_GENESIS: &str = GENESIS_HASH;

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> OpDraft {
        OpDraft {
            op_id: "op-1".into(),
            customer: "C-1".into(),
            base_seq: 4,
            operator: Some("op101".into()),
            at: 1_000,
            event: EventKind::UserSuspended {
                login_id: "hanako".into(),
            },
        }
    }

    #[test]
    fn a_sealed_op_checks_and_any_change_is_refused() {
        let key = DeviceKey::generate();
        let op = key.seal("dev-1", 0, DEVICE_GENESIS, draft());
        assert_eq!(op.device_seq, 1);
        assert_eq!(op.check(&key.public()), Ok(()));

        let mut moved = op.clone();
        moved.draft.base_seq = 9;
        assert_eq!(moved.check(&key.public()), Err(OpFault::Hash));

        let other = DeviceKey::generate();
        assert_eq!(op.check(&other.public()), Err(OpFault::Signature));

        // Re-hashed by someone without the key: the signature no longer matches.
        let mut forged = op.clone();
        forged.draft.operator = Some("sv001".into());
        forged.hash = op_hash(
            &forged.prev_hash,
            &forged.device_id,
            forged.device_seq,
            &forged.draft,
        );
        assert_eq!(forged.check(&key.public()), Err(OpFault::Signature));
        assert!(!verify_signature("not base64", b"x", &op.sig));
    }

    #[test]
    fn the_key_survives_the_keyring_round_trip() {
        let key = DeviceKey::generate();
        let again = DeviceKey::from_secret(&key.secret()).unwrap();
        assert_eq!(again.public(), key.public());
        assert!(DeviceKey::from_secret("c2hvcnQ=").is_none());
    }
}
