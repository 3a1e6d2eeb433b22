//! What every command shares: the parsed command line, the language and output mode, the secrets
//! on standard input, and the branch database — opened only when a command needs it, so that
//! `policy check --preset` and `policy show` work on a PC without a database or a keyring.

use std::cell::{OnceCell, RefCell};
use std::path::{Path, PathBuf};

use kagiya_core::directory::{CredentialKind, Service};
use kagiya_core::event::EventKind;
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use kagiya_engine::ActorRef;
use kagiya_store::{Branch, BranchOptions, KeySource};

use crate::args::{Cli, CredentialArg};
use crate::input::Stdin;
use crate::output::lang_of;

/// The database file inside the data directory (the window's too).
const DB_FILE: &str = "kagiya.db";
/// The app's identifier: its folder in the OS data directory.
const APP_ID: &str = "jp.kagiya.console";

pub struct Ctx {
    pub cli: Cli,
    pub lang: Lang,
    pub json: bool,
    stdin: RefCell<Stdin>,
    branch: OnceCell<Branch>,
}

impl Ctx {
    pub fn new(cli: Cli) -> Ctx {
        Ctx {
            lang: lang_of(&cli),
            json: cli.json,
            cli,
            stdin: RefCell::new(Stdin::new()),
            branch: OnceCell::new(),
        }
    }

    /// The branch database and the engine over it, opened at the first call.
    pub fn branch(&self) -> Result<&Branch, Error> {
        if let Some(b) = self.branch.get() {
            return Ok(b);
        }
        let b = Branch::open(BranchOptions::new(
            db_path(&self.cli)?,
            KeySource::OsKeyring,
            "cli",
        ))?;
        Ok(self.branch.get_or_init(|| b))
    }

    /// The branch database for a read: as in the window, only branch staff read it, so the
    /// operator named by `--operator` proves who they are with their login password (the next
    /// line on standard input), under the operators' sign-in lockout, and the sign-in is recorded.
    pub fn reader(&self) -> Result<&Branch, Error> {
        let b = self.branch()?;
        let Some(id) = &self.cli.operator else {
            return Err(Error::NotSignedIn);
        };
        let password = self.secret("your login password")?;
        b.authenticate_operator(id, &password, |id| EventKind::OperatorSignedIn {
            operator_id: id.to_owned(),
        })?;
        Ok(b)
    }

    /// Who acts: `--operator` (branch staff) or `--as-user` (a customer's master or admin).
    /// An operator acts only signed in, as in the window: the login password (the next line on
    /// standard input) under the operators' sign-in lockout comes first, then the action asks
    /// for the confirmation password — so that a confirmation password cannot be tried from a
    /// shell by whoever knows only an operator ID.
    pub fn actor(&self) -> Result<ActorRef, Error> {
        match (&self.cli.operator, &self.cli.as_user) {
            (Some(op), None) => {
                let b = self.branch()?;
                let password = self.secret("your login password")?;
                b.authenticate_operator(op, &password, |id| EventKind::OperatorSignedIn {
                    operator_id: id.to_owned(),
                })?;
                Ok(ActorRef::Operator(op.clone()))
            }
            (None, Some(u)) => Ok(ActorRef::User(u.clone())),
            _ => Err(Error::InvalidValue("--operator or --as-user")),
        }
    }

    /// The next secret line on standard input; `what` names it in the error.
    pub fn secret(&self, what: &'static str) -> Result<Secret, Error> {
        self.stdin.borrow_mut().secret(what)
    }

    /// The next secret line, `None` when it is empty or missing (an optional new password).
    pub fn secret_or_empty(&self, what: &'static str) -> Result<Option<Secret>, Error> {
        Ok(self
            .stdin
            .borrow_mut()
            .secret(what)
            .ok()
            .filter(|s| !s.expose().is_empty()))
    }

    /// The operator named by `--operator`, if any.
    pub fn operator_id(&self) -> Option<&str> {
        self.cli.operator.as_deref()
    }
}

/// The database file: `--data-dir` (or `KAGIYA_DATA_DIR`), else the OS data directory.
pub fn db_path(cli: &Cli) -> Result<PathBuf, Error> {
    let dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => dirs::data_dir()
            .ok_or_else(|| Error::DatabaseUnavailable("no OS data directory".into()))?
            .join(APP_ID),
    };
    Ok(dir.join(DB_FILE))
}

pub fn credential_kind(c: CredentialArg) -> CredentialKind {
    match c {
        CredentialArg::Login => CredentialKind::Login,
        CredentialArg::Confirmation => CredentialKind::Confirmation,
    }
}

pub fn preset(s: &str) -> Result<Preset, Error> {
    Preset::parse(s).ok_or(Error::InvalidValue("preset"))
}

pub fn service(s: &str) -> Result<Service, Error> {
    Service::parse(s).ok_or(Error::InvalidValue("service"))
}

/// The most a file named on the command line may hold, by what it is (ours: well above any
/// real one — a certificate or root is a few KB, a full country table about 10 MB — and small
/// enough that a hostile or mistaken file is refused before it is read, let alone decoded).
pub mod limits {
    /// Certificates and trusted roots (the certificate decoder's own limit).
    pub const CERTIFICATE: u64 = kagiya_core::certs::decode::MAX_INPUT as u64;
    /// A country table, or an IP rule list.
    pub const TABLE: u64 = 32 * 1024 * 1024;
    /// A password-policy file or a checkpoint.
    pub const SMALL: u64 = 64 * 1024;
}

/// A whole file the command names, refused unread when larger than `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| Error::File(e.to_string()))?;
    let too_large = || Error::File(format!("{} is larger than {limit} bytes", path.display()));
    let len = f.metadata().map_err(|e| Error::File(e.to_string()))?.len();
    if len > limit {
        return Err(too_large());
    }
    // The file may grow between the check and the read: never read past the limit.
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::File(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A whole UTF-8 text file the command names, at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, Error> {
    String::from_utf8(read_file(path, limit)?).map_err(|_| Error::File("not UTF-8".into()))
}

#[cfg(test)]
mod file_limit_tests {
    use super::*;

    /// Issue 12, low: 「size limits before decoding (certificate upload, CLI files)」: a file over
    /// its limit is refused before it is read, with the file named; one at the limit is read.
    #[test]
    fn files_over_their_limit_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pem");
        std::fs::write(&path, vec![b'A'; 1025]).unwrap();
        let err = read_file(&path, 1024).unwrap_err();
        assert!(
            matches!(&err, Error::File(m) if m.contains("big.pem")),
            "{err:?}"
        );
        assert_eq!(read_file(&path, 1025).unwrap().len(), 1025);
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(read_text(&path, 10), Err(Error::File(_))));
    }
}
