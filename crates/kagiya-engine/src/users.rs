//! Users: registering one with temporary passwords from the CSPRNG (must be changed at the first
//! login), and suspending or resuming users (seed 004: 利用者停止・解除).

use kagiya_core::directory::ids::{parse_display_name, ContractNo, LoginId};
use kagiya_core::directory::{
    authorize, Action, Credential, CredentialKind, User, UserRole, UserStatus,
};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::passwords::{generated, password_set, How, Issued};
use crate::{ActorRef, Engine};

/// The registration form of a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub contract_no: String,
    pub login_id: String,
    pub name: String,
    pub role: UserRole,
    pub email: Option<String>,
}

/// A light e-mail syntax check for the contact address (issue 4 brings the full address book).
fn parse_email(raw: &str) -> Result<String, Error> {
    let s = raw.trim();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.matches('@').count() == 1;
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::InvalidValue("email"))
    }
}

impl Engine {
    /// Registers a user with generated temporary login and confirmation passwords.
    pub fn create_user(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        form: NewUser,
    ) -> Result<Issued, Error> {
        let mut issued = self.create_users(who, confirmation, vec![form])?;
        Ok(issued.remove(0))
    }

    /// Registers several users in one transaction (all or none), the actor confirmed once.
    pub fn create_users(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        forms: Vec<NewUser>,
    ) -> Result<Vec<Issued>, Error> {
        if forms.is_empty() {
            return Err(Error::InvalidValue("users"));
        }
        let mut checked = Vec::with_capacity(forms.len());
        let mut seen = std::collections::HashSet::new();
        for form in &forms {
            let contract_no = ContractNo::parse(&form.contract_no)?;
            let login_id = LoginId::parse(&form.login_id)?;
            let name = parse_display_name(&form.name)?;
            let email = form.email.as_deref().map(parse_email).transpose()?;
            let tenant = self.tenant(contract_no.as_str())?;
            if !seen.insert(login_id.folded())
                || self.read(|r| r.user(login_id.as_str()))?.is_some()
            {
                return Err(Error::AlreadyExists("login_id"));
            }
            if tenant.preset == Preset::WebMember && email.is_none() {
                // Seed 002 signs in with login ID, address and password.
                return Err(Error::AddressRule("web_member_needs_address"));
            }
            checked.push((tenant, login_id, name, email, form.role));
        }
        let acting = self.confirm(who, confirmation, "create_user")?;
        for (tenant, _, _, _, role) in &checked {
            authorize(
                acting.actor(),
                Action::CreateUser {
                    contract_no: &tenant.contract_no,
                    role: *role,
                },
            )?;
        }
        let now = self.now();
        let mut evs = Vec::new();
        let mut issued = Vec::new();
        for (tenant, login_id, name, email, role) in checked {
            let draft = User {
                login_id: login_id.as_str().to_owned(),
                contract_no: tenant.contract_no.clone(),
                name: name.clone(),
                role,
                status: UserStatus::Active,
                email: email.clone(),
                mfa: false,
                created_at: now,
                login: Credential::new(String::new(), now),
                confirmation: Credential::new(String::new(), now),
            };
            let login_pw = generated(&draft, &tenant, CredentialKind::Login, None)?;
            let conf_pw = tenant
                .uses(CredentialKind::Confirmation)
                .then(|| {
                    generated(
                        &draft,
                        &tenant,
                        CredentialKind::Confirmation,
                        Some(&login_pw),
                    )
                })
                .transpose()?;
            evs.push(EventKind::UserCreated {
                login_id: draft.login_id.clone(),
                contract_no: tenant.contract_no.clone(),
                name,
                role,
                email,
            });
            for (kind, pw) in [
                (CredentialKind::Login, Some(&login_pw)),
                (CredentialKind::Confirmation, conf_pw.as_ref()),
            ] {
                let Some(pw) = pw else { continue };
                let hash = self.hasher.hash(pw)?;
                evs.push(password_set(
                    &draft,
                    &tenant,
                    kind,
                    hash,
                    How::issued(PasswordSetReason::Initial),
                    now,
                ));
            }
            issued.push(Issued {
                login_id: draft.login_id,
                name: draft.name,
                login: Some(login_pw),
                confirmation: conf_pw,
                must_change: true,
                issued_at: now,
            });
        }
        let actor = acting.audit_name();
        self.record_all(Some(&actor), now, evs)?;
        Ok(issued)
    }

    /// Suspends (or resumes) the listed users in one transaction; all or nothing.
    pub fn set_suspended(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_ids: &[String],
        suspend: bool,
    ) -> Result<Vec<String>, Error> {
        let acting = self.confirm(
            who,
            confirmation,
            if suspend { "suspend" } else { "resume" },
        )?;
        let mut evs = Vec::new();
        let mut changed = Vec::new();
        for id in login_ids {
            let u = self.user(id)?;
            authorize(acting.actor(), Action::ManageUser { target: &u })?;
            let want = if suspend {
                UserStatus::Suspended
            } else {
                UserStatus::Active
            };
            if u.status == want {
                continue;
            }
            changed.push(u.login_id.clone());
            evs.push(if suspend {
                EventKind::UserSuspended {
                    login_id: u.login_id,
                }
            } else {
                EventKind::UserResumed {
                    login_id: u.login_id,
                }
            });
        }
        let (now, actor) = (self.now(), acting.audit_name());
        self.record_all(Some(&actor), now, evs)?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn email_syntax() {
        for ok in ["a@example.co.jp", "yamada.hanako+x@mail.example.com"] {
            assert!(super::parse_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "a@.jp",
            "a b@example.jp",
            "a@@example.jp",
            "@example.jp",
        ] {
            assert!(super::parse_email(bad).is_err(), "{bad}");
        }
    }
}
