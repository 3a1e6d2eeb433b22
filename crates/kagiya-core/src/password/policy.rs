//! The rules a new password must meet, evaluated as a checklist so the UI can show each rule live
//! while the password is typed, and the same checklist decides whether a password is accepted.
//!
//! One type carries every policy: the operators' own and the tenant presets of the seeds
//! (see `presets.rs` and docs/policies.md). Rules that need the stored hashes (not the current,
//! initial or last N passwords) are checked by [`super::reuse`], because they cost an argon2
//! verification each.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::blocklist;
use crate::i18n::Lang;

/// A password policy. Counts are in characters (Unicode scalar values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// Minimum length (when the account does not use MFA).
    pub min_len: u16,
    /// Maximum length.
    pub max_len: u16,
    /// Minimum length when the account uses MFA (NIST: 8); `None`: same as `min_len`.
    #[serde(default)]
    pub min_len_with_mfa: Option<u16>,
    /// The character-count rules below apply only without MFA (seed 003).
    #[serde(default)]
    pub composition_without_mfa_only: bool,
    /// At least this many upper-case letters.
    #[serde(default)]
    pub min_upper: u8,
    /// At least this many lower-case letters.
    #[serde(default)]
    pub min_lower: u8,
    /// At least this many letters of either case.
    #[serde(default)]
    pub min_letters: u8,
    /// At least this many digits.
    #[serde(default)]
    pub min_digits: u8,
    /// At least this many symbols.
    #[serde(default)]
    pub min_symbols: u8,
    /// At least this many of the four classes (upper, lower, digit, symbol).
    #[serde(default)]
    pub min_classes: u8,
    /// Only half-width (printable ASCII) characters.
    #[serde(default)]
    pub ascii_only: bool,
    /// The only symbols allowed; `None`: any printable symbol.
    #[serde(default)]
    pub symbols: Option<Cow<'static, str>>,
    /// Refuse passwords containing the login ID (case-insensitive, IDs of 3+ characters).
    #[serde(default)]
    pub forbid_login_id: bool,
    /// Refuse passwords containing the local part of the e-mail address (3+ characters).
    #[serde(default)]
    pub forbid_email_local: bool,
    /// Refuse passwords containing a context word — the user's or the customer's name (each part
    /// of 4+ letters), the contract number, the service's name — ignoring case and separators.
    #[serde(default)]
    pub forbid_context: bool,
    /// Refuse the current password.
    #[serde(default)]
    pub differ_from_current: bool,
    /// Refuse the password issued when the account was created.
    #[serde(default)]
    pub differ_from_initial: bool,
    /// Refuse the last N passwords (besides the current one).
    #[serde(default)]
    pub history: u8,
    /// The login and confirmation passwords must differ (seed 004).
    #[serde(default)]
    pub differ_from_other_credential: bool,
    /// Refuse passwords on the shipped list of common passwords (whole-password match).
    #[serde(default)]
    pub blocklist: bool,
    /// A zxcvbn score (0–4) the password must reach; `None`: not checked.
    #[serde(default)]
    pub min_strength: Option<u8>,
    /// Days a password stays valid; `None`: no expiry.
    #[serde(default)]
    pub expiry_days: Option<u16>,
    /// Days before expiry from which the user is warned.
    #[serde(default)]
    pub warn_days: u16,
}

/// What a password is checked against besides itself.
#[derive(Debug, Clone, Default)]
pub struct PolicyContext<'a> {
    /// The login (or operator) ID the password belongs to.
    pub login_id: &'a str,
    /// The user's e-mail address, if any.
    pub email: Option<&'a str>,
    /// The other credential's new value when both are set together (login vs confirmation).
    pub must_differ_from: Option<&'a str>,
    /// Whether the account uses MFA (relaxes MFA-conditional minimums).
    pub mfa: bool,
    /// Other context-specific words NIST asks to check against — the user's and the customer's
    /// names, the name of the service. The strength rule counts a password built from them (and
    /// from the login ID and address) as guessable.
    pub context: &'a [&'a str],
}

