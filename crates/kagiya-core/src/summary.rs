//! One-line audit summaries of every event — the branch's and the directory's — in Japanese and
//! English: the one place the audit screen, the CSV export and the CLI take their words from.

use crate::event::{EventKind, PasswordSetReason, RefusalReason, Scope, SignInFailure};
use crate::lockout::FailureOutcome;
use crate::operator::Role;
use crate::Lang;

fn reason_label(r: PasswordSetReason, lang: Lang) -> &'static str {
    match r {
        PasswordSetReason::Initial => lang.pick("初期設定", "initial"),
        PasswordSetReason::AdminReset => lang.pick("管理者による変更", "set by an administrator"),
        PasswordSetReason::OwnChange => lang.pick("本人による変更", "changed by the user"),
        PasswordSetReason::ExpiredChange => lang.pick("期限切れによる変更", "changed after expiry"),
        PasswordSetReason::ForcedChange => lang.pick("強制変更", "forced change"),
        PasswordSetReason::MailReset => {
            lang.pick("メールのURLによるリセット", "reset through the mailed link")
        }
        PasswordSetReason::InitRequest => lang.pick(
            "初期化依頼による再発行",
            "reissued by initialization request",
        ),
    }
}

fn pick(ja: bool, j: String, e: String) -> String {
    if ja {
        j
    } else {
        e
    }
}

fn one_time_label(p: crate::directory::OneTimePurpose, ja: bool) -> &'static str {
    use crate::directory::OneTimePurpose::*;
    match (p, ja) {
        (SignIn, true) => "ワンタイムパスワード",
        (SignIn, false) => "one-time password",
        (Enrollment, true) => "多要素認証の登録確認コード",
        (Enrollment, false) => "2FA enrolment code",
        (AddressSetup, true) => "パスワード設定用URL",
        (AddressSetup, false) => "password-setting link",
        (PasswordReset, true) => "パスワードリセット用URL",
        (PasswordReset, false) => "password reset link",
        (AddressChange, true) => "メールアドレス変更確認用URL",
        (AddressChange, false) => "address change confirmation link",
    }
}

fn on_off(b: bool, ja: bool) -> &'static str {
    match (b, ja) {
        (true, true) => "オン",
        (false, true) => "オフ",
        (true, false) => "on",
        (false, false) => "off",
    }
}

/// The summary of any event.
pub fn summary(kind: &EventKind, lang: Lang) -> String {
    match kind.scope() {
        Scope::Branch => branch_summary(kind, lang),
        Scope::Directory => directory_summary(kind, lang),
    }
}

