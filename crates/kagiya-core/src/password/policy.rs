//! The rules a new password must meet, evaluated as a checklist so the UI can show each rule live
//! while the password is typed, and the same checklist decides whether a password is accepted.
//!
//! This slice carries the operators' policy; the tenant presets of the seeds build on the same type.

use serde::Serialize;

use super::blocklist;
use crate::i18n::Lang;

/// A password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters (Unicode scalar values).
    pub min_len: usize,
    /// Maximum length in characters.
    pub max_len: usize,
    /// How many of the four classes (upper case, lower case, digit, symbol) must appear.
    pub min_classes: u8,
    /// Refuse passwords that contain the login ID (case-insensitive) when it is 3+ characters.
    pub forbid_login_id: bool,
    /// Refuse passwords on the shipped list of common passwords (whole-password match).
    pub use_blocklist: bool,
}

impl PasswordPolicy {
    /// The policy for branch operators: 12–64 characters, three of four character classes,
    /// not the operator ID, not a common password. Twelve is the bank-typical length for a
    /// console that is also protected by the branch PC's own sign-in; 64 follows NIST's "SHOULD
    /// allow at least 64".
    pub const OPERATOR: PasswordPolicy = PasswordPolicy {
        min_len: 12,
        max_len: 64,
        min_classes: 3,
        forbid_login_id: true,
        use_blocklist: true,
    };
}

/// What a password is checked against besides itself.
#[derive(Debug, Clone, Default)]
pub struct PolicyContext<'a> {
    /// The login (operator) ID the password belongs to.
    pub login_id: &'a str,
    /// For a confirmation password: the login password it must differ from.
    pub must_differ_from: Option<&'a str>,
}

/// One rule of the checklist and whether the password meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleStatus {
    /// A stable code (`password.length`, `password.classes`, …).
    pub code: &'static str,
    /// The rule in the UI language.
    pub label: String,
    pub ok: bool,
}

fn classes(pw: &str) -> u8 {
    let mut upper = false;
    let mut lower = false;
    let mut digit = false;
    let mut symbol = false;
    for c in pw.chars() {
        if c.is_uppercase() {
            upper = true;
        } else if c.is_lowercase() {
            lower = true;
        } else if c.is_numeric() {
            digit = true;
        } else if !c.is_control() && !c.is_whitespace() {
            symbol = true;
        }
    }
    [upper, lower, digit, symbol].iter().filter(|b| **b).count() as u8
}

impl PasswordPolicy {
    /// Every rule with its status, in a fixed order.
    pub fn checklist(
        &self,
        password: &str,
        ctx: &PolicyContext<'_>,
        lang: Lang,
    ) -> Vec<RuleStatus> {
        let len = password.chars().count();
        let mut out = Vec::with_capacity(6);
        out.push(RuleStatus {
            code: "password.length",
            label: match lang {
                Lang::Ja => format!("{}〜{}文字", self.min_len, self.max_len),
                Lang::En => format!("{} to {} characters", self.min_len, self.max_len),
            },
            ok: (self.min_len..=self.max_len).contains(&len),
        });
        if self.min_classes > 0 {
            out.push(RuleStatus {
                code: "password.classes",
                label: match lang {
                    Lang::Ja => format!(
                        "英大文字・英小文字・数字・記号のうち{}種類以上",
                        self.min_classes
                    ),
                    Lang::En => format!(
                        "At least {} of: upper case, lower case, digits, symbols",
                        self.min_classes
                    ),
                },
                ok: classes(password) >= self.min_classes,
            });
        }
        out.push(RuleStatus {
            code: "password.printable",
            label: lang
                .pick(
                    "制御文字・前後の空白を含まない",
                    "No control characters or leading/trailing spaces",
                )
                .to_owned(),
            ok: !password.chars().any(char::is_control) && password.trim() == password,
        });
        if self.forbid_login_id {
            let id = ctx.login_id.trim().to_lowercase();
            out.push(RuleStatus {
                code: "password.no_login_id",
                label: lang
                    .pick("IDを含まない", "Does not contain the ID")
                    .to_owned(),
                ok: id.chars().count() < 3 || !password.to_lowercase().contains(&id),
            });
        }
        if self.use_blocklist {
            out.push(RuleStatus {
                code: "password.not_common",
                label: lang
                    .pick(
                        "よく使われるパスワードではない",
                        "Not a commonly used password",
                    )
                    .to_owned(),
                ok: !password.is_empty() && !blocklist::is_common(password),
            });
        }
        if let Some(other) = ctx.must_differ_from {
            out.push(RuleStatus {
                code: "password.differs_from_login",
                label: lang
                    .pick(
                        "ログインパスワードと異なる",
                        "Differs from the login password",
                    )
                    .to_owned(),
                ok: password != other,
            });
        }
        out
    }