/// One rule of the checklist and whether the password meets it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleStatus {
    /// A stable code (`password.length`, `password.classes`, …).
    pub code: &'static str,
    /// The rule in the UI language.
    pub label: String,
    pub ok: bool,
}

/// Counts of each character class in a password.
#[derive(Debug, Default, Clone, Copy)]
struct Census {
    len: usize,
    upper: usize,
    lower: usize,
    digit: usize,
    symbol: usize,
    non_ascii: bool,
    control_or_edge_space: bool,
}

fn census(pw: &str, symbols: Option<&str>) -> (Census, bool) {
    let mut c = Census::default();
    let mut foreign_symbol = false;
    for ch in pw.chars() {
        c.len += 1;
        if !ch.is_ascii() {
            c.non_ascii = true;
        }
        if ch.is_control() {
            c.control_or_edge_space = true;
        }
        if ch.is_uppercase() {
            c.upper += 1;
        } else if ch.is_lowercase() {
            c.lower += 1;
        } else if ch.is_numeric() {
            c.digit += 1;
        } else if !ch.is_control() && !ch.is_whitespace() {
            c.symbol += 1;
            if symbols.is_some_and(|set| !set.contains(ch)) {
                foreign_symbol = true;
            }
        } else if ch == ' ' && symbols.is_some() {
            foreign_symbol = true;
        }
    }
    if pw.trim() != pw {
        c.control_or_edge_space = true;
    }
    (c, foreign_symbol)
}

fn classes_of(c: &Census) -> u8 {
    [c.upper, c.lower, c.digit, c.symbol]
        .iter()
        .filter(|n| **n > 0)
        .count() as u8
}

/// True when `needle` (3+ characters, compared case-insensitively) occurs in `pw`.
fn contains_folded(pw: &str, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    needle.chars().count() >= 3 && pw.to_lowercase().contains(&needle)
}

/// Letters and digits only, lower-cased: 「港 一郎」 and "Minato-Trading" compare as written
/// together.
fn fold_words(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the password contains one of the context words or the service's name (each folded;
/// words shorter than 4 letters and digits — 3 for CJK — are too common to refuse).
fn contains_context_word(password: &str, context: &[&str]) -> bool {
    let pw = fold_words(password);
    context
        .iter()
        .copied()
        .chain(SERVICE_WORDS)
        .map(fold_words)
        .filter(|w| {
            let n = w.chars().count();
            n >= 4 || (n >= 2 && w.chars().all(|c| !c.is_ascii()))
        })
        .any(|w| pw.contains(&w))
}

/// One rule, before it is put into words.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Length { min: u16, max: u16 },
    Allowed,
    Upper(u8),
    Lower(u8),
    Letters(u8),
    Digits(u8),
    Symbols(u8),
    Classes(u8),
    Printable,
    NoLoginId,
    NoEmailLocal,
    NoContext,
    NotCommon,
    Strength(u8),
    DiffersFromLogin,
}

