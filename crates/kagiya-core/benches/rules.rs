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
        context: &[],
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

/// 10,000 rules (9,000 IPv4, 1,000 IPv6) from a fixed pseudo-random sequence; the probe matches
/// none of them, so every decision scans the whole IPv4 list (the worst case). Goal ≤ 10 µs.
fn ip_rules(c: &mut Criterion) {
    use kagiya_core::iprules::{CountryTable, IpAction, IpRule, RuleSet};
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut rules = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let action = if i % 3 == 0 {
            IpAction::Deny
        } else {
            IpAction::Allow
        };
        let net: ipnet::IpNet = if i < 9_000 {
            // Inside 10.0.0.0/8, so that 192.0.2.1 matches none.
            let a = 0x0A00_0000 | (next() as u32 & 0x00FF_FFFF);
            ipnet::Ipv4Net::new(a.into(), 16 + (next() % 17) as u8)
                .unwrap()
                .trunc()
                .into()
        } else {
            let a = (0x2001_0db8u128 << 96) | (next() as u128) << 32;
            ipnet::Ipv6Net::new(a.into(), 48 + (next() % 81) as u8)
                .unwrap()
                .trunc()
                .into()
        };
        rules.push(IpRule {
            action,
            net,
            note: String::new(),
        });
    }
    let set = RuleSet {
        rules,
        default: IpAction::Deny,
        allowed_countries: None,
    };
    let compiled = set.compile();
    let table = CountryTable::default();
    let miss: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    let v6: std::net::IpAddr = "2001:db9::1".parse().unwrap();
    c.bench_function(
        "IP check, 10,000 rules, IPv4 address matching none (full scan)",
        |b| b.iter(|| compiled.check(black_box(miss), &table, None, 0)),
    );
    c.bench_function("IP check, 10,000 rules, IPv6 address matching none", |b| {
        b.iter(|| compiled.check(black_box(v6), &table, None, 0))
    });
    c.bench_function("IP rules compile, 10,000 rules", |b| {
        b.iter(|| black_box(&set).compile())
    });
}

criterion_group!(benches, policy, lockout, ip_rules);
criterion_main!(benches);
