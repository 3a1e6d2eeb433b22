//! What the server decided for each pushed op, and why, in the operator's language with what to
//! do next: the review screen lists every op that did not simply apply.

use kagiya_core::event::PasswordSetReason;
use kagiya_core::Lang;
use serde::{Deserialize, Serialize};

/// Every pushed op ends with exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// An intent that ranks higher won.
    Superseded,
    /// Not done, with a reason.
    Rejected,
    /// Kept for review, bound to nothing.
    Quarantined,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Superseded => "superseded",
            Outcome::Rejected => "rejected",
            Outcome::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Applied,
            Outcome::Superseded,
            Outcome::Rejected,
            Outcome::Quarantined,
        ]
        .into_iter()
        .find(|o| o.code() == s)
    }
}

/// Why: for anything but a plain `applied`, and for an `applied` that did more or less than the
/// branch did (an unlock whose later failures still count, merged IP rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// The unlock was applied; `failures` wrong passwords recorded after what the branch had
    /// seen still count.
    FailuresKept {
        failures: u32,
    },
    /// As above, and they locked the user again.
    LockedAgain {
        failures: u32,
    },
    /// The lock became permanent after the branch acted.
    PermanentSinceSeen,
    /// The user was suspended after the branch acted.
    SuspendedSinceSeen,
    /// The customer's IP rules changed at the server too: the stricter merge of both applies.
    RulesMerged,
    /// A password set elsewhere ranks higher (`by`: why it was set).
    NewerPassword {
        by: PasswordSetReason,
    },
    /// Wrong passwords were recorded after what the branch had seen, so its check cannot clear
    /// them.
    FailuresSinceSeen,
    /// The server observes the end of a lock itself.
    ServerObservesRelease,
    /// The address was deleted (a tombstone): what the op did is kept, bound to nothing.
    AddressDeleted,
    UnknownCustomer,
    UnknownUser,
    LoginIdTaken,
    ContractTaken,
    AddressTaken,
    RequestTaken,
    /// Settings of the whole server (trusted roots, the country table) are not taken from a
    /// branch.
    NotShared,
    /// The op cannot be applied to the central state (`detail`: the rule's code).
    NotApplicable {
        detail: String,
    },
}