impl Rule {
    fn code(self) -> &'static str {
        match self {
            Rule::Length { .. } => "password.length",
            Rule::Allowed => "password.allowed_chars",
            Rule::Upper(_) => "password.upper",
            Rule::Lower(_) => "password.lower",
            Rule::Letters(_) => "password.letters",
            Rule::Digits(_) => "password.digits",
            Rule::Symbols(_) => "password.symbols",
            Rule::Classes(_) => "password.classes",
            Rule::Printable => "password.printable",
            Rule::NoLoginId => "password.no_login_id",
            Rule::NoEmailLocal => "password.no_email_local",
            Rule::NoContext => "password.no_context",
            Rule::NotCommon => "password.not_common",
            Rule::Strength(_) => "password.strength",
            Rule::DiffersFromLogin => "password.differs_from_login",
        }
    }

    fn label(self, p: &PasswordPolicy, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            Rule::Length { min, max } => {
                if ja {
                    format!("{min}〜{max}文字")
                } else {
                    format!("{min} to {max} characters")
                }
            }
            Rule::Allowed => match (&p.symbols, p.ascii_only, ja) {
                (Some(s), _, true) => format!("半角英数字と記号「{}」のみ", spaced(s)),
                (Some(s), _, false) => format!("Only half-width letters, digits and {}", spaced(s)),
                (None, _, true) => "半角文字のみ".to_owned(),
                (None, _, false) => "Half-width (ASCII) characters only".to_owned(),
            },
            Rule::Upper(n) => count_label(ja, n, "英大文字", "upper-case letter"),
            Rule::Lower(n) => count_label(ja, n, "英小文字", "lower-case letter"),
            Rule::Letters(n) => count_label(ja, n, "英字", "letter"),
            Rule::Digits(n) => count_label(ja, n, "数字", "digit"),
            Rule::Symbols(n) => count_label(ja, n, "記号", "symbol"),
            Rule::Classes(n) => {
                if ja {
                    format!("英大文字・英小文字・数字・記号のうち{n}種類以上")
                } else {
                    format!("At least {n} of: upper case, lower case, digits, symbols")
                }
            }
            Rule::Printable => lang
                .pick(
                    "制御文字・前後の空白を含まない",
                    "No control characters or leading/trailing spaces",
                )
                .to_owned(),
            Rule::NoLoginId => lang
                .pick("IDを含まない", "Does not contain the ID")
                .to_owned(),
            Rule::NoEmailLocal => lang
                .pick(
                    "メールアドレスの@より前を含まない",
                    "Does not contain the e-mail address's name part",
                )
                .to_owned(),
            Rule::NoContext => lang
                .pick(
                    "氏名・お客様名・契約番号・サービス名を含まない",
                    "Does not contain your name, the customer's name or number, or the service's name",
                )
                .to_owned(),
            Rule::NotCommon => lang
                .pick(
                    "よく使われるパスワードではない",
                    "Not a commonly used password",
                )
                .to_owned(),
            Rule::Strength(n) => {
                if ja {
                    format!("推測されにくさ {n}/4 以上")
                } else {
                    format!("Strength score {n}/4 or more")
                }
            }
            Rule::DiffersFromLogin => lang
                .pick(
                    "ログインパスワードと異なる",
                    "Differs from the login password",
                )
                .to_owned(),
        }
    }
}

