//! The outbox key: the codes and links waiting in the outbox are sealed with it (AES-256-GCM), so
//! that reading the database alone gives no usable code or link; the key lives in a file only
//! the server's user reads (`kagiya-server mail new-key FILE`), like the TLS key.

use std::path::Path;

use kagiya_core::secret::Secret;
use kagiya_core::Error;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

const NONCE: usize = 12;
const TAG: usize = 16;

/// A 256-bit key. `Debug` never shows it.
pub struct OutboxKey([u8; 32]);

impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey(***)")
    }
}

impl Drop for OutboxKey {
    fn drop(&mut self) {
        self.0 = [0; 32];
    }
}

impl OutboxKey {
    /// Reads the key file (64 hex digits).
    pub fn load(path: &Path) -> Result<OutboxKey, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| format!("{}: not 64 hex digits", path.display()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{}: not 64 hex digits", path.display()))?;
        Ok(OutboxKey(key))
    }

    /// Writes a new random key to `path` (readable by this user only); refuses to overwrite.
    pub fn create(path: &Path) -> Result<(), String> {
        use std::io::Write;
        let mut key = [0u8; 32];
        kagiya_core::random::fill(&mut key);
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `secret` sealed, bound to `context` (the row's kind, user and recipient): nonce ‖ text ‖ tag.
    pub fn seal(&self, secret: &Secret, context: &str) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE];
        kagiya_core::random::fill(&mut nonce);
        let mut tag = [0u8; TAG];
        let text = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(&nonce),
            context.as_bytes(),
            secret.expose().as_bytes(),
            &mut tag,
        )
        .map_err(|e| Error::Internal(format!("sealing: {e}")))?;
        Ok([&nonce[..], &text, &tag].concat())
    }

    /// The secret in `sealed`, if it was sealed with this key for `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Secret, Error> {
        if sealed.len() < NONCE + TAG {
            return Err(Error::Internal("a sealed secret that is too short".into()));
        }
        let (nonce, rest) = sealed.split_at(NONCE);
        let (text, tag) = rest.split_at(rest.len() - TAG);
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(nonce),
            context.as_bytes(),
            text,
            tag,
        )
        .map_err(|_| {
            Error::Internal("a sealed secret that does not open with the outbox key".into())
        })?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| Error::Internal("a sealed secret that is not text".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.key");
        OutboxKey::create(&path).unwrap();
        assert!(OutboxKey::create(&path).is_err(), "never overwritten");
        let key = OutboxKey::load(&path).unwrap();
        let sealed = key
            .seal(&Secret::new("482913"), "sign_in_code|taro|t@x")
            .unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"482913"));
        assert_eq!(
            key.open(&sealed, "sign_in_code|taro|t@x").unwrap().expose(),
            "482913"
        );
        assert!(key.open(&sealed, "sign_in_code|jiro|t@x").is_err());
        let other_path = dir.path().join("other.key");
        OutboxKey::create(&other_path).unwrap();
        assert!(OutboxKey::load(&other_path)
            .unwrap()
            .open(&sealed, "sign_in_code|taro|t@x")
            .is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
    }
}
