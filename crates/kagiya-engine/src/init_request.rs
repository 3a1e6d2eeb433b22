//! The initialization request (seed 004: ID・パスワード初期化依頼書) handled at the branch with no
//! network: record the paper form, have a second person (a supervisor) approve it, then execute it
//! — unlock and resume the listed users and issue temporary passwords they must change at once.

use kagiya_core::directory::ids::{parse_display_name, ContractNo};
use kagiya_core::directory::init_request::valid_date;
use kagiya_core::directory::{
    authorize, managers_outlook, Action, CredentialKind, InitRequest, InitRequestState,
    ManagersOutlook, Tenant, User, UserStatus,
};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::passwords::{generated, password_set, How, Issued};
use crate::port::Change;
use crate::{ActorRef, Engine};

/// The paper form as typed in at the counter (by the CLI's arguments or the window's form).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InitRequestForm {
    pub request_no: String,
    pub contract_no: String,
    /// YYYY-MM-DD.
    pub received_on: String,
    pub requester: String,
    pub identity_checks: Vec<String>,
    /// Login IDs; empty means every master and admin user of the customer.
    pub targets: Vec<String>,
}

impl Engine {
    /// The customer and the users a request for it would act on: the listed login IDs, or every
    /// master and admin when none are listed. Refused while some master or admin can still act.
    pub fn init_request_targets(
        &self,
        contract_no: &str,
        listed: &[String],
    ) -> Result<(Tenant, Vec<User>), Error> {
        let tenant = self.tenant(contract_no)?;
        let users = self.read(|r| r.users_of(&tenant.contract_no))?;
        let now = self.now();
        request_applies(managers_outlook(&tenant, &users, now))?;
        let managers = users.iter().filter(|u| u.role.is_manager());
        let mut out: Vec<User> = Vec::new();
        if listed.iter().all(|t| t.trim().is_empty()) {
            out.extend(managers.into_iter().cloned());
        } else {
            for t in listed.iter().filter(|t| !t.trim().is_empty()) {
                let u = users
                    .iter()
                    .find(|u| u.login_id.eq_ignore_ascii_case(t.trim()))
                    .ok_or(Error::UnknownUser)?;
                if !out.iter().any(|o| o.login_id == u.login_id) {
                    out.push(u.clone());
                }
            }
        }
        Ok((tenant, out))
    }

    /// Records a request. Refused when some master or admin of the customer can still act.
    pub fn record_init_request(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        form: InitRequestForm,
    ) -> Result<InitRequest, Error> {
        let request_no =
            ContractNo::parse(&form.request_no).map_err(|_| Error::InvalidValue("request_no"))?;
        if !valid_date(form.received_on.trim()) {
            return Err(Error::InvalidValue("received_on"));
        }
        let requester = parse_display_name(&form.requester)?;
        let checks: Vec<String> = form
            .identity_checks
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if checks.is_empty() || checks.iter().any(|c| c.chars().count() > 64) {
            return Err(Error::InvalidValue("identity_checks"));
        }
        let (tenant, targets) = self.init_request_targets(&form.contract_no, &form.targets)?;
        let targets: Vec<String> = targets.into_iter().map(|u| u.login_id).collect();
        let now = self.now();
        if self
            .read(|r| r.init_request(request_no.as_str()))?
            .is_some()
        {
            return Err(Error::AlreadyExists("request_no"));
        }
        let acting = self.confirm(who, confirmation, "record_init_request")?;
        authorize(acting.actor(), Action::RecordInitRequest)?;
        let request = InitRequest {
            request_no: request_no.as_str().to_owned(),
            contract_no: tenant.contract_no.clone(),
            received_on: form.received_on.trim().to_owned(),
            requester,
            identity_checks: checks,
            targets,
            recorded_by: acting.audit_name(),
            recorded_at: now,
            state: InitRequestState::Recorded,
            approved_by: None,
            decided_at: None,
            executed_at: None,
        };
        let ev = EventKind::InitRequestRecorded {
            request: request.clone(),
        };
        let actor = acting.audit_name();
        self.record_all(Some(&actor), now, vec![ev])?;
        Ok(request)
    }