fn spaced(s: &str) -> String {
    s.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

fn count_label(ja: bool, n: u8, ja_name: &str, en_name: &str) -> String {
    if ja {
        format!("{ja_name}を{n}文字以上")
    } else if n == 1 {
        format!("At least one {en_name}")
    } else {
        format!("At least {n} {en_name}s")
    }
}

impl PasswordPolicy {
    /// The rules that apply, with whether `password` meets each, in a fixed order.
    fn evaluate(&self, password: &str, ctx: &PolicyContext<'_>, mut visit: impl FnMut(Rule, bool)) {
        let (c, foreign_symbol) = census(password, self.symbols.as_deref());
        let min = match (ctx.mfa, self.min_len_with_mfa) {
            (true, Some(m)) => m,
            _ => self.min_len,
        };
        visit(
            Rule::Length {
                min,
                max: self.max_len,
            },
            (min as usize..=self.max_len as usize).contains(&c.len),
        );
        if self.ascii_only || self.symbols.is_some() {
            visit(
                Rule::Allowed,
                !(foreign_symbol || (self.ascii_only && c.non_ascii)),
            );
        }
        let composition = !(ctx.mfa && self.composition_without_mfa_only);
        if composition {
            for (rule, n, have) in [
                (Rule::Upper(self.min_upper), self.min_upper, c.upper),
                (Rule::Lower(self.min_lower), self.min_lower, c.lower),
                (
                    Rule::Letters(self.min_letters),
                    self.min_letters,
                    c.upper + c.lower,
                ),
                (Rule::Digits(self.min_digits), self.min_digits, c.digit),
                (Rule::Symbols(self.min_symbols), self.min_symbols, c.symbol),
            ] {
                if n > 0 {
                    visit(rule, have >= n as usize);
                }
            }
            if self.min_classes > 0 {
                visit(
                    Rule::Classes(self.min_classes),
                    classes_of(&c) >= self.min_classes,
                );
            }
        }
        visit(Rule::Printable, !c.control_or_edge_space);
        if self.forbid_login_id {
            visit(Rule::NoLoginId, !contains_folded(password, ctx.login_id));
        }
        if self.forbid_email_local {
            let local = ctx
                .email
                .and_then(|e| e.rsplit_once('@'))
                .map_or("", |(l, _)| l);
            visit(Rule::NoEmailLocal, !contains_folded(password, local));
        }
        if self.forbid_context {
            visit(
                Rule::NoContext,
                !contains_context_word(password, ctx.context),
            );
        }
        if self.blocklist {
            visit(
                Rule::NotCommon,
                !password.is_empty() && !blocklist::is_common(password),
            );
        }
        if let Some(min) = self.min_strength {
            visit(Rule::Strength(min), strength(password, ctx) >= min);
        }
        if let Some(other) = ctx.must_differ_from {
            visit(Rule::DiffersFromLogin, password != other);
        }
    }

    /// Every rule with its status and its wording in `lang`, in a fixed order.
    pub fn checklist(
        &self,
        password: &str,
        ctx: &PolicyContext<'_>,
        lang: Lang,
    ) -> Vec<RuleStatus> {
        let mut out = Vec::with_capacity(10);
        self.evaluate(password, ctx, |rule, ok| {
            out.push(RuleStatus {
                code: rule.code(),
                label: rule.label(self, lang),
                ok,
            })
        });
        out
    }

    /// The codes of the rules the password breaks; empty means acceptable.
    pub fn violations(&self, password: &str, ctx: &PolicyContext<'_>) -> Vec<&'static str> {
        let mut out = Vec::new();
        self.evaluate(password, ctx, |rule, ok| {
            if !ok {
                out.push(rule.code())
            }
        });
        out
    }

    /// Checks that the numbers make sense; returns the name of the first bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.min_len == 0 || self.min_len > self.max_len || self.max_len > 256 {
            return Err("length");
        }
        if self
            .min_len_with_mfa
            .is_some_and(|m| m == 0 || m > self.max_len)
        {
            return Err("min_len_with_mfa");
        }
        let required = self.min_upper as u16
            + self.min_lower as u16
            + self.min_digits as u16
            + self.min_symbols as u16;
        if required > self.max_len || self.min_letters as u16 > self.max_len {
            return Err("composition");
        }
        // What a generated temporary password must hold has to fit, too.
        let (u, l, d, s) = super::generate::floor(self);
        if u + l + d + s > usize::from(self.max_len) {
            return Err("composition");
        }
        if self.min_classes > 4 || self.min_strength.is_some_and(|s| s > 4) {
            return Err("classes");
        }
        if let Some(s) = &self.symbols {
            if s.is_empty() || s.chars().any(|c| !c.is_ascii_punctuation() && c != ' ') {
                return Err("symbols");
            }
        }
        if self.history > 24 {
            return Err("history");
        }
        if self.expiry_days.is_some_and(|d| d == 0 || d > 3650) || self.warn_days > 365 {
            return Err("expiry");
        }
        Ok(())
    }
}

/// The name of the service, a context word for every password (NIST SP 800-63B-4: "the name
/// of the service").
pub const SERVICE_WORDS: [&str; 2] = ["kagiya", "鍵屋"];

/// The zxcvbn score (0–4) of a password: its pattern matching (dictionaries, repetitions,
/// sequences, keyboard walks, dates, l33t) with the login ID, the address, its local part and the
/// context words as user inputs.
fn strength(password: &str, ctx: &PolicyContext<'_>) -> u8 {
    let mut inputs: Vec<&str> = vec![ctx.login_id];
    if let Some(e) = ctx.email {
        inputs.push(e);
        if let Some((local, _)) = e.rsplit_once('@') {
            inputs.push(local);
        }
    }
    inputs.extend(ctx.context.iter().copied().filter(|w| !w.trim().is_empty()));
    inputs.extend(SERVICE_WORDS);
    zxcvbn::zxcvbn(password, &inputs).score() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(id: &str) -> PolicyContext<'_> {
        PolicyContext {
            login_id: id,
            ..Default::default()
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
            ..Default::default()
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
            prop_assert!(classes_of(&census(&joined, None).0) >= classes_of(&census(&a, None).0));
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
