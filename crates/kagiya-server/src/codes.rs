//! Handing a one-time sign-in code to whoever delivers it. The mail delivery is a later part; until
//! then codes go to a spool directory (one file per code, readable by the server's user only),
//! which an operator's script or the tests read. The code is never logged.

use std::io::Write;
use std::path::PathBuf;

use kagiya_engine::OneTimeSecret;

/// Delivers a code to the user's one-time-password address.
pub trait CodeSender: Send + Sync {
    fn send(&self, code: &OneTimeSecret, lang: kagiya_core::Lang) -> Result<(), String>;
}

/// A spool directory of `<time>-<random>.json` files.
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// A spool in `dir`, made (owner-only) when missing.
    pub fn new(dir: PathBuf) -> Result<Spool, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Ok(Spool { dir })
    }
}

impl CodeSender for Spool {
    fn send(&self, code: &OneTimeSecret, lang: kagiya_core::Lang) -> Result<(), String> {
        let mut nonce = [0u8; 8];
        kagiya_core::random::fill(&mut nonce);
        let name = format!("{}-{}.json", code.expires_at, hex::encode(nonce));
        let body = serde_json::json!({
            "login_id": code.login_id,
            "address": code.address,
            "code": code.secret.expose(),
            "expires_at": code.expires_at,
            "lang": lang.code(),
        });
        // Written beside and renamed: a reader never sees half a file.
        let part = self.dir.join(format!(".{name}.part"));
        let mut f = open_private(&part).map_err(|e| format!("code spool: {e}"))?;
        f.write_all(body.to_string().as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("code spool: {e}"))?;
        std::fs::rename(&part, self.dir.join(name)).map_err(|e| format!("code spool: {e}"))
    }
}

fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}
