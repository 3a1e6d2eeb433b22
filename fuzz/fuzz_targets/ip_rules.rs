//! IP rules and country tables come from customers' files and the rule editor. Any text is
//! parsed without a panic; what parses is evaluated exactly like the plain first-match reading of
//! the rules (the compiled form is an optimisation), and the warnings never panic.
#![no_main]

use std::net::IpAddr;

use arbitrary::Arbitrary;
use kagiya_core::iprules::rules::{warnings, IpAction, RuleSet};
use kagiya_core::iprules::CountryTable;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    rules: String,
    countries: String,
    allowed: Option<Vec<String>>,
    deny_by_default: bool,
    probes: Vec<Probe>,
}

#[derive(Debug, Arbitrary)]
enum Probe {
    V4([u8; 4]),
    V6([u16; 8]),
}

fuzz_target!(|input: Input| {
    let table = CountryTable::from_csv(&input.countries).unwrap_or_default();
    let rules: Vec<_> = input
        .rules
        .lines()
        .filter_map(|l| RuleSet::parse_rule(l).ok())
        .collect();
    let set = RuleSet {
        rules,
        default: if input.deny_by_default {
            IpAction::Deny
        } else {
            IpAction::Allow
        },
        allowed_countries: input.allowed,
    };
    if set.validate().is_err() {
        return;
    }
    let compiled = set.compile();
    let probes: Vec<IpAddr> = input
        .probes
        .iter()
        .map(|p| match p {
            Probe::V4(o) => IpAddr::from(*o),
            Probe::V6(s) => IpAddr::from(*s),
        })
        .collect();
    for ip in &probes {
        let d = compiled.check(*ip, &table, None, 0);
        if let Some(r) = set.rules.iter().find(|r| r.net.contains(ip)) {
            assert_eq!(d.action, r.action, "{ip}: the first matching rule decides");
        }
    }
    let _ = warnings(&set, &probes, &table);
});