    /// A supervisor other than the recorder approves (or, with `reject`, turns down) a request.
    pub fn decide_init_request(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        request_no: &str,
        reject: Option<String>,
    ) -> Result<InitRequest, Error> {
        let req = self
            .read(|r| r.init_request(request_no))?
            .ok_or(Error::UnknownRequest)?;
        if req.state != InitRequestState::Recorded {
            return Err(Error::RequestState(req.state.code()));
        }
        let acting = self.confirm(who, confirmation, "decide_init_request")?;
        authorize(
            acting.actor(),
            Action::ApproveInitRequest {
                recorded_by: &req.recorded_by,
            },
        )?;
        let ev = match reject {
            Some(reason) => {
                let reason = reason.trim().to_owned();
                if reason.is_empty() || reason.chars().count() > 200 {
                    return Err(Error::InvalidValue("reason"));
                }
                EventKind::InitRequestRejected {
                    request_no: req.request_no.clone(),
                    reason,
                }
            }
            None => EventKind::InitRequestApproved {
                request_no: req.request_no.clone(),
            },
        };
        let (now, actor) = (self.now(), acting.audit_name());
        self.record_all(Some(&actor), now, vec![ev])?;
        self.read(|r| r.init_request(&req.request_no))?
            .ok_or(Error::UnknownRequest)
    }

    /// Executes an approved request: every listed user is unlocked, resumed if suspended, and
    /// gets new temporary login and confirmation passwords (returned once).
    pub fn execute_init_request(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        request_no: &str,
    ) -> Result<Vec<Issued>, Error> {
        let req = self
            .read(|r| r.init_request(request_no))?
            .ok_or(Error::UnknownRequest)?;
        if req.state != InitRequestState::Approved {
            return Err(Error::RequestState(req.state.code()));
        }
        let acting = self.confirm(who, confirmation, "execute_init_request")?;
        authorize(acting.actor(), Action::ExecuteInitRequest)?;
        let tenant = self.tenant(&req.contract_no)?;
        let now = self.now();
        let mut evs = Vec::new();
        let mut issued = Vec::new();
        for id in &req.targets {
            let u = self.user(id)?;
            if u.status == UserStatus::Deleted {
                continue;
            }
            evs.push(EventKind::UserUnlocked {
                login_id: u.login_id.clone(),
                credentials: tenant.credentials().to_vec(),
                batch: Some(req.request_no.clone()),
                kept_failures: Vec::new(),
            });
            if u.status == UserStatus::Suspended {
                evs.push(EventKind::UserResumed {
                    login_id: u.login_id.clone(),
                });
            }
            let login = generated(&u, &tenant, CredentialKind::Login, None)?;
            let conf = tenant
                .uses(CredentialKind::Confirmation)
                .then(|| generated(&u, &tenant, CredentialKind::Confirmation, Some(&login)))
                .transpose()?;
            for (kind, pw) in [
                (CredentialKind::Login, Some(&login)),
                (CredentialKind::Confirmation, conf.as_ref()),
            ] {
                let Some(pw) = pw else { continue };
                let hash = self.hasher.hash(pw)?;
                evs.push(password_set(
                    &u,
                    &tenant,
                    kind,
                    hash,
                    How::issued(PasswordSetReason::InitRequest),
                    now,
                ));
            }
            issued.push(Issued {
                login_id: u.login_id.clone(),
                name: u.name.clone(),
                login: Some(login),
                confirmation: conf,
                must_change: true,
                issued_at: now,
            });
        }
        evs.push(EventKind::InitRequestExecuted {
            request_no: req.request_no.clone(),
        });
        let actor = acting.audit_name();
        let changes: Vec<Change> = evs
            .into_iter()
            .map(|ev| Change::event(Some(&actor), ev))
            .collect();
        self.transact(now, |r| {
            // Checked again inside the write: two desks executing one request issue once.
            let fresh = r
                .init_request(&req.request_no)?
                .ok_or(Error::UnknownRequest)?;
            if fresh.state != InitRequestState::Approved {
                return Err(Error::RequestState(fresh.state.code()));
            }
            // And the customer still needs it: a manager unlocked since the approval can act.
            let managers = r.managers_of(&tenant.contract_no)?;
            request_applies(managers_outlook(&tenant, &managers, now))?;
            Ok((changes.clone(), ()))
        })?;
        Ok(issued)
    }
}

/// Refuses a request unless every master and admin is stopped for good (seed 004's rule), saying
/// why: some can act, or the first of them is only temporarily stopped and will clear by itself.
fn request_applies(outlook: ManagersOutlook) -> Result<(), Error> {
    match outlook {
        ManagersOutlook::NeedsRequest => Ok(()),
        ManagersOutlook::Available => Err(Error::ManagersStillAvailable),
        ManagersOutlook::BackAt { at } => Err(Error::ManagersBackSoon { at }),
    }
}

impl Engine {
    /// Where the customer's masters and admins stand now (seed 004's rule for paper requests).
    pub fn managers_outlook(&self, contract_no: &str) -> Result<ManagersOutlook, Error> {
        let tenant = self.tenant(contract_no)?;
        let managers = self.read(|r| r.managers_of(&tenant.contract_no))?;
        Ok(managers_outlook(&tenant, &managers, self.now()))
    }
}
