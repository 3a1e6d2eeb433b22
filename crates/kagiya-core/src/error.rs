//! Every refusal Kagiya can give, each with a stable code and a message in both languages. The UI
//! shows `{code, message}`; scripts match on the code.

use crate::i18n::Lang;
use crate::iprules::IpRuleProblem;

/// An error a user or script can see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("operator ID is not valid")]
    InvalidOperatorId,
    #[error("operator name is not valid")]
    InvalidOperatorName,
    #[error("operator ID is already registered")]
    OperatorIdTaken,
    #[error("the first supervisor is already registered")]
    SetupAlreadyDone,
    #[error("no operator is registered yet")]
    SetupRequired,
    #[error("password does not meet the policy: {0:?}")]
    PasswordPolicy(Vec<&'static str>),
    #[error("the repeated password does not match")]
    PasswordRepeatMismatch,
    #[error("operator ID or password is wrong")]
    InvalidCredentials,
    #[error("sign-in is locked for {minutes_left} more minutes")]
    SignInLocked { minutes_left: i64 },
    #[error("not signed in")]
    NotSignedIn,
    #[error("the session is locked")]
    SessionLocked,
    #[error("the session is not locked")]
    SessionNotLocked,
    #[error("idle lock time out of range")]
    IdleLockOutOfRange { min: u32, max: u32 },
    #[error("unknown language")]
    UnknownLanguage,
    #[error("the audit log has been altered at entry {seq}")]
    AuditChainBroken { seq: i64 },
    #[error("the database could not be opened: {0}")]
    DatabaseUnavailable(String),
    #[error("storage error: {0}")]
    Storage(String),
    /// A file the operator asked for (an export) could not be written; the detail is logged.
    #[error("export failed: {0}")]
    ExportFailed(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("login ID or password is wrong")]
    InvalidUserCredentials,
    #[error("login ID is not valid")]
    InvalidLoginId,
    #[error("contract number is not valid")]
    InvalidContractNo,
    #[error("name is not valid")]
    InvalidName,
    #[error("not permitted: {0:?}")]
    NotPermitted(crate::directory::authz::Denial),
    #[error("no such customer")]
    UnknownTenant,
    #[error("no such user")]
    UnknownUser,
    #[error("no such initialization request")]
    UnknownRequest,
    #[error("already exists: {0}")]
    AlreadyExists(&'static str),
    #[error("invalid value for {0}")]
    InvalidValue(&'static str),
    /// The customer's service has no such password (only Business Web has a confirmation one).
    #[error("the customer's service has no {0:?} password")]
    CredentialNotUsed(crate::directory::CredentialKind),
    #[error("the confirmation password is wrong")]
    ConfirmationFailed,
    #[error("the credential is locked")]
    CredentialLocked { until: Option<crate::Millis> },
    #[error("the initialization request is {0}")]
    RequestState(&'static str),
    #[error("some master or admin users can still act")]
    ManagersStillAvailable,
    #[error("the master and admin users are only temporarily locked")]
    /// Every master and admin is out of action, but some only temporarily: the first can act
    /// again at `at` by itself (seed 004's 一時利用停止), so a paper request does not apply.
    ManagersBackSoon { at: crate::Millis },
    #[error("the event log does not fold: {0}")]
    EventLogInconsistent(String),
    #[error("the database key is not available: {0}")]
    KeyUnavailable(String),
    #[error("the OS keyring has no key for this database")]
    KeyMissing,
    #[error("the certificate file could not be read: {0}")]
    CertificateUnreadable(&'static str),
    #[error("the certificate does not fit: {0:?}")]
    CertificateRejected(Vec<&'static str>),
    #[error("the IP rule is not valid: {0}")]
    InvalidIpRule(IpRuleProblem),
    #[error("address rule: {0}")]
    AddressRule(&'static str),
    /// A one-time password or setup link that is wrong, used, expired or out of tries: one
    /// answer for all, so that nothing tells them apart.
    #[error("the one-time password or link is not valid")]
    OneTimeRefused,
    /// Seed 000: the account is locked, and 「この状態ではパスワードのリセット機能は利用できません」.
    #[error("password reset is not available while the account is locked")]
    ResetUnavailable,
    /// A mail that carries a code cannot be queued: the server has no mail configured.
    #[error("mail is not configured on this server")]
    MailUnavailable,
    #[error("2FA rule: {0}")]
    MfaRule(&'static str),
    #[error("the file could not be read or written: {0}")]
    File(String),
    /// Another Kagiya window already has this data folder open.
    #[error("another window has this database open")]
    AlreadyOpen,
    /// Sync with the central server did not happen (`SyncProblem` says why); nothing local was
    /// lost: what waits to be sent stays queued.
    #[error("sync: {0:?} {1}")]
    Sync(SyncProblem, String),
}

/// Why a sync did not happen.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncProblem {
    /// This PC is not enrolled with a server.
    NotEnrolled,
    /// The server could not be reached (network, TLS, timeout).
    Unreachable,
    /// The server refused (a code, key, device or clock problem; the detail is its code).
    Refused,
    /// What the server sent does not continue what was pulled before.
    ChainBroken,
}

/// What kind of refusal an error is. Every shell maps the kinds once — the CLI to exit codes,
/// the window to its error view, the server to HTTP statuses — so that no error falls through to
/// "internal" by accident: adding an error means choosing its kind here.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A password or confirmation password did not match (or the ID is unknown: same answer).
    WrongPassword,
    /// A sign-in or credential is locked.
    Locked,
    /// Not allowed for this actor, or not in this session state.
    NotPermitted,
    /// What was asked for does not exist.
    NotFound,
    /// The input breaks a rule; nothing was changed.
    Invalid,
    /// The input fits the rules but not the current state (taken, already done, wrong state).
    Conflict,
    /// The audit log or its fold does not check out.
    AuditBroken,
    /// The database, its key or a file is not reachable.
    Unavailable,
    /// A fault of the program or the storage; the detail is logged.
    Internal,
}

impl Error {
    /// The kind of the error (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind::*;
        match self {
            Error::InvalidCredentials
            | Error::InvalidUserCredentials
            | Error::OneTimeRefused
            | Error::ConfirmationFailed => WrongPassword,
            Error::CredentialLocked { .. }
            | Error::SignInLocked { .. }
            | Error::ResetUnavailable => Locked,
            Error::NotPermitted(_)
            | Error::NotSignedIn
            | Error::SessionLocked
            | Error::SessionNotLocked => NotPermitted,
            Error::UnknownTenant | Error::UnknownUser | Error::UnknownRequest => NotFound,
            Error::PasswordPolicy(_)
            | Error::PasswordRepeatMismatch
            | Error::InvalidLoginId
            | Error::InvalidContractNo
            | Error::InvalidName
            | Error::InvalidOperatorId
            | Error::InvalidOperatorName
            | Error::InvalidValue(_)
            | Error::CredentialNotUsed(_)
            | Error::IdleLockOutOfRange { .. }
            | Error::UnknownLanguage
            | Error::CertificateUnreadable(_)
            | Error::CertificateRejected(_)
            | Error::InvalidIpRule(_)
            | Error::AddressRule(_)
            | Error::File(_) => Invalid,
            Error::MfaRule(_) | Error::AlreadyOpen => Conflict,
            Error::Sync(SyncProblem::NotEnrolled, _) => Invalid,
            Error::Sync(SyncProblem::Refused, _) => NotPermitted,
            Error::Sync(SyncProblem::Unreachable, _) | Error::MailUnavailable => Unavailable,
            Error::Sync(SyncProblem::ChainBroken, _) => AuditBroken,
            Error::AlreadyExists(_)
            | Error::OperatorIdTaken
            | Error::SetupAlreadyDone
            | Error::SetupRequired
            | Error::RequestState(_)
            | Error::ManagersStillAvailable
            | Error::ManagersBackSoon { .. } => Conflict,
            Error::AuditChainBroken { .. } | Error::EventLogInconsistent(_) => AuditBroken,
            Error::DatabaseUnavailable(_)
            | Error::KeyUnavailable(_)
            | Error::KeyMissing
            | Error::ExportFailed(_) => Unavailable,
            Error::Storage(_) | Error::Internal(_) => Internal,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidOperatorId => "operator.id_invalid",
            Error::InvalidOperatorName => "operator.name_invalid",
            Error::OperatorIdTaken => "operator.id_taken",
            Error::SetupAlreadyDone => "setup.already_done",
            Error::SetupRequired => "setup.required",
            Error::PasswordPolicy(_) => "password.policy",
            Error::PasswordRepeatMismatch => "password.repeat_mismatch",
            Error::InvalidCredentials => "auth.invalid_credentials",
            Error::SignInLocked { .. } => "auth.locked",
            Error::NotSignedIn => "session.not_signed_in",
            Error::SessionLocked => "session.locked",
            Error::SessionNotLocked => "session.not_locked",
            Error::IdleLockOutOfRange { .. } => "settings.idle_lock_range",
            Error::UnknownLanguage => "settings.language_unknown",
            Error::AuditChainBroken { .. } => "audit.chain_broken",
            Error::DatabaseUnavailable(_) => "storage.open_failed",
            Error::Storage(_) => "storage.failed",
            Error::ExportFailed(_) => "export.failed",
            Error::Internal(_) => "internal",
            Error::InvalidUserCredentials => "auth.invalid_credentials",
            Error::InvalidLoginId => "user.login_id_invalid",
            Error::InvalidContractNo => "tenant.contract_no_invalid",
            Error::InvalidName => "input.name_invalid",
            Error::NotPermitted(_) => "auth.not_permitted",
            Error::UnknownTenant => "tenant.unknown",
            Error::UnknownUser => "user.unknown",
            Error::UnknownRequest => "init_request.unknown",
            Error::AlreadyExists(_) => "input.already_exists",
            Error::InvalidValue(_) => "input.invalid",
            Error::CredentialNotUsed(_) => "credential.not_used",
            Error::ConfirmationFailed => "auth.confirmation_failed",
            Error::CredentialLocked { .. } => "auth.credential_locked",
            Error::RequestState(_) => "init_request.state",
            Error::ManagersStillAvailable => "init_request.managers_available",
            Error::ManagersBackSoon { .. } => "init_request.managers_back_soon",
            Error::EventLogInconsistent(_) => "audit.inconsistent",
            Error::KeyUnavailable(_) => "storage.key_unavailable",
            Error::KeyMissing => "storage.key_missing",
            Error::CertificateUnreadable(_) => "cert.unreadable",
            Error::CertificateRejected(_) => "cert.rejected",
            Error::InvalidIpRule(_) => "ip.rule_invalid",
            Error::AddressRule(_) => "email.refused",
            Error::OneTimeRefused => "auth.one_time_refused",
            Error::ResetUnavailable => "auth.reset_unavailable",
            Error::MailUnavailable => "mail.unavailable",
            Error::MfaRule(_) => "mfa.refused",
            Error::AlreadyOpen => "app.already_open",
            Error::File(_) => "file.failed",
            Error::Sync(SyncProblem::NotEnrolled, _) => "sync.not_enrolled",
            Error::Sync(SyncProblem::Unreachable, _) => "sync.unreachable",
            Error::Sync(SyncProblem::Refused, _) => "sync.refused",
            Error::Sync(SyncProblem::ChainBroken, _) => "sync.chain_broken",
        }
    }

    /// The message for a person, in their language. Storage and internal details stay in the log;
    /// the person is told what happened and that nothing was changed.
    pub fn message(&self, lang: Lang) -> String {
        let s = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
        match self {
            Error::InvalidOperatorId => s(
                "オペレーターIDは半角英数字と「-」「_」「.」で3〜32文字にしてください。",
                "Operator ID must be 3 to 32 characters: letters, digits, '-', '_' or '.'.",
            ),
            Error::InvalidOperatorName => s(
                "氏名は1〜64文字で入力してください（制御文字は使えません）。",
                "Name must be 1 to 64 characters, without control characters.",
            ),
            Error::OperatorIdTaken => s(
                "このオペレーターIDはすでに登録されています。",
                "This operator ID is already registered.",
            ),
            Error::SetupAlreadyDone => s(
                "最初のスーパーバイザーはすでに登録されています。",
                "The first supervisor has already been registered.",
            ),
            Error::SetupRequired => s(
                "最初のスーパーバイザーを登録してください。",
                "Register the first supervisor first.",
            ),
            Error::PasswordPolicy(codes) => match lang {
                Lang::Ja => format!(
                    "パスワードがポリシーを満たしていません（{}）。",
                    codes.join(", ")
                ),
                Lang::En => format!(
                    "The password does not meet the policy ({}).",
                    codes.join(", ")
                ),
            },
            Error::PasswordRepeatMismatch => s(
                "確認のために入力したパスワードが一致しません。",
                "The passwords you typed twice do not match.",
            ),
            Error::InvalidCredentials => s(
                "オペレーターIDまたはパスワードが正しくありません。",
                "The operator ID or password is incorrect.",
            ),
            Error::SignInLocked { minutes_left } => match lang {
                Lang::Ja => format!(
                    "サインインに続けて失敗したため、一時的に利用停止中です。約{minutes_left}分後に再度お試しいただくか、スーパーバイザーにご連絡ください。"
                ),
                Lang::En => format!(
                    "Sign-in is temporarily locked after repeated failures. Try again in about {minutes_left} min or contact a supervisor."
                ),
            },
            Error::NotSignedIn => s("サインインしてください。", "Please sign in."),
            Error::SessionLocked => s(
                "画面がロックされています。パスワードを入力して再開してください。",
                "The screen is locked. Enter your password to continue.",
            ),
            Error::SessionNotLocked => s(
                "画面はロックされていません。",
                "The screen is not locked.",
            ),
            Error::IdleLockOutOfRange { min, max } => match lang {
                Lang::Ja => format!("自動ロックまでの時間は{min}〜{max}分で指定してください。"),
                Lang::En => format!("Idle lock time must be between {min} and {max} minutes."),
            },
            Error::UnknownLanguage => s(
                "対応していない言語です（ja または en）。",
                "Unsupported language (ja or en).",
            ),
            Error::AuditChainBroken { seq } => match lang {
                Lang::Ja => format!("監査ログの{seq}番目の記録が改ざんされています。"),
                Lang::En => format!("The audit log has been altered at entry {seq}."),
            },
            Error::DatabaseUnavailable(_) => s(
                "データベースファイルを開けませんでした（壊れているか、読み書きできません）。ファイルには手を加えていません。",
                "The database file could not be opened (it is damaged or not readable and writable). The file was left as it is.",
            ),
            Error::ExportFailed(_) => s(
                "ファイルを書き出せませんでした。保存先の空き容量と書き込み権限を確認してください。",
                "The file could not be written. Check the free space and write permission of the folder.",
            ),
            Error::Storage(_) => s(
                "データベースへの保存に失敗しました。変更は行われていません。",
                "Saving to the database failed. Nothing was changed.",
            ),
            Error::Internal(_) => s(
                "内部エラーが発生しました。変更は行われていません。",
                "An internal error occurred. Nothing was changed.",
            ),
            Error::InvalidUserCredentials => s(
                "ログインIDまたはパスワードが正しくありません。",
                "The login ID or password is incorrect.",
            ),
            Error::InvalidLoginId => s(
                "ログインIDは半角英数字と「-」「_」「.」「@」で3〜32文字にしてください。",
                "Login ID must be 3 to 32 characters: letters, digits, '-', '_', '.' or '@'.",
            ),
            Error::InvalidContractNo => s(
                "契約番号は半角英数字と「-」で1〜20文字にしてください。",
                "Contract number must be 1 to 20 characters: letters, digits or '-'.",
            ),
            Error::InvalidName => s(
                "名前は1〜100文字で入力してください（制御文字は使えません）。",
                "Name must be 1 to 100 characters, without control characters.",
            ),
            Error::NotPermitted(d) => {
                use crate::directory::authz::Denial;
                let why = match d {
                    Denial::SupervisorOnly => lang.pick("スーパーバイザーのみが行えます", "only a supervisor may do this"),
                    Denial::BranchOnly => lang.pick("お取引店のみが行えます", "only the branch may do this"),
                    Denial::OtherCompany => lang.pick("他のお客様の利用者です", "the user belongs to another customer"),
                    Denial::RoleTooLow => lang.pick("この操作を行う権限がありません", "your role does not allow this"),
                    Denial::OwnAccount => lang.pick("ご自身のパスワードは「パスワード変更」から変更してください", "change your own passwords with \"change password\""),
                    Denial::SamePerson => lang.pick("受付者と承認者は別の人である必要があります", "the approver must not be the person who recorded it"),
                    Denial::Deleted => lang.pick("削除された利用者です", "the user has been deleted"),
                    Denial::PasswordChangeRequired => lang.pick("先にご自身のパスワードを変更してください", "change your own password first"),
                    Denial::PermanentPasswordNeedsReason => lang.pick("変更を求めないパスワードの設定には、スーパーバイザーが理由を入力する必要があります（通常は「ログイン時に強制変更する」）", "a password that is not changed at the next login needs a supervisor's reason (normally: force the change at next login)"),
                    Denial::SecondSupervisorRequired => lang.pick("このバックアップは現在の監査ログの続きではありません（履歴が失われます）。もう一人のスーパーバイザーの確認が必要です", "the backup does not continue the current audit log (history would be lost); a second supervisor must agree"),
                    Denial::LastSupervisor => lang.pick("有効なスーパーバイザーが一人もいなくなります", "the branch would have no enabled supervisor left"),
                };
                match lang {
                    Lang::Ja => format!("この操作はできません（{why}）。"),
                    Lang::En => format!("Not permitted: {why}."),
                }
            }
            Error::UnknownTenant => s("該当するお客様が見つかりません。", "No such customer."),
            Error::UnknownUser => s("該当する利用者が見つかりません。", "No such user."),
            Error::UnknownRequest => s("該当する初期化依頼が見つかりません。", "No such initialization request."),
            Error::AlreadyExists(what) => match lang {
                Lang::Ja => format!("すでに登録されています（{what}）。"),
                Lang::En => format!("Already registered ({what})."),
            },
            Error::CredentialNotUsed(kind) => match lang {
                Lang::Ja => format!(
                    "このお客様のサービスには{}がありません。何も変更していません。",
                    kind.label(lang)
                ),
                Lang::En => format!(
                    "This customer's service has no {}. Nothing was changed.",
                    kind.label(lang)
                ),
            },
            Error::InvalidValue(what) => match lang {
                Lang::Ja => format!("入力値が正しくありません（{what}）。"),
                Lang::En => format!("Invalid value ({what})."),
            },
            Error::ConfirmationFailed => s(
                "確認用パスワードが正しくありません。何も変更していません。",
                "The confirmation password is incorrect. Nothing was changed.",
            ),
            Error::CredentialLocked { until: Some(_) } => s(
                "パスワードが一時利用停止中です。時間をおいて再度お試しください。",
                "The password is temporarily locked. Please try again later.",
            ),
            Error::CredentialLocked { until: None } => s(
                "パスワードが利用停止中です。管理者に解除を依頼してください。",
                "The password is locked. Ask an administrator to unlock it.",
            ),
            Error::RequestState(state) => match lang {
                Lang::Ja => format!("この初期化依頼は現在の状態（{state}）ではこの操作ができません。"),
                Lang::En => format!("The initialization request is {state}; this step is not possible."),
            },
            Error::ManagersStillAvailable => s(
                "マスターユーザ・管理者ユーザのうち利用可能な人がいるため、初期化依頼の対象になりません。",
                "Some master or admin users can still act, so an initialization request does not apply.",
            ),
            Error::ManagersBackSoon { .. } => s(
                "マスターユーザ・管理者ユーザは一時利用停止中です。一定時間が経過すると自動的に解除されるため、初期化依頼の対象になりません（解除予定時刻はお客様の詳細画面とダッシュボードに表示しています）。",
                "The master and admin users are only temporarily locked and will be released automatically, so an initialization request does not apply (the customer's detail and the dashboard show when).",
            ),
            Error::EventLogInconsistent(_) => s(
                "監査ログから状態を再構成できませんでした。",
                "The state could not be rebuilt from the audit log.",
            ),
            Error::KeyUnavailable(_) => s(
                "データベースの暗号鍵をOSの鍵ストアから取得できませんでした。キーチェーン（資格情報マネージャー）が利用できるか確認してください。",
                "The database key could not be read from the OS keyring. Check that the keychain (credential store) is available.",
            ),
            Error::KeyMissing => s(
                "このデータベースの暗号鍵がこの端末の鍵ストアにありません。別の端末からコピーしたファイルは開けません。ファイルには手を加えていません。システム管理者に連絡してください。",
                "This PC's keyring has no key for this database (a file copied from another PC cannot be opened). The file was left as it is. Please contact your system administrator.",
            ),
            Error::CertificateUnreadable(why) => {
                let (ja, en) = match *why {
                    "empty" => ("ファイルが空です", "the file is empty"),
                    "too_large" => ("ファイルが大きすぎます（4 MB まで）", "the file is too large (4 MB at most)"),
                    "encrypted" => (
                        "暗号化されたメールです。暗号化せずに電子署名だけを付けて送ってください",
                        "it is an encrypted message; send it signed but not encrypted",
                    ),
                    "unsigned_mail" => ("電子署名の付いていないメールです", "the mail carries no signature"),
                    "no_certificate" => ("証明書が含まれていません", "it contains no certificate"),
                    "unknown_format" => (
                        "PEM・DER・PKCS#7（.p7b/.p7s/.p7m）・署名付きメール（.eml）のいずれでもありません",
                        "it is not PEM, DER, PKCS#7 (.p7b/.p7s/.p7m) or a signed e-mail (.eml)",
                    ),
                    _ => ("形式が壊れています", "its structure is damaged"),
                };
                match lang {
                    Lang::Ja => format!("証明書ファイルを読み取れませんでした（{ja}）。何も変更していません。"),
                    Lang::En => format!("The certificate file could not be read: {en}. Nothing was changed."),
                }
            }
            Error::CertificateRejected(codes) => match lang {
                Lang::Ja => format!("この証明書はこのメールアドレスに使えません（{}）。何も変更していません。", codes.join(", ")),
                Lang::En => format!("This certificate cannot be used for this address ({}). Nothing was changed.", codes.join(", ")),
            },
            Error::InvalidIpRule(problem) => match lang {
                Lang::Ja => format!("IPアドレスの規則が正しくありません（{}）。何も変更していません。", problem.message(lang)),
                Lang::En => format!("The IP rule is not valid ({}). Nothing was changed.", problem.message(lang)),
            },
            Error::AddressRule(code) => {
                let why = crate::directory::addresses::rule_message(code, lang);
                match lang {
                    Lang::Ja => format!("この操作はできません（{why}）。何も変更していません。"),
                    Lang::En => format!("Not possible: {why}. Nothing was changed."),
                }
            }
            Error::AlreadyOpen => s(
                "Kagiya はこのデータフォルダーですでに開いています。開いているウィンドウを使ってください。",
                "Kagiya is already open for this data folder. Please use the window that is open.",
            ),
            Error::OneTimeRefused => s(
                "ワンタイムパスワード（またはURL）が正しくないか、有効期限が切れています。もう一度最初からお試しください。",
                "The one-time password (or link) is wrong or has expired. Please start again.",
            ),
            Error::MailUnavailable => s(
                "メールを送信できないため、ワンタイムパスワードやURLをお送りできません。時間をおいてお試しいただくか、お取引店にお問い合わせください。",
                "Mail cannot be sent, so no one-time password or link can be sent. Please try again later or contact your branch.",
            ),
            Error::ResetUnavailable => s(
                "アカウントが利用停止中です。この状態ではパスワードのリセット機能は利用できません。時間をおいてお試しいただくか、管理者にお問い合わせください。",
                "The account is locked. Password reset is not available in this state. Please try again later or ask your administrator.",
            ),
            Error::MfaRule(code) => {
                let why = match *code {
                    "needs_otp_address" => lang.pick(
                        "ワンタイムパスワードを受け取るメールアドレスを先に登録してください",
                        "register the address that receives the one-time passwords first",
                    ),
                    "already_on" => lang.pick("多要素認証はすでに「利用する」です", "2FA is already on"),
                    "already_off" => lang.pick("多要素認証はすでに「利用しない」です", "2FA is already off"),
                    "not_at_registration" => lang.pick(
                        "多要素認証は登録時には設定できません（利用者がワンタイムパスワードを受け取るメールアドレスを確認して「利用する」にします）",
                        "2FA cannot be set at registration (the user turns it on once a one-time password reaches their address)",
                    ),
                    "required_by_service" => lang.pick(
                        "Bizメール&ウェブでは、ログイン時にワンタイムパスワード用メールアドレスの登録をお願いしているため、この画面から多要素認証を「利用しない」にはできません",
                        "Biz Mail & Web asks for the one-time-password address at sign-in, so two-step sign-in cannot be turned off here",
                    ),
                    "web_member_only" => lang.pick(
                        "メールアドレスごとのパスワードはWeb会員サイト（資料002）の機能です",
                        "passwords per address are a feature of the Web member site (seed 002)",
                    ),
                    _ => lang.pick("この操作はできません", "not possible"),
                };
                match lang {
                    Lang::Ja => format!("{why}。何も変更していません。"),
                    Lang::En => format!("Not possible: {why}. Nothing was changed."),
                }
            }
            Error::File(_) => s(
                "ファイルを読み書きできませんでした。",
                "The file could not be read or written.",
            ),
            Error::Sync(SyncProblem::NotEnrolled, _) => s(
                "この端末はサーバに登録されていません。設定画面で登録してください。",
                "This PC is not enrolled with a server. Enrol it in Settings.",
            ),
            Error::Sync(SyncProblem::Unreachable, _) => s(
                "サーバに接続できません。操作はこの端末に保存され、接続できたときに送られます。",
                "The server cannot be reached. Your work is kept on this PC and sent once it can.",
            ),
            Error::Sync(SyncProblem::Refused, detail) => match lang {
                Lang::Ja => format!("サーバが同期を拒否しました（{detail}）。"),
                Lang::En => format!("The server refused to sync ({detail})."),
            },
            Error::Sync(SyncProblem::ChainBroken, _) => s(
                "サーバから受け取った記録が以前の記録とつながりません。同期を止めました。",
                "What the server sent does not continue what was pulled before. Sync stopped.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_code_and_two_messages() {
        let all = [
            Error::InvalidOperatorId,
            Error::InvalidOperatorName,
            Error::OperatorIdTaken,
            Error::SetupAlreadyDone,
            Error::SetupRequired,
            Error::PasswordPolicy(vec!["password.length"]),
            Error::PasswordRepeatMismatch,
            Error::InvalidCredentials,
            Error::SignInLocked { minutes_left: 1 },
            Error::NotSignedIn,
            Error::SessionLocked,
            Error::SessionNotLocked,
            Error::IdleLockOutOfRange { min: 1, max: 120 },
            Error::UnknownLanguage,
            Error::AuditChainBroken { seq: 3 },
            Error::DatabaseUnavailable("file is not a database".into()),
            Error::Storage("disk I/O".into()),
            Error::Internal("x".into()),
            Error::InvalidLoginId,
            Error::InvalidContractNo,
            Error::InvalidName,
            Error::NotPermitted(crate::directory::authz::Denial::OwnAccount),
            Error::UnknownTenant,
            Error::UnknownUser,
            Error::UnknownRequest,
            Error::AlreadyExists("login_id"),
            Error::InvalidValue("x"),
            Error::CredentialNotUsed(crate::directory::CredentialKind::Confirmation),
            Error::ConfirmationFailed,
            Error::CredentialLocked { until: None },
            Error::RequestState("executed"),
            Error::ManagersStillAvailable,
            Error::ManagersBackSoon { at: 1 },
            Error::EventLogInconsistent("x".into()),
            Error::KeyUnavailable("x".into()),
            Error::KeyMissing,
            Error::CertificateUnreadable("empty"),
            Error::CertificateRejected(vec!["cert.expired"]),
            Error::InvalidIpRule(IpRuleProblem::CountryCode),
            Error::AddressRule("limit"),
            Error::File("x".into()),
            Error::Sync(SyncProblem::NotEnrolled, String::new()),
            Error::Sync(SyncProblem::Unreachable, "connection refused".into()),
            Error::Sync(SyncProblem::Refused, "sync.device_refused".into()),
            Error::Sync(SyncProblem::ChainBroken, String::new()),
        ];
        // The user-side wrong password shares the operator-side code (same meaning, own wording).
        assert_eq!(
            Error::InvalidUserCredentials.code(),
            Error::InvalidCredentials.code()
        );
        assert!(Error::InvalidUserCredentials
            .message(Lang::Ja)
            .contains("ログインID"));
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            let ja = e.message(Lang::Ja);
            let en = e.message(Lang::En);
            assert!(!ja.is_empty() && !en.is_empty());
            assert_ne!(ja, en, "{}", e.code());
        }
    }

    #[test]
    fn storage_details_never_reach_the_message() {
        let e = Error::Storage("SQLITE_CORRUPT at /home/x/kagiya.db".into());
        assert!(!e.message(Lang::En).contains("SQLITE"));
        assert!(!e.message(Lang::Ja).contains("/home"));
    }

    #[test]
    fn lock_message_tells_how_long_to_wait() {
        let e = Error::SignInLocked { minutes_left: 14 };
        assert!(
            e.message(Lang::En).contains("about 14 min"),
            "{}",
            e.message(Lang::En)
        );
        assert!(e.message(Lang::Ja).contains("約14分"));
    }
}