/// The summary of a branch event; directory events go to `directory_summary`.
fn branch_summary(kind: &EventKind, lang: Lang) -> String {
    use crate::Lang::{En, Ja};
    let role = |r: &Role| match (r, lang) {
        (Role::Supervisor, Ja) => "スーパーバイザー",
        (Role::Supervisor, En) => "supervisor",
        (Role::Operator, Ja) => "オペレーター",
        (Role::Operator, En) => "operator",
    };
    match (kind, lang) {
        (
            EventKind::OperatorCreated {
                operator_id,
                name,
                role: r,
                ..
            },
            Ja,
        ) => {
            format!("{}「{operator_id}」（{name}）を登録", role(r))
        }
        (
            EventKind::OperatorCreated {
                operator_id,
                name,
                role: r,
                ..
            },
            En,
        ) => {
            format!("Registered {} {operator_id} ({name})", role(r))
        }
        (EventKind::OperatorSignedIn { operator_id }, Ja) => {
            format!("{operator_id} がサインイン")
        }
        (EventKind::OperatorSignedIn { operator_id }, En) => format!("{operator_id} signed in"),
        (
            EventKind::OperatorSignInFailed {
                attempted_id,
                reason,
                failures,
            },
            Ja,
        ) => match reason {
            SignInFailure::UnknownOperator => {
                format!("未登録のID「{attempted_id}」でサインイン失敗")
            }
            SignInFailure::WrongPassword => {
                format!("{attempted_id} のサインイン失敗（パスワード誤り、{failures}回目）")
            }
            SignInFailure::Locked => format!("{attempted_id} のサインインを拒否（利用停止中）"),
            SignInFailure::Disabled => {
                format!("{attempted_id} のサインインを拒否（無効化された操作者）")
            }
        },
        (
            EventKind::OperatorSignInFailed {
                attempted_id,
                reason,
                failures,
            },
            En,
        ) => match reason {
            SignInFailure::UnknownOperator => {
                format!("Sign-in failed for unknown ID \"{attempted_id}\"")
            }
            SignInFailure::WrongPassword => {
                format!("Sign-in failed for {attempted_id} (wrong password, failure {failures})")
            }
            SignInFailure::Locked => format!("Sign-in refused for {attempted_id} (locked)"),
            SignInFailure::Disabled => format!("Sign-in refused for {attempted_id} (disabled)"),
        },
        (EventKind::OperatorLocked { operator_id, .. }, Ja) => {
            format!("{operator_id} のサインインを一時利用停止")
        }
        (EventKind::OperatorLocked { operator_id, .. }, En) => {
            format!("Sign-in temporarily locked for {operator_id}")
        }
        (EventKind::OperatorLockReleased { operator_id, .. }, Ja) => {
            format!("{operator_id} の一時利用停止が時間経過で解除")
        }
        (EventKind::OperatorLockReleased { operator_id, .. }, En) => {
            format!("Temporary lock of {operator_id} ended")
        }
        (EventKind::OperatorPasswordRehashed { operator_id, .. }, Ja) => {
            format!("{operator_id} のパスワードハッシュを現在の強度で再計算")
        }
        (EventKind::OperatorPasswordRehashed { operator_id, .. }, En) => {
            format!("Password hash of {operator_id} upgraded to current parameters")
        }
        (EventKind::OperatorSignedOut { operator_id }, Ja) => {
            format!("{operator_id} がサインアウト")
        }
        (EventKind::OperatorSignedOut { operator_id }, En) => {
            format!("{operator_id} signed out")
        }
        (EventKind::SessionLocked { operator_id, idle }, Ja) => {
            if *idle {
                format!("{operator_id} の画面を無操作のため自動ロック")
            } else {
                format!("{operator_id} が画面をロック")
            }
        }
        (EventKind::SessionLocked { operator_id, idle }, En) => {
            if *idle {
                format!("Screen of {operator_id} locked after inactivity")
            } else {
                format!("{operator_id} locked the screen")
            }
        }
        (EventKind::SessionResumed { operator_id }, Ja) => {
            format!("{operator_id} が画面ロックを解除")
        }
        (EventKind::SessionResumed { operator_id }, En) => {
            format!("{operator_id} unlocked the screen")
        }
        (EventKind::SettingChanged { key, value }, Ja) => {
            let name = match key.as_str() {
                "language" => "表示言語",
                "idle_lock_minutes" => "自動ロックまでの時間（分）",
                "cert_expiring_days" => "証明書の期限切れ予告（日）",
                other => other,
            };
            format!("設定「{name}」を「{value}」に変更")
        }
        (EventKind::SettingChanged { key, value }, En) => {
            let name = match key.as_str() {
                "idle_lock_minutes" => "idle lock (minutes)",
                "cert_expiring_days" => "certificate expiry warning (days)",
                other => other,
            };
            format!("Setting \"{name}\" changed to {value}")
        }
        (other, lang) => directory_summary(other, lang),
    }
}

