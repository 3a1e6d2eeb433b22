//! Registering branch staff: the first supervisor on an empty database, then further operators and
//! supervisors by a supervisor. The passwords follow the operators' policy.

use kagiya_core::event::EventKind;
use kagiya_core::operator::{parse_name, OperatorId, Role};
use kagiya_core::password::{PasswordPolicy, PolicyContext};
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::port::{Change, OperatorRow};
use crate::{ActorRef, Engine};

/// The registration form of an operator.
#[derive(Debug)]
pub struct NewOperator {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
    pub login: Secret,
    pub confirmation: Secret,
}

/// The first-run form: the branch's first supervisor, each password typed twice.
#[derive(Debug, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FirstSupervisor {
    pub operator_id: String,
    pub name: String,
    pub password: Secret,
    pub password_repeat: Secret,
    pub confirmation_password: Secret,
    pub confirmation_password_repeat: Secret,
}

impl FirstSupervisor {
    /// The form with each password typed the same way twice (the CLI, demo set-ups and tests).
    pub fn new(operator_id: &str, name: &str, password: &str, confirmation: &str) -> Self {
        FirstSupervisor {
            operator_id: operator_id.into(),
            name: name.into(),
            password: password.into(),
            password_repeat: password.into(),
            confirmation_password: confirmation.into(),
            confirmation_password_repeat: confirmation.into(),
        }
    }
}

/// A new operator password against the operators' policy and its repetition.
pub fn check_new_operator_password(
    password: &Secret,
    repeat: &Secret,
    ctx: &PolicyContext<'_>,
) -> Result<(), Error> {
    let bad = PasswordPolicy::OPERATOR.violations(password.expose(), ctx);
    if !bad.is_empty() {
        return Err(Error::PasswordPolicy(bad));
    }
    if password.expose() != repeat.expose() {
        return Err(Error::PasswordRepeatMismatch);
    }
    Ok(())
}

impl Engine {
    /// Registers the first supervisor on a branch with no operators; returns the ID as stored.
    pub fn create_first_supervisor(&self, f: &FirstSupervisor) -> Result<String, Error> {
        if self.read(|r| r.operator_count())? > 0 {
            return Err(Error::SetupAlreadyDone);
        }
        let id = OperatorId::parse(&f.operator_id)?;
        let name = parse_name(&f.name)?;
        check_new_operator_password(
            &f.password,
            &f.password_repeat,
            &PolicyContext {
                login_id: id.as_str(),
                ..Default::default()
            },
        )?;
        check_new_operator_password(
            &f.confirmation_password,
            &f.confirmation_password_repeat,
            &PolicyContext {
                login_id: id.as_str(),
                must_differ_from: Some(f.password.expose()),
                ..Default::default()
            },
        )?;
        let row = OperatorRow {
            operator_id: id.as_str().to_owned(),
            name: name.clone(),
            role: Role::Supervisor,
            login_hash: self.hasher.hash(&f.password)?,
            confirm_hash: self.hasher.hash(&f.confirmation_password)?,
        };
        let created = EventKind::OperatorCreated {
            operator_id: id.as_str().to_owned(),
            name,
            role: Role::Supervisor,
            credentials: Some(row.digests()),
        };
        self.transact(self.now(), |r| {
            // Checked again inside the write: two first runs racing register only one.
            if r.operator_count()? > 0 {
                return Err(Error::SetupAlreadyDone);
            }
            Ok((
                vec![
                    Change::Operator(row.clone()),
                    Change::event(Some(id.as_str()), created.clone()),
                ],
                (),
            ))
        })?;
        Ok(id.as_str().to_owned())
    }

    /// A supervisor registers another operator or supervisor.
    pub fn create_operator(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        form: NewOperator,
    ) -> Result<(), Error> {
        let id = OperatorId::parse(&form.operator_id)?;
        let name = parse_name(&form.name)?;
        let policy = PasswordPolicy::OPERATOR;
        let mut codes = policy.violations(
            form.login.expose(),
            &PolicyContext {
                login_id: id.as_str(),
                ..Default::default()
            },
        );
        codes.extend(policy.violations(
            form.confirmation.expose(),
            &PolicyContext {
                login_id: id.as_str(),
                must_differ_from: Some(form.login.expose()),
                ..Default::default()
            },
        ));
        if !codes.is_empty() {
            codes.dedup();
            return Err(Error::PasswordPolicy(codes));
        }
        let acting = self.confirm_supervisor(who, confirmation, "create_operator")?;
        let row = OperatorRow {
            operator_id: id.as_str().to_owned(),
            name: name.clone(),
            role: form.role,
            login_hash: self.hasher.hash(&form.login)?,
            confirm_hash: self.hasher.hash(&form.confirmation)?,
        };
        let ev = EventKind::OperatorCreated {
            operator_id: id.as_str().to_owned(),
            name,
            role: form.role,
            credentials: Some(row.digests()),
        };
        let actor = acting.audit_name();
        self.commit(
            self.now(),
            vec![Change::Operator(row), Change::event(Some(&actor), ev)],
        )
    }
}
