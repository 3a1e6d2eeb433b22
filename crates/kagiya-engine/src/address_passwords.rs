//! Seed 002's site users: 「サイト利用者のメールアドレスは、1ログインIDにつき10個まで」, and
//! 「追加したメールアドレス宛には「パスワード設定依頼メール」が届くため、メール本文に記載のURLから、
//! 新しくパスワードを設定してください」. Each added address gets a setup link (a one-time secret
//! for that address), sets its own password through it, and then signs in with login ID, address
//! and password (`Engine::verify_with_address`) under its own lock.

use kagiya_core::directory::addresses::dup_key;
use kagiya_core::directory::{CredentialKind, OneTimePurpose};
use kagiya_core::event::EventKind;
use kagiya_core::password::{PolicyContext, Preset};
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::addresses::find;
use crate::one_time::OneTimeSecret;
use crate::passwords::context_words;
use crate::{Engine, DAY};

impl Engine {
    /// A setup link for `address` of `login_id`, for the password-setting request mail (the
    /// mailer calls this when it sends the mail the `AddressAdded` event queued, and again for a
    /// new link). A new link voids the one before. Only for the Web member site; not for the
    /// user's own contact address, which has the login password.
    pub fn issue_address_setup(
        &self,
        login_id: &str,
        address: &str,
    ) -> Result<OneTimeSecret, Error> {
        let (user, tenant) = self.user_and_tenant(login_id)?;
        if tenant.preset != Preset::WebMember {
            return Err(Error::MfaRule("web_member_only"));
        }
        if user.email.as_deref().map(dup_key) == Some(dup_key(address)) {
            return Err(Error::AddressRule("own_address"));
        }
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let target = find(&list, address)?;
        let now = self.now();
        let (secret, ev) = self.prepare_one_time(
            &user.login_id,
            &target.address,
            OneTimePurpose::AddressSetup,
            now,
        )?;
        self.record_all(None, now, vec![ev])?;
        Ok(secret)
    }

    /// Sets the password of `address` through its setup link's `token`. The token is checked
    /// first (a wrong one spends a try); a password the policy refuses changes nothing and leaves
    /// the link usable; a right token with a good password sets it and uses the link up.
    pub fn set_address_password(
        &self,
        login_id: &str,
        address: &str,
        token: &Secret,
        new_password: &Secret,
    ) -> Result<(), Error> {
        let (user, tenant) = self
            .user_and_tenant(login_id)
            .map_err(|_| Error::OneTimeRefused)?;
        let now = self.now();
        let purpose = OneTimePurpose::AddressSetup;
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let Some(checked) = self.check_one_time(&list, address, purpose, token, now)? else {
            return Err(Error::OneTimeRefused);
        };
        let address = checked.address.clone();
        let expires_at = tenant
            .policy(CredentialKind::Login)
            .password
            .expiry_days
            .map(|d| now + d as kagiya_core::Millis * DAY);
        let mut then = Vec::new();
        if checked.right {
            let policy = &tenant.policy(CredentialKind::Login).password;
            let context = context_words(&user, &tenant);
            let ctx = PolicyContext {
                login_id: &user.login_id,
                email: Some(&address),
                must_differ_from: None,
                mfa: user.mfa,
                context: &context,
            };
            let codes = policy.violations(new_password.expose(), &ctx);
            if !codes.is_empty() {
                return Err(Error::PasswordPolicy(codes));
            }
            then.push(EventKind::AddressPasswordSet {
                login_id: user.login_id.clone(),
                address,
                hash: self.hasher.hash(new_password)?,
                expires_at,
            });
        }
        self.settle_one_time(&user, purpose, &checked, now, then)
    }
}