/// The summary of a directory event.
fn directory_summary(kind: &EventKind, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    match kind {
        EventKind::TenantCreated {
            contract_no,
            name,
            preset,
            ..
        } => {
            if ja {
                format!(
                    "お客様「{name}」（契約番号 {contract_no}、{}）を登録",
                    preset.title(lang)
                )
            } else {
                format!(
                    "Registered customer {name} (contract {contract_no}, {})",
                    preset.title(lang)
                )
            }
        }
        EventKind::TenantPolicyChanged {
            contract_no,
            credential,
            ..
        } => {
            if ja {
                format!(
                    "契約番号 {contract_no} の{}のポリシーを変更",
                    credential.label(lang)
                )
            } else {
                format!(
                    "Changed the {} policy of contract {contract_no}",
                    credential.label(lang)
                )
            }
        }
        EventKind::UserCreated {
            login_id,
            name,
            role,
            contract_no,
            ..
        } => {
            if ja {
                format!(
                    "{}「{login_id}」（{name}、契約番号 {contract_no}）を登録",
                    role.label(lang)
                )
            } else {
                format!(
                    "Registered {} {login_id} ({name}, contract {contract_no})",
                    role.label(lang)
                )
            }
        }
        EventKind::PasswordSet {
            login_id,
            credential,
            reason,
            must_change,
            ..
        } => {
            let forced = match (must_change, ja) {
                (true, true) => "（ログイン時に強制変更）",
                (true, false) => " (change at next login)",
                _ => "",
            };
            if ja {
                format!(
                    "{login_id} の{}を設定：{}{forced}",
                    credential.label(lang),
                    reason_label(*reason, lang)
                )
            } else {
                format!(
                    "Set the {} of {login_id}: {}{forced}",
                    credential.label(lang),
                    reason_label(*reason, lang)
                )
            }
        }
        EventKind::CredentialFailed {
            login_id,
            credential,
            channel,
            outcome,
            ..
        } => {
            let c = credential.label(lang);
            let ch = channel.code();
            match (outcome, ja) {
                (FailureOutcome::Counted { failures }, true) => {
                    format!("{login_id} の{c}の誤り（{ch}、{failures}回目）")
                }
                (FailureOutcome::Counted { failures }, false) => {
                    format!("Wrong {c} for {login_id} ({ch}, failure {failures})")
                }
                (FailureOutcome::LockedNow { .. }, true) => {
                    format!("{login_id} の{c}を一時利用停止（{ch}）")
                }
                (FailureOutcome::LockedNow { .. }, false) => {
                    format!("{login_id}'s {c} temporarily locked ({ch})")
                }
                (FailureOutcome::LockedPermanently { .. }, true) => {
                    format!("{login_id} の{c}を利用停止（{ch}）")
                }
                (FailureOutcome::LockedPermanently { .. }, false) => {
                    format!("{login_id}'s {c} locked ({ch})")
                }
                (_, true) => format!("停止中の {login_id} の{c}の試行を拒否（{ch}）"),
                (_, false) => format!("Refused an attempt on {login_id}'s locked {c} ({ch})"),
            }
        }
        EventKind::CredentialRefused {
            attempted_id,
            credential,
            channel,
            reason,
        } => {
            let ch = channel.code();
            match (reason, ja) {
                (RefusalReason::UnknownUser, true) => {
                    format!("未登録のID「{attempted_id}」での認証を拒否（{ch}）")
                }
                (RefusalReason::UnknownUser, false) => {
                    format!("Refused unknown ID {attempted_id} ({ch})")
                }
                (RefusalReason::Suspended, true) => {
                    format!("停止中の {attempted_id} の認証を拒否（{ch}）")
                }
                (RefusalReason::Suspended, false) => {
                    format!("Refused suspended user {attempted_id} ({ch})")
                }
                (RefusalReason::CredentialNotUsed, true) => format!(
                    "{attempted_id} の{}での認証を拒否（このサービスにはありません、{ch}）",
                    credential.label(lang)
                ),
                (RefusalReason::CredentialNotUsed, false) => format!(
                    "Refused {attempted_id}'s {} (the service has none; {ch})",
                    credential.label(lang)
                ),
                (RefusalReason::AddressDenied, true) => {
                    format!("IPアクセス制限により {attempted_id} の認証を拒否（{ch}）")
                }
                (RefusalReason::AddressDenied, false) => {
                    format!("Refused {attempted_id} by the IP access rules ({ch})")
                }
                (RefusalReason::AddressRequired, true) => {
                    format!("メールアドレスのない {attempted_id} の認証を拒否（{ch}）")
                }
                (RefusalReason::AddressRequired, false) => {
                    format!("Refused {attempted_id} without an e-mail address ({ch})")
                }
                (RefusalReason::UnknownAddress, true) => {
                    format!("{attempted_id} に登録のないメールアドレスでの認証を拒否（{ch}）")
                }
                (RefusalReason::UnknownAddress, false) => {
                    format!("Refused {attempted_id} with an address it does not have ({ch})")
                }
                (RefusalReason::NoCodePending, true) => {
                    format!("{attempted_id} の送信していないワンタイムパスワードを拒否（{ch}）")
                }
                (RefusalReason::NoCodePending, false) => {
                    format!("Refused a one-time password never sent to {attempted_id} ({ch})")
                }
            }
        }
        EventKind::CredentialVerified {
            login_id,
            credential,
            channel,
            ..
        } => {
            if ja {
                format!(
                    "{login_id} の{}を確認（{}）",
                    credential.label(lang),
                    channel.code()
                )
            } else {
                format!(
                    "Verified the {} of {login_id} ({})",
                    credential.label(lang),
                    channel.code()
                )
            }
        }
        EventKind::CredentialLockReleased {
            login_id,
            credential,
            ..
        } => {
            if ja {
                format!(
                    "{login_id} の{}の一時利用停止が時間経過で解除",
                    credential.label(lang)
                )
            } else {
                format!("{login_id}'s {} lock ran out", credential.label(lang))
            }
        }
        EventKind::UserUnlocked {
            login_id,
            batch,
            kept_failures,
            ..
        } => {
            let line = match (batch, ja) {
                (Some(b), true) => format!("{login_id} の利用停止を解除（一括 {b}）"),
                (Some(b), false) => format!("Unlocked {login_id} (bulk {b})"),
                (None, true) => format!("{login_id} の利用停止を解除"),
                (None, false) => format!("Unlocked {login_id}"),
            };
            match (kept_failures.len(), ja) {
                (0, _) => line,
                (n, true) => format!("{line}（同期：解除後も数える誤り {n} 回）"),
                (n, false) => format!("{line} (sync: {n} later failures still count)"),
            }
        }
        EventKind::UserSuspended { login_id } => {
            if ja {
                format!("{login_id} の利用を停止")
            } else {
                format!("Suspended {login_id}")
            }
        }
        EventKind::UserResumed { login_id } => {
            if ja {
                format!("{login_id} の利用を再開")
            } else {
                format!("Resumed {login_id}")
            }
        }
        EventKind::InitRequestRecorded { request } => {
            if ja {
                format!(
                    "初期化依頼書 {} を受付（契約番号 {}、{}名）",
                    request.request_no,
                    request.contract_no,
                    request.targets.len()
                )
            } else {
                format!(
                    "Recorded initialization request {} (contract {}, {} users)",
                    request.request_no,
                    request.contract_no,
                    request.targets.len()
                )
            }
        }
        EventKind::InitRequestApproved { request_no } => {
            if ja {
                format!("初期化依頼書 {request_no} を承認")
            } else {
                format!("Approved initialization request {request_no}")
            }
        }
        EventKind::InitRequestRejected { request_no, reason } => {
            if ja {
                format!("初期化依頼書 {request_no} を却下：{reason}")
            } else {
                format!("Rejected initialization request {request_no}: {reason}")
            }
        }
        EventKind::InitRequestExecuted { request_no } => {
            if ja {
                format!("初期化依頼書 {request_no} を実行")
            } else {
                format!("Executed initialization request {request_no}")
            }
        }
        EventKind::ConfirmationFailed { actor, action } => {
            if ja {
                format!("{actor} の確認用パスワードの誤り（{action}、実行せず）")
            } else {
                format!("Wrong confirmation password by {actor} ({action}, not done)")
            }
        }
        EventKind::DatabaseBackedUp { file, events } => {
            if ja {
                format!("データベースをバックアップ（{file}、監査ログ{events}件）")
            } else {
                format!("Backed up the database to {file} ({events} audit entries)")
            }
        }
        EventKind::DatabaseRestored {
            file,
            events,
            replaced_head_seq,
            discarded,
            prefix,
            ..
        } => {
            let how = match (prefix, ja) {
                (true, true) => String::new(),
                (false, true) => "、バックアップは置き換えた記録の続きではありません".to_owned(),
                (true, false) => String::new(),
                (false, false) => "; the backup does not continue the replaced log".to_owned(),
            };
            if ja {
                format!("バックアップ {file} からデータベースを復元（監査ログ{events}件、置き換えた記録は{replaced_head_seq}件目まで・{discarded}件を破棄{how}）")
            } else {
                format!("Restored the database from {file} ({events} audit entries; the replaced log ran to entry {replaced_head_seq}, {discarded} dropped{how})")
            }
        }
        EventKind::AddressAdded { login_id, address, .. } => pick(ja, format!("{login_id} にメールアドレス {address} を追加"), format!("Added {address} to {login_id}")),
        EventKind::AddressChangeRequested { login_id, address, new_address } => pick(
            ja,
            format!("{login_id} のメールアドレス {address} → {new_address} の変更依頼（旧アドレスへ確認メール）"),
            format!("Requested changing {login_id}'s {address} to {new_address} (confirmation to the old address)"),
        ),
        EventKind::AddressChangeConfirmed { login_id, address, new_address } => pick(
            ja,
            format!("{login_id} のメールアドレスを {address} から {new_address} に変更"),
            format!("Changed {login_id}'s {address} to {new_address}"),
        ),
        EventKind::AddressDeleted { login_id, address } => pick(ja, format!("{login_id} のメールアドレス {address} を削除（通知メール）"), format!("Deleted {address} of {login_id} (notice sent)")),
        EventKind::AddressFlagsSet { login_id, address, sign, encrypt } => pick(
            ja,
            format!("{login_id} の {address}：電子署名 {}、暗号化 {}", on_off(*sign, ja), on_off(*encrypt, ja)),
            format!("{address} of {login_id}: signing {}, encryption {}", on_off(*sign, ja), on_off(*encrypt, ja)),
        ),
        EventKind::CertificateImported { login_id, address, certificate } => pick(
            ja,
            format!("{login_id} の {address} に証明書を登録（{}）", certificate.subject),
            format!("Registered a certificate for {address} of {login_id} ({})", certificate.subject),
        ),
        EventKind::TrustedRootAdded { subject, .. } => pick(ja, format!("信頼するルート証明書を追加（{subject}）"), format!("Added trusted root {subject}")),
        EventKind::IpRulesSet { contract_no, service, rules } => pick(
            ja,
            format!("契約番号 {contract_no} の{}のIPアクセス制限を設定（{}件）", service.label(lang), rules.rules.len()),
            format!("Set the IP rules of {} for contract {contract_no} ({} rules)", service.label(lang), rules.rules.len()),
        ),
        EventKind::IpRestrictionsReleased { contract_no, reason, .. } => pick(
            ja,
            format!("契約番号 {contract_no} のIPアクセス制限を一時的に強制解除：{reason}"),
            format!("Released the IP restrictions of contract {contract_no} for a while: {reason}"),
        ),
        EventKind::IdleLockOverridden { seconds, setting_seconds } => pick(
            ja,
            format!("起動時の指定で自動ロックを{seconds}秒に短縮（設定は{setting_seconds}秒）"),
            format!("Started with the idle lock shortened to {seconds} s (the setting is {setting_seconds} s)"),
        ),
        EventKind::ClockWentBack { last, observed } => pick(
            ja,
            format!("PCの時計が{}秒戻りました（以降の記録の時刻はその分前になります）", (last - observed) / 1000),
            format!("The PC's clock went back {} s (later entries' times are behind by as much)", (last - observed) / 1000),
        ),
        EventKind::AuditExported { file, rows, head_seq, .. } => pick(
            ja,
            format!("監査ログを書き出し（{file}、{rows}件、{head_seq}件目までのチェックポイント付き）"),
            format!("Exported the audit log to {file} ({rows} entries, checkpoint at entry {head_seq})"),
        ),
        EventKind::SyncEnrolled { server, device_id, branch } => pick(
            ja,
            format!("この端末を同期サーバ {server} に登録（支店 {branch}、端末 {device_id}）"),
            format!("Enrolled this PC with the sync server {server} (branch {branch}, device {device_id})"),
        ),
        EventKind::OperatorDisabled { operator_id } => pick(ja, format!("操作者 {operator_id} を無効化"), format!("Disabled operator {operator_id}")),
        EventKind::OperatorEnabled { operator_id } => pick(ja, format!("操作者 {operator_id} を有効化"), format!("Enabled operator {operator_id}")),
        EventKind::OperatorRoleChanged { operator_id, role } => pick(
            ja,
            format!("操作者 {operator_id} の役割を{}に変更", role.label(lang)),
            format!("Changed operator {operator_id}'s role to {}", role.label(lang)),
        ),
        EventKind::OperatorPasswordsReset { operator_id, .. } => pick(
            ja,
            format!("操作者 {operator_id} に仮パスワードを発行（次回サインイン時に変更）"),
            format!("Issued temporary passwords to operator {operator_id} (to be changed at the next sign-in)"),
        ),
        EventKind::OperatorPasswordChanged { operator_id, confirmation, .. } => pick(
            ja,
            format!("操作者 {operator_id} がご自身のパスワードを変更{}", if *confirmation { "（確認用パスワードも）" } else { "" }),
            format!("Operator {operator_id} changed their own password{}", if *confirmation { " (and the confirmation one)" } else { "" }),
        ),
        EventKind::CountryTableImported { ranges, .. } => pick(ja, format!("国別アドレス表を読み込み（{ranges}件）"), format!("Imported the country table ({ranges} ranges)")),
        EventKind::MfaEnrolled { login_id, address } => pick(
            ja,
            format!("{login_id} の多要素認証を「利用する」に設定（ワンタイムパスワード送信先 {address}）"),
            format!("Turned on 2FA for {login_id} (one-time passwords to {address})"),
        ),
        EventKind::MfaDisabled { login_id, force_change } => {
            let forced = match (force_change, ja) {
                (true, true) => "（ログインパスワードを次回ログイン時に強制変更）",
                (true, false) => " (login password to be changed at next login)",
                _ => "",
            };
            pick(
                ja,
                format!("{login_id} の多要素認証を「利用しない」に設定{forced}"),
                format!("Turned off 2FA for {login_id}{forced}"),
            )
        }
        EventKind::OneTimeIssued { login_id, address, purpose, .. } => pick(
            ja,
            format!("{login_id} の{}を {address} に発行", one_time_label(*purpose, ja)),
            format!("Issued a {} for {login_id} to {address}", one_time_label(*purpose, ja)),
        ),
        EventKind::OneTimeFailed { login_id, purpose, .. } => pick(
            ja,
            format!("{login_id} の{}の誤り", one_time_label(*purpose, ja)),
            format!("Wrong {} for {login_id}", one_time_label(*purpose, ja)),
        ),
        EventKind::OneTimeUsed { login_id, purpose, .. } => pick(
            ja,
            format!("{login_id} の{}を使用", one_time_label(*purpose, ja)),
            format!("Used the {} of {login_id}", one_time_label(*purpose, ja)),
        ),
        EventKind::AddressPasswordSet { login_id, address, .. } => pick(
            ja,
            format!("{login_id} の {address} のパスワードを設定（パスワード設定依頼メールから）"),
            format!("Set the password of {address} of {login_id} (from the password-setting request)"),
        ),
        EventKind::AddressCredentialFailed {
            login_id,
            address,
            channel,
            outcome,
            ..
        } => {
            let ch = channel.code();
            match (outcome, ja) {
                (FailureOutcome::Counted { failures }, true) => format!("{login_id} の {address} のパスワードの誤り（{ch}、{failures}回目）"),
                (FailureOutcome::Counted { failures }, false) => format!("Wrong password for {address} of {login_id} ({ch}, failure {failures})"),
                (FailureOutcome::LockedNow { .. }, true) => format!("{login_id} の {address} を一時利用停止（{ch}）"),
                (FailureOutcome::LockedNow { .. }, false) => format!("{address} of {login_id} temporarily locked ({ch})"),
                (FailureOutcome::LockedPermanently { .. }, true) => format!("{login_id} の {address} を利用停止（{ch}）"),
                (FailureOutcome::LockedPermanently { .. }, false) => format!("{address} of {login_id} locked ({ch})"),
                (_, true) => format!("停止中の {login_id} の {address} の試行を拒否（{ch}）"),
                (_, false) => format!("Refused an attempt on locked {address} of {login_id} ({ch})"),
            }
        }
        EventKind::AddressCredentialVerified { login_id, address, channel, .. } => pick(
            ja,
            format!("{login_id} の {address} のパスワードを確認（{}）", channel.code()),
            format!("Verified the password of {address} of {login_id} ({})", channel.code()),
        ),
        EventKind::MailUndelivered { login_id, address, mail, reason } => pick(
            ja,
            format!(
                "{login_id} 宛の「{}」を {address} に届けられず（{}）",
                mail.label(lang),
                reason.label(lang)
            ),
            format!(
                "The {} mail for {login_id} did not reach {address} ({})",
                mail.label(lang),
                reason.label(lang)
            ),
        ),
        other => other.type_name().to_owned(),
    }
}
