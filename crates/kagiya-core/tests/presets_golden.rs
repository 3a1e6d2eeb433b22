//! Golden tables: for each preset, passwords taken from what its seed manual allows and forbids,
//! with exactly the rule codes the check must report. A change in a preset shows up here.

use kagiya_core::password::{PasswordPolicy, PolicyContext, Preset};

struct Row {
    password: &'static str,
    mfa: bool,
    expect: &'static [&'static str],
}

const fn ok(password: &'static str) -> Row {
    Row {
        password,
        mfa: false,
        expect: &[],
    }
}

const fn bad(password: &'static str, expect: &'static [&'static str]) -> Row {
    Row {
        password,
        mfa: false,
        expect,
    }
}

fn check(preset: Preset, rows: &[Row]) {
    let policy: PasswordPolicy = preset.password();
    for r in rows {
        let ctx = PolicyContext {
            login_id: "hanakodt",
            email: Some("yamada.hanako@example.co.jp"),
            must_differ_from: None,
            mfa: r.mfa,
            context: &[],
        };
        assert_eq!(
            policy.violations(r.password, &ctx),
            r.expect,
            "{preset:?} {:?} (mfa {})",
            r.password,
            r.mfa
        );
    }
}

/// Seed 000: 7–16 characters; at least one letter and one digit; symbols only ! @ # $ %;
/// upper and lower case are different characters.
#[test]
fn interfax_000() {
    check(
        Preset::Interfax,
        &[
            ok("abc1234"),
            ok("ABCDEFG1"),
            ok("Fax!@#$%2026"),
            ok("a234567890123456"),
            bad("abc123", &["password.length"]),
            bad("a2345678901234567", &["password.length"]),
            bad("abcdefgh", &["password.digits"]),
            bad("12345678", &["password.letters"]),
            bad("abc-1234", &["password.allowed_chars"]),
            bad("abc 1234", &["password.allowed_chars"]),
            bad("ａｂｃ1234", &["password.allowed_chars"]),
            bad("パスワード1a", &["password.allowed_chars"]),
        ],
    );
}

/// Seed 002: 8–12 half-width letters, digits and . - _; at least one upper, one lower and one
/// digit; must not contain the login ID.
#[test]
fn web_member_002() {
    check(
        Preset::WebMember,
        &[
            ok("Abcdefg1"),
            ok("Ab1.-_xyzQ"),
            ok("Abcdefghij12"),
            bad("Abcdef1", &["password.length"]),
            bad("Abcdefghij123", &["password.length"]),
            bad("abcdefg1", &["password.upper"]),
            bad("ABCDEFG1", &["password.lower"]),
            bad("Abcdefgh", &["password.digits"]),
            bad("Abcdef1!", &["password.allowed_chars"]),
            bad("Xhanakodt1", &["password.no_login_id"]),
            bad("HANAKODTx1", &["password.no_login_id"]),
        ],
    );
}

/// Seed 003: without MFA 12+ characters with upper, lower, digits and symbols; with MFA the
/// composition rules are off and the minimum is 8.
#[test]
fn biz_mail_003() {
    check(
        Preset::BizMail,
        &[
            ok("Biz-Mail-2026"),
            bad("Biz-Mail-26", &["password.length"]),
            bad("bizmail-2026x", &["password.upper"]),
            bad("BIZMAIL-2026X", &["password.lower"]),
            bad("Biz-Mail-Web!", &["password.digits"]),
            bad("BizMailWeb2026", &["password.symbols"]),
            Row {
                password: "bizmail1",
                mfa: true,
                expect: &[],
            },
            Row {
                password: "bizmai1",
                mfa: true,
                expect: &["password.length"],
            },
        ],
    );
}

/// Seed 004 (and our numbers where it is silent): 8–12 half-width, letters and digits, no login ID.
#[test]
fn business_web_004() {
    check(
        Preset::BusinessWeb,
        &[
            ok("kagiya2026"),
            bad("kagiya2", &["password.length"]),
            bad("kagiyakagiya", &["password.digits"]),
            bad("hanakodt2026", &["password.no_login_id"]),
            bad("かぎや2026ab", &["password.allowed_chars"]),
        ],
    );
    let p = Preset::BusinessWeb.password();
    assert!(p.differ_from_other_credential && p.differ_from_current);
    assert_eq!((p.history, p.expiry_days, p.warn_days), (3, Some(90), 14));
    let l = Preset::BusinessWeb.lockout();
    assert_eq!((l.threshold, l.permanent_after), (5, Some(3)));
}

/// NIST SP 800-63B-4: 15+ (8 with MFA), long passwords and any characters allowed, no
/// composition rules, blocklist and context words.
#[test]
fn nist() {
    check(
        Preset::Nist,
        &[
            ok("correct horse battery"),
            ok("とても長い日本語のパスフレーズです"),
            ok("Zq8#mT2!pLw9@xRbVn4$kJ7&hG3%dS6^fA1*cX5(eW0)uY2_iO9+tR8=gM7?nB6"),
            // NIST: "repetitive or sequential characters" — refused by the strength rule now.
            bad(
                &*Box::leak("x".repeat(64).into_boxed_str()),
                &["password.strength"],
            ),
            bad("shortpassword", &["password.length", "password.strength"]),
            Row {
                password: "Zq8#mT2!w",
                mfa: true,
                expect: &[],
            },
            // Eight random characters are 10^8 guesses, just under the strength rule's bar
            // (ours: zxcvbn score 3).
            Row {
                password: "Zq8#mT2!",
                mfa: true,
                expect: &["password.strength"],
            },
            Row {
                password: "shortpwd",
                mfa: true,
                expect: &["password.strength"],
            },
            bad("my-hanakodt-passphrase", &["password.no_login_id"]),
            bad("yamada.hanako-passphrase", &["password.no_email_local"]),
            bad(
                "1qaz2wsx3edc4rfv",
                &["password.not_common", "password.strength"],
            ),
        ],
    );
}

/// InterFAX's lockout: 3 wrong passwords lock the account for an hour.
#[test]
fn interfax_lockout_000() {
    let l = Preset::Interfax.lockout();
    assert_eq!((l.threshold, l.lock_ms), (3, 60 * 60_000));
    assert_eq!(l.permanent_after, None);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Seed 002's rule written out naively, as a reference for the policy engine.
    fn web_member_reference(pw: &str, login_id: &str) -> bool {
        let n = pw.chars().count();
        (8..=12).contains(&n)
            && pw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
            && pw.chars().any(|c| c.is_ascii_uppercase())
            && pw.chars().any(|c| c.is_ascii_lowercase())
            && pw.chars().any(|c| c.is_ascii_digit())
            && !pw.to_lowercase().contains(&login_id.to_lowercase())
    }

    /// Seed 000's rule written out naively.
    fn interfax_reference(pw: &str) -> bool {
        let n = pw.chars().count();
        (7..=16).contains(&n)
            && pw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!@#$%".contains(c))
            && pw.chars().any(|c| c.is_ascii_alphabetic())
            && pw.chars().any(|c| c.is_ascii_digit())
    }

    proptest! {
        #[test]
        fn web_member_agrees_with_its_reference(pw in "[a-zA-Z0-9._!@ -]{0,14}", id in "[a-z]{3,6}") {
            let ctx = PolicyContext { login_id: &id, ..Default::default() };
            let ok = Preset::WebMember.password().violations(&pw, &ctx).is_empty();
            prop_assert_eq!(ok, web_member_reference(&pw, &id), "{:?}", pw);
        }

        #[test]
        fn interfax_agrees_with_its_reference(pw in "[a-zA-Z0-9!@#$%&*. ]{0,18}") {
            let ok = Preset::Interfax.password().violations(&pw, &PolicyContext::default()).is_empty();
            prop_assert_eq!(ok, interfax_reference(&pw), "{:?}", pw);
        }

        /// Any input, any preset: the checklist never panics and the violations are exactly the
        /// rules marked not met.
        #[test]
        fn violations_are_the_failed_checklist_rules(pw in "\\PC{0,40}", p in 0..5usize, mfa: bool) {
            let policy = Preset::ALL[p].password();
            let ctx = PolicyContext { login_id: "hanakodt", email: Some("h.k@example.jp"), must_differ_from: None, mfa, context: &[] };
            let failed: Vec<&str> = policy
                .checklist(&pw, &ctx, kagiya_core::Lang::En)
                .into_iter()
                .filter(|r| !r.ok)
                .map(|r| r.code)
                .collect();
            prop_assert_eq!(failed, policy.violations(&pw, &ctx));
        }
    }

    #[test]
    fn the_optional_strength_rule_uses_zxcvbn() {
        let mut p = Preset::Nist.password();
        p.min_strength = Some(3);
        let ctx = PolicyContext {
            login_id: "hanakodt",
            ..Default::default()
        };
        assert_eq!(
            p.violations("aaaaaaaaaaaaaaaa", &ctx),
            ["password.strength"]
        );
        assert!(p
            .violations("correct horse battery staple", &ctx)
            .is_empty());
    }
}