    /// The codes of the rules the password breaks; empty means acceptable.
    pub fn violations(&self, password: &str, ctx: &PolicyContext<'_>) -> Vec<&'static str> {
        self.checklist(password, ctx, Lang::En)
            .into_iter()
            .filter(|r| !r.ok)
            .map(|r| r.code)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(id: &str) -> PolicyContext<'_> {
        PolicyContext {
            login_id: id,
            must_differ_from: None,
        }
    }

    const P: PasswordPolicy = PasswordPolicy::OPERATOR;

    #[test]
    fn a_good_password_passes_every_rule() {
        assert!(P.violations("Kagiya-2026-branch", &ctx("sv001")).is_empty());
        assert!(P
            .violations("鍵屋のパスワード2026Ab", &ctx("sv001"))
            .is_empty());
    }

    #[test]
    fn each_rule_is_reported_by_its_code() {
        assert_eq!(P.violations("Short1!", &ctx("x")), vec!["password.length"]);
        assert_eq!(
            P.violations(&"Aa1!".repeat(17), &ctx("x")),
            vec!["password.length"]
        );
        assert_eq!(
            P.violations("alllowercaseletters", &ctx("x")),
            vec!["password.classes"]
        );
        assert_eq!(
            P.violations("Has\ttab-Chars-1", &ctx("x")),
            vec!["password.printable"]
        );
        assert_eq!(
            P.violations(" Leading-space-1", &ctx("x")),
            vec!["password.printable"]
        );
        assert_eq!(
            P.violations("xxSV001-Branch-2026", &ctx("sv001")),
            vec!["password.no_login_id"]
        );
        assert_eq!(
            P.violations("Password123!", &ctx("x")),
            vec!["password.not_common"]
        );
    }

    #[test]
    fn short_ids_are_not_searched_for() {
        assert!(P.violations("ab-Branch-2026", &ctx("ab")).is_empty());
    }

    #[test]
    fn confirmation_password_must_differ_from_login_password() {
        let c = PolicyContext {
            login_id: "sv001",
            must_differ_from: Some("Kagiya-2026-branch"),
        };
        assert_eq!(
            P.violations("Kagiya-2026-branch", &c),
            vec!["password.differs_from_login"]
        );
        assert!(P.violations("Another-2026-phrase", &c).is_empty());
    }

    #[test]
    fn labels_come_in_both_languages() {
        let ja = P.checklist("", &ctx("sv001"), Lang::Ja);
        let en = P.checklist("", &ctx("sv001"), Lang::En);
        assert_eq!(ja.len(), en.len());
        assert!(ja[0].label.contains("文字"));
        assert!(en[0].label.contains("characters"));
        assert!(ja
            .iter()
            .zip(&en)
            .all(|(a, b)| a.code == b.code && a.ok == b.ok));
    }

    proptest! {
        // Length is counted in characters, not bytes, and is the only rule length decides.
        #[test]
        fn length_rule_matches_char_count(s in "\\PC{0,80}") {
            let ok = P.checklist(&s, &ctx("zz"), Lang::En)[0].ok;
            let n = s.chars().count();
            prop_assert_eq!(ok, (12..=64).contains(&n));
        }

        // Appending characters never lowers the number of character classes.
        #[test]
        fn adding_characters_never_loses_a_class(a in "\\PC{0,20}", b in "\\PC{0,20}") {
            let joined = a.clone() + &b;
            prop_assert!(classes(&joined) >= classes(&a));
        }

        // The checklist never panics and always reports the same rule set for a policy.
        #[test]
        fn checklist_shape_is_stable(s in "\\PC{0,100}", id in "[a-z0-9]{0,10}") {
            let codes: Vec<_> = P.checklist(&s, &ctx(&id), Lang::Ja).iter().map(|r| r.code).collect();
            prop_assert_eq!(codes, vec!["password.length", "password.classes", "password.printable",
                "password.no_login_id", "password.not_common"]);
        }
    }
}
