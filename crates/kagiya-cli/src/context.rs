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

/// A whole file the command names (certificates, country tables).
pub fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::File(e.to_string()))
}
