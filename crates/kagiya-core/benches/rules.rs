//! The per-attempt decisions: a password checked against a policy (with and without the shipped
//! blocklist) and a lockout decision. Goals: ≤ 5 µs without the blocklist, ≤ 50 µs with it,
//! ≤ 2 µs for a lockout decision.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kagiya_core::lockout::{LockoutFacts, LockoutPolicy};
use kagiya_core::password::{PasswordPolicy, PolicyContext, Preset};

fn policy(c: &mut Criterion) {
    let ctx = PolicyContext {
        login_id: "hanakodt",
        email: Some("yamada.hanako@example.co.jp"),
        must_differ_from: None,
        mfa: false,
    };
    let web = Preset::WebMember.password();
    c.bench_function("policy check, web member (no blocklist)", |b| {
        b.iter(|| web.violations(black_box("Abcdef1.xyz"), &ctx))
    });
    let biz = Preset::BizMail.password();
    c.bench_function("policy check, biz mail (no blocklist)", |b| {
        b.iter(|| biz.violations(black_box("Biz-Mail-2026!"), &ctx))
    });
    let nist = Preset::Nist.password();
    c.bench_function("policy check, NIST (with blocklist)", |b| {
        b.iter(|| nist.violations(black_box("correct horse battery staple"), &ctx))
    });
    let op = PasswordPolicy::OPERATOR;
    c.bench_function(
        "policy checklist with labels, operator (with blocklist)",
        |b| b.iter(|| op.checklist(black_box("Kagiya-2026-branch"), &ctx, kagiya_core::Lang::Ja)),
    );
}

fn lockout(c: &mut Criterion) {
    let p = Preset::BusinessWeb.lockout();
    let mut f = LockoutFacts::default();
    for i in 0..3 {
        f = p.on_failure(&f, 1_000 + i).0;
    }
    c.bench_function("lockout decision (status + on_failure)", |b| {
        b.iter(|| {
            let s = p.status(black_box(&f), black_box(5_000));
            let o = p.on_failure(black_box(&f), black_box(5_000));
            (s, o)
        })
    });
    let _ = LockoutPolicy::OPERATOR;
}

criterion_group!(benches, policy, lockout);
criterion_main!(benches);