impl Reason {
    /// The code stored and sent with the outcome.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::FailuresKept { .. } => "failures_kept",
            Reason::LockedAgain { .. } => "locked_again",
            Reason::PermanentSinceSeen => "permanent_since_seen",
            Reason::SuspendedSinceSeen => "suspended_since_seen",
            Reason::RulesMerged => "rules_merged",
            Reason::NewerPassword { .. } => "newer_password",
            Reason::FailuresSinceSeen => "failures_since_seen",
            Reason::ServerObservesRelease => "server_observes_release",
            Reason::AddressDeleted => "address_deleted",
            Reason::UnknownCustomer => "unknown_customer",
            Reason::UnknownUser => "unknown_user",
            Reason::LoginIdTaken => "login_id_taken",
            Reason::ContractTaken => "contract_taken",
            Reason::AddressTaken => "address_taken",
            Reason::RequestTaken => "request_taken",
            Reason::NotShared => "not_shared",
            Reason::NotApplicable { .. } => "not_applicable",
        }
    }

    /// What happened, in the operator's language.
    pub fn message(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            Reason::FailuresKept { failures } if ja => {
                format!("解除しました。解除前の未同期の誤り {failures} 回は引き続き数えます。")
            }
            Reason::FailuresKept { failures } => format!(
                "Unlocked. {failures} wrong passwords recorded online meanwhile still count."
            ),
            Reason::LockedAgain { failures } if ja => format!(
                "解除しましたが、オンラインで記録された誤り {failures} 回により再び利用停止になりました。"
            ),
            Reason::LockedAgain { failures } => format!(
                "Unlocked, but {failures} wrong passwords recorded online meanwhile locked the user again."
            ),
            Reason::PermanentSinceSeen if ja => {
                "操作後に利用停止（永久）になったため、解除しませんでした。".into()
            }
            Reason::PermanentSinceSeen => {
                "Not unlocked: the lock became permanent after you acted.".into()
            }
            Reason::SuspendedSinceSeen if ja => {
                "操作後に利用停止にされたため、再開しませんでした。".into()
            }
            Reason::SuspendedSinceSeen => {
                "Not resumed: the user was suspended after you acted.".into()
            }
            Reason::RulesMerged if ja => {
                "IPアクセス制限がサーバでも変更されていたため、両方の制限を満たす設定にしました。"
                    .into()
            }
            Reason::RulesMerged => {
                "The IP rules changed at the server too: the stricter merge of both applies."
                    .into()
            }
            Reason::NewerPassword { by } if ja => format!(
                "別の操作（{}）で設定されたパスワードが優先されました。",
                reason_label(*by, lang)
            ),
            Reason::NewerPassword { by } => format!(
                "A password set elsewhere ({}) takes precedence.",
                reason_label(*by, lang)
            ),
            Reason::FailuresSinceSeen if ja => {
                "操作後にオンラインで誤りが記録されたため、反映しませんでした。".into()
            }
            Reason::FailuresSinceSeen => {
                "Not applied: wrong passwords were recorded online after you acted.".into()
            }
            Reason::ServerObservesRelease if ja => {
                "一時利用停止の終了はサーバが判断します。".into()
            }
            Reason::ServerObservesRelease => "The server observes the end of a lock itself.".into(),
            Reason::AddressDeleted if ja => {
                "メールアドレスが削除されていたため、保留しました。".into()
            }
            Reason::AddressDeleted => "Held for review: the address had been deleted.".into(),
            Reason::UnknownCustomer if ja => "お客さまがサーバに登録されていません。".into(),
            Reason::UnknownCustomer => "The customer is not known to the server.".into(),
            Reason::UnknownUser if ja => "利用者がサーバに登録されていません。".into(),
            Reason::UnknownUser => "The user is not known to the server.".into(),
            Reason::LoginIdTaken if ja => "ログインIDはすでに使われています。".into(),
            Reason::LoginIdTaken => "The login ID is already taken.".into(),
            Reason::ContractTaken if ja => "契約番号はすでに使われています。".into(),
            Reason::ContractTaken => "The contract number is already taken.".into(),
            Reason::AddressTaken if ja => "メールアドレスはすでに登録されています。".into(),
            Reason::AddressTaken => "The address is already registered.".into(),
            Reason::RequestTaken if ja => "依頼書番号はすでに使われています。".into(),
            Reason::RequestTaken => "The request number is already taken.".into(),
            Reason::NotShared if ja => "サーバ全体の設定は支店から変更できません。".into(),
            Reason::NotShared => "Server-wide settings are not taken from a branch.".into(),
            Reason::NotApplicable { detail } if ja => {
                format!("サーバの現在の状態に適用できません（{detail}）。")
            }
            Reason::NotApplicable { detail } => {
                format!("Cannot be applied to the server's current state ({detail}).")
            }
        }
    }

    /// What the operator should do next.
    pub fn next_step(&self, lang: Lang) -> &'static str {
        let ja = lang == Lang::Ja;
        match self {
            Reason::FailuresKept { .. } | Reason::RulesMerged | Reason::ServerObservesRelease => {
                if ja {
                    "対応は不要です。現在の状態を確認してください。"
                } else {
                    "Nothing to do; check the current state."
                }
            }
            Reason::LockedAgain { .. }
            | Reason::PermanentSinceSeen
            | Reason::SuspendedSinceSeen
            | Reason::FailuresSinceSeen => {
                if ja {
                    "お客さまに状況を確認し、必要であれば改めて解除してください。"
                } else {
                    "Check with the customer, then unlock again if it is still right to."
                }
            }
            Reason::NewerPassword { .. } => {
                if ja {
                    "新しいパスワードが必要か、お客さまに確認してください。"
                } else {
                    "Ask the customer whether a new password is still needed."
                }
            }
            Reason::AddressDeleted => {
                if ja {
                    "アドレスを登録し直してから、証明書を改めて登録してください。"
                } else {
                    "Add the address again, then register the certificate again."
                }
            }
            Reason::LoginIdTaken
            | Reason::ContractTaken
            | Reason::AddressTaken
            | Reason::RequestTaken => {
                if ja {
                    "別の値で登録し直してください。"
                } else {
                    "Register it again under another value."
                }
            }
            Reason::UnknownCustomer | Reason::UnknownUser => {
                if ja {
                    "先に登録した操作の結果を確認してください。"
                } else {
                    "Check the outcome of the operation that registered it first."
                }
            }
            Reason::NotShared | Reason::NotApplicable { .. } => {
                if ja {
                    "サーバの管理者に連絡してください。"
                } else {
                    "Contact the server's administrators."
                }
            }
        }
    }
}

fn reason_label(r: PasswordSetReason, lang: Lang) -> &'static str {
    let ja = lang == Lang::Ja;
    match r {
        PasswordSetReason::Initial if ja => "初回設定",
        PasswordSetReason::Initial => "initial",
        PasswordSetReason::AdminReset if ja => "管理者による再設定",
        PasswordSetReason::AdminReset => "administrator's reset",
        PasswordSetReason::OwnChange | PasswordSetReason::ExpiredChange if ja => "ご本人による変更",
        PasswordSetReason::OwnChange | PasswordSetReason::ExpiredChange => "the user's own change",
        PasswordSetReason::ForcedChange if ja => "ご本人による変更（変更必須）",
        PasswordSetReason::ForcedChange => "the user's forced change",
        PasswordSetReason::MailReset if ja => "ご本人によるメールでのリセット",
        PasswordSetReason::MailReset => "the user's reset by mail",
        PasswordSetReason::InitRequest if ja => "初期化依頼書",
        PasswordSetReason::InitRequest => "initialization request",
    }
}

/// The server's decision on one op, as stored and sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The sequence of the entry it was recorded as in the customer's chain (applied ops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}
