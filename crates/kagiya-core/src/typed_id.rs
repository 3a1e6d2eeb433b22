//! What was typed into an ID field, as the permanent log keeps it. People type passwords there
//! (one field too early, the ID forgotten): text that cannot be an ID is kept only as a keyed hash
//! — HMAC-SHA-256 under the branch's own key, kept in its encrypted database — enough to see that
//! the same text came back, never the text. Text that is a well-formed ID is kept as typed: it is
//! what an administrator needs to see.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The setting that holds the branch's key (64 hex digits), made on first need.
pub const KEY_SETTING: &str = "audit.typed_id_key";

/// How `typed` is recorded: as typed (trimmed, at most 64 characters) when `is_id`, else
/// `invalid-id#` and the first 16 hex digits of its keyed hash.
pub fn recorded(typed: &str, is_id: bool, key: &[u8]) -> String {
    let t = typed.trim();
    if is_id {
        return t.chars().take(64).collect();
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(t.as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    format!("invalid-id#{}", &digest[..16])
}

/// A new key: 32 bytes from the CSPRNG, as hex.
pub fn new_key() -> String {
    let mut k = [0u8; 32];
    crate::random::fill(&mut k);
    hex::encode(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_and_anything_else_becomes_a_keyed_hash() {
        assert_eq!(recorded("  sv001 ", true, b"k"), "sv001");
        let a = recorded("My-Secret pass!", false, b"key-1");
        assert!(
            a.starts_with("invalid-id#") && a.len() == "invalid-id#".len() + 16,
            "{a}"
        );
        assert!(!a.contains("Secret"));
        assert_eq!(
            a,
            recorded("My-Secret pass!", false, b"key-1"),
            "the same text, the same mark"
        );
        assert_ne!(
            a,
            recorded("My-Secret pass!", false, b"key-2"),
            "another branch, another mark"
        );
        assert_ne!(a, recorded("My-Secret pass?", false, b"key-1"));
        assert_eq!(new_key().len(), 64);
        assert_ne!(new_key(), new_key());
    }
}
