//! Ordered allow/deny rules. The first rule whose CIDR contains the address decides; if none
//! does, the country option may deny; otherwise the default action applies. A forced release in
//! force allows everything (and says so). Rules are compiled to flat integer ranges so that a
//! decision over 10,000 rules is a single pass of comparisons.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::countries::CountryTable;
use super::problem::IpRuleProblem;
use crate::directory::Service;
use crate::{Error, Lang, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRule {
    pub action: IpAction,
    pub net: IpNet,
    #[serde(default)]
    pub note: String,
}

/// The rules of one service of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub rules: Vec<IpRule>,
    pub default: IpAction,
    /// When set, addresses outside these countries (or of unknown country) are denied unless a
    /// rule decided first.
    #[serde(default)]
    pub allowed_countries: Option<Vec<String>>,
}

impl Default for RuleSet {
    /// No restriction.
    fn default() -> Self {
        RuleSet {
            rules: Vec::new(),
            default: IpAction::Allow,
            allowed_countries: None,
        }
    }
}

/// What decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum DecidedBy {
    /// Rule number `index` (0-based, in order).
    Rule {
        index: usize,
        net: String,
    },
    /// The country option: the address is in `country` (or unknown) and that is not allowed.
    Country {
        country: Option<String>,
    },
    Default,
    /// The customer does not use this service: denied at home and abroad (seed 003:
    /// 「利用しない機能/ポートに対して、国内外を問わずアクセスを拒否することができます」).
    NotUsed,
    /// A supervisor's forced release until `until`.
    Released {
        until: Millis,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub action: IpAction,
    #[serde(flatten)]
    pub by: DecidedBy,
}

/// Refuses a CIDR with host bits set (`192.0.2.1/24`), naming the network probably meant.
fn host_bits_clear(net: &IpNet) -> Result<(), Error> {
    if net.trunc() == *net {
        return Ok(());
    }
    Err(Error::InvalidIpRule(IpRuleProblem::HostBits {
        given: net.to_string(),
        network: net.trunc().to_string(),
    }))
}

/// The most rules a set may have.
pub const MAX_RULES: usize = 20_000;

/// The longest note a rule may carry, in characters (ours: room for "本社3階 経理部 固定回線
/// (NTT) 2026年4月から" and the like; the rules of a large customer stay a few megabytes).
pub const MAX_NOTE_CHARS: usize = 200;

/// Characters that change how the text around them is shown without showing themselves: control
/// characters, bidirectional overrides and isolates, zero-width characters.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn check_note(note: &str) -> Result<(), Error> {
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(hidden) {
        return Err(Error::InvalidIpRule(IpRuleProblem::Note {
            max: MAX_NOTE_CHARS,
        }));
    }
    Ok(())
}

impl RuleSet {
    /// Parses one rule written as `allow 192.0.2.0/24` or `deny 2001:db8::/32 note…`.
    pub fn parse_rule(line: &str) -> Result<IpRule, Error> {
        let mut parts = line.split_whitespace();
        let action = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            Some("allow") => IpAction::Allow,
            Some("deny") => IpAction::Deny,
            _ => {
                return Err(Error::InvalidIpRule(IpRuleProblem::NoAction {
                    line: line.trim().to_owned(),
                }))
            }
        };
        let Some(net_text) = parts.next() else {
            return Err(Error::InvalidIpRule(IpRuleProblem::NoAddress {
                line: line.trim().to_owned(),
            }));
        };
        let net: IpNet = net_text
            .parse()
            .or_else(|_| net_text.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                Error::InvalidIpRule(IpRuleProblem::NotAnAddress {
                    text: net_text.to_owned(),
                })
            })?;
        host_bits_clear(&net)?;
        let note = parts.collect::<Vec<_>>().join(" ");
        check_note(&note)?;
        Ok(IpRule { action, net, note })
    }

    /// Checks sizes and country codes.
    pub fn validate(&self) -> Result<(), Error> {
        if self.rules.len() > MAX_RULES {
            return Err(Error::InvalidIpRule(IpRuleProblem::TooMany {
                max: MAX_RULES,
            }));
        }
        for r in &self.rules {
            host_bits_clear(&r.net)?;
            check_note(&r.note)?;
        }
        if let Some(cs) = &self.allowed_countries {
            if cs
                .iter()
                .any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(Error::InvalidIpRule(IpRuleProblem::CountryCode));
            }
        }
        Ok(())
    }

    pub fn compile(&self) -> Compiled {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            match r.net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.netmask()), i as u32)),
                IpNet::V6(n) => {
                    v6.push((u128::from(n.network()), u128::from(n.netmask()), i as u32))
                }
            }
        }
        Compiled {
            set: self.clone(),
            v4,
            v6,
        }
    }
}

/// A rule set ready for fast decisions.
#[derive(Debug, Clone)]
pub struct Compiled {
    set: RuleSet,
    v4: Vec<(u32, u32, u32)>,
    v6: Vec<(u128, u128, u32)>,
}

impl Compiled {
    /// The first rule containing `ip`.
    fn first_match(&self, ip: IpAddr) -> Option<usize> {
        let ip = match ip {
            IpAddr::V6(a) => a.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(a)),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                let x = u32::from(a);
                self.v4
                    .iter()
                    .find(|(net, mask, _)| x & mask == *net)
                    .map(|r| r.2 as usize)
            }
            IpAddr::V6(a) => {
                let x = u128::from(a);
                self.v6
                    .iter()
                    .find(|(net, mask, _)| x & mask == *net)
                    .map(|r| r.2 as usize)
            }
        }
    }

    /// The decision for `ip` at `now`, given the country table and a forced release.
    pub fn check(
        &self,
        ip: IpAddr,
        countries: &CountryTable,
        released_until: Option<Millis>,
        now: Millis,
    ) -> Decision {
        if let Some(until) = released_until.filter(|u| *u > now) {
            return Decision {
                action: IpAction::Allow,
                by: DecidedBy::Released { until },
            };
        }
        if let Some(i) = self.first_match(ip) {
            let r = &self.set.rules[i];
            return Decision {
                action: r.action,
                by: DecidedBy::Rule {
                    index: i,
                    net: r.net.to_string(),
                },
            };
        }
        if let Some(allowed) = &self.set.allowed_countries {
            let country = countries.country(ip);
            if !country
                .as_ref()
                .is_some_and(|c| allowed.iter().any(|a| a == c))
            {
                return Decision {
                    action: IpAction::Deny,
                    by: DecidedBy::Country { country },
                };
            }
        }
        Decision {
            action: self.set.default,
            by: DecidedBy::Default,
        }
    }
}

/// The rules a customer starts with, per service (seed 003, Biz Mail): 「初期設定では、コントロール
/// パネルおよび各サービスポートすべて、海外IPアドレスからのアクセスを拒否する設定」 — every service
/// allows Japan only — and 「データベース(MySQL:3306)へのアクセスを国内外すべて拒否」. The other
/// seeds give no IP defaults: their customers start without rules.
pub fn initial_rules(
    preset: crate::password::Preset,
    services: &[Service],
) -> Vec<(Service, RuleSet)> {
    if preset != crate::password::Preset::BizMail {
        return Vec::new();
    }
    services
        .iter()
        .map(|&s| {
            let set = if s == Service::Database {
                RuleSet {
                    rules: Vec::new(),
                    default: IpAction::Deny,
                    allowed_countries: None,
                }
            } else {
                RuleSet {
                    rules: Vec::new(),
                    default: IpAction::Allow,
                    allowed_countries: Some(vec![HOME_COUNTRY.to_owned()]),
                }
            };
            (s, set)
        })
        .collect()
}

/// The country "domestic" means (国内).
pub const HOME_COUNTRY: &str = "JP";

/// Something an administrator should know before saving a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum RuleWarning {
    /// Rule `index` can never decide: rule `by` (earlier) contains its whole range.
    Shadowed {
        index: usize,
        by: usize,
        same_action: bool,
    },
    /// These addresses, from which the customer's administrators have signed in, would be denied.
    LocksOutAdministrators { addresses: Vec<String> },
    /// The country option is on but no country table is loaded: every address not matched by a
    /// rule would be denied.
    NoCountryTable,
}

impl RuleWarning {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                RuleWarning::Shadowed {
                    index,
                    by,
                    same_action: true,
                },
                Lang::Ja,
            ) => {
                format!("規則{}は規則{}に含まれるため不要です", index + 1, by + 1)
            }
            (
                RuleWarning::Shadowed {
                    index,
                    by,
                    same_action: true,
                },
                Lang::En,
            ) => {
                format!(
                    "rule {} is redundant: rule {} already covers it",
                    index + 1,
                    by + 1
                )
            }
            (RuleWarning::Shadowed { index, by, .. }, Lang::Ja) => {
                format!(
                    "規則{}は規則{}に隠れて適用されません（許可と拒否が逆です）",
                    index + 1,
                    by + 1
                )
            }
            (RuleWarning::Shadowed { index, by, .. }, Lang::En) => {
                format!(
                    "rule {} never applies: rule {} comes first with the opposite action",
                    index + 1,
                    by + 1
                )
            }
            (RuleWarning::LocksOutAdministrators { addresses }, Lang::Ja) => {
                format!(
                    "管理者がこれまでに使ったアドレスが拒否されます: {}",
                    addresses.join(", ")
                )
            }
            (RuleWarning::LocksOutAdministrators { addresses }, Lang::En) => {
                format!(
                    "addresses your administrators have used would be denied: {}",
                    addresses.join(", ")
                )
            }
            (RuleWarning::NoCountryTable, Lang::Ja) => {
                "国別の制限が有効ですが国別アドレス表が読み込まれていません".to_owned()
            }
            (RuleWarning::NoCountryTable, Lang::En) => {
                "the country option is on but no country table is loaded".to_owned()
            }
        }
    }
}

/// The warnings for `set`, given the addresses the customer's administrators have used.
pub fn warnings(
    set: &RuleSet,
    admin_addresses: &[IpAddr],
    countries: &CountryTable,
) -> Vec<RuleWarning> {
    let mut out = Vec::new();
    // A rule is shadowed by the first earlier rule whose network contains its own: one of its
    // supernets (at most 33 for IPv4, 129 for IPv6). Looking those up by network keeps this
    // linear in the number of rules, where comparing every pair took seconds for the 20,000 a
    // set may hold (issue 12, low).
    let mut first: std::collections::HashMap<IpNet, usize> =
        std::collections::HashMap::with_capacity(set.rules.len());
    for (i, r) in set.rules.iter().enumerate() {
        // By network, so that a rule written with host bits (an unvalidated set) is found too.
        first.entry(r.net.trunc()).or_insert(i);
    }
    for (j, rj) in set.rules.iter().enumerate() {
        let by = (0..=rj.net.prefix_len())
            .filter_map(|len| {
                let sup = IpNet::new(rj.net.addr(), len).ok()?.trunc();
                first.get(&sup).copied().filter(|&i| i < j)
            })
            .min();
        if let Some(i) = by {
            out.push(RuleWarning::Shadowed {
                index: j,
                by: i,
                same_action: set.rules[i].action == rj.action,
            });
        }
    }
    if set.allowed_countries.is_some() && countries.is_empty() {
        out.push(RuleWarning::NoCountryTable);
    }
    let compiled = set.compile();
    let denied: Vec<String> = admin_addresses
        .iter()
        .filter(|ip| compiled.check(**ip, countries, None, 0).action == IpAction::Deny)
        .map(|ip| ip.to_string())
        .collect();
    if !denied.is_empty() {
        out.push(RuleWarning::LocksOutAdministrators { addresses: denied });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(lines: &[&str], default: IpAction) -> RuleSet {
        RuleSet {
            rules: lines
                .iter()
                .map(|l| RuleSet::parse_rule(l).unwrap())
                .collect(),
            default,
            allowed_countries: None,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Seed 003: allow the office, deny everything else; the office's v6 range too.
    #[test]
    fn first_match_then_default() {
        let s = set(
            &[
                "allow 203.0.113.0/24 本社",
                "deny 203.0.113.7/32",
                "allow 2001:db8:1::/48",
            ],
            IpAction::Deny,
        )
        .compile();
        let none = CountryTable::default();
        let d = s.check(ip("203.0.113.7"), &none, None, 0);
        assert_eq!(d.action, IpAction::Allow);
        assert_eq!(
            d.by,
            DecidedBy::Rule {
                index: 0,
                net: "203.0.113.0/24".into()
            }
        );
        assert_eq!(
            s.check(ip("2001:db8:1::5"), &none, None, 0).action,
            IpAction::Allow
        );
        assert_eq!(
            s.check(ip("::ffff:203.0.113.9"), &none, None, 0).action,
            IpAction::Allow
        );
        assert_eq!(
            s.check(ip("198.51.100.1"), &none, None, 0),
            Decision {
                action: IpAction::Deny,
                by: DecidedBy::Default
            }
        );
    }

    /// Seed 003: overseas addresses are denied by default; a rule can still let one in.
    #[test]
    fn countries_after_rules() {
        let table =
            CountryTable::from_csv(include_str!("../../data/countries-sample.csv")).unwrap();
        let mut s = set(&["allow 198.51.100.10/32 海外拠点"], IpAction::Allow);
        s.allowed_countries = Some(vec!["JP".into()]);
        let c = s.compile();
        assert_eq!(
            c.check(ip("192.0.2.1"), &table, None, 0).action,
            IpAction::Allow
        );
        assert_eq!(
            c.check(ip("198.51.100.11"), &table, None, 0),
            Decision {
                action: IpAction::Deny,
                by: DecidedBy::Country {
                    country: Some("US".into())
                }
            }
        );
        assert_eq!(
            c.check(ip("198.51.100.10"), &table, None, 0).action,
            IpAction::Allow
        );
        assert_eq!(
            c.check(ip("8.8.8.8"), &table, None, 0).by,
            DecidedBy::Country { country: None }
        );
        // A forced release allows everything until it ends, and says so.
        assert_eq!(
            c.check(ip("8.8.8.8"), &table, Some(100), 50).by,
            DecidedBy::Released { until: 100 }
        );
        assert_eq!(
            c.check(ip("8.8.8.8"), &table, Some(100), 100).action,
            IpAction::Deny
        );
    }

    #[test]
    fn warnings_for_shadowed_rules_and_locked_out_administrators() {
        let s = set(
            &[
                "deny 10.0.0.0/8",
                "allow 10.1.0.0/16",
                "deny 10.2.0.0/16",
                "allow 192.0.2.0/24",
            ],
            IpAction::Deny,
        );
        let w = warnings(
            &s,
            &[ip("192.0.2.5"), ip("10.1.2.3")],
            &CountryTable::default(),
        );
        assert_eq!(
            w,
            vec![
                RuleWarning::Shadowed {
                    index: 1,
                    by: 0,
                    same_action: false
                },
                RuleWarning::Shadowed {
                    index: 2,
                    by: 0,
                    same_action: true
                },
                RuleWarning::LocksOutAdministrators {
                    addresses: vec!["10.1.2.3".into()]
                },
            ]
        );
        assert!(w[0].message(Lang::Ja).contains("規則2"));
    }

    /// Issue 12, low: 「IP-rule notes bounded」.
    #[test]
    fn notes_are_bounded_and_single_line() {
        let long = format!("allow 192.0.2.0/24 {}", "メ".repeat(MAX_NOTE_CHARS));
        assert!(RuleSet::parse_rule(&long).is_ok());
        let longer = format!("{long}モ");
        assert_eq!(
            RuleSet::parse_rule(&longer).unwrap_err(),
            Error::InvalidIpRule(IpRuleProblem::Note {
                max: MAX_NOTE_CHARS
            })
        );
        let mut s = set(&["allow 192.0.2.0/24"], IpAction::Deny);
        s.rules[0].note = "a\u{7}b".into();
        assert!(
            s.validate().is_err(),
            "a note from a file or the bridge is checked too"
        );
        s.rules[0].note = "経理部\u{202E}moc.elpmaxe".into();
        assert!(
            s.validate().is_err(),
            "a right-to-left override would disguise the note"
        );
    }

    /// The pairwise definition of a shadowed rule, to check the linear search against.
    fn shadowed_pairwise(set: &RuleSet) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (j, rj) in set.rules.iter().enumerate() {
            if let Some(i) = set.rules[..j]
                .iter()
                .position(|ri| ri.net.contains(&rj.net))
            {
                out.push((j, i));
            }
        }
        out
    }

    proptest! {
        /// Issue 12, low: 「the shadowed-rule warning not quadratic」 — and still the same
        /// warnings as comparing every pair.
        #[test]
        fn shadow_warnings_match_the_pairwise_definition(
            nets in proptest::collection::vec((0u8..4, 0u8..4, 6u8..=18, any::<bool>()), 0..40),
            v6 in proptest::collection::vec((0u16..4, 16u8..=40), 0..10),
        ) {
            let mut rules = Vec::new();
            for (a, b, len, allow) in nets {
                let addr = IpAddr::from([10, a * 64, b * 64, 0]);
                let action = if allow { IpAction::Allow } else { IpAction::Deny };
                rules.push(IpRule { action, net: IpNet::new(addr, len).unwrap().trunc(), note: String::new() });
            }
            for (a, len) in v6 {
                let addr = IpAddr::from([0x2001, 0xdb8, a << 12, 0, 0, 0, 0, 0]);
                rules.push(IpRule { action: IpAction::Deny, net: IpNet::new(addr, len).unwrap().trunc(), note: String::new() });
            }
            let s = RuleSet { rules, default: IpAction::Deny, allowed_countries: None };
            let linear: Vec<(usize, usize)> = warnings(&s, &[], &CountryTable::default())
                .into_iter()
                .filter_map(|w| match w {
                    RuleWarning::Shadowed { index, by, .. } => Some((index, by)),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(linear, shadowed_pairwise(&s));
        }
    }

    #[test]
    fn rules_are_parsed_strictly() {
        assert!(RuleSet::parse_rule("allow 192.0.2.0/24").is_ok());
        assert_eq!(
            RuleSet::parse_rule("deny 192.0.2.1")
                .unwrap()
                .net
                .to_string(),
            "192.0.2.1/32"
        );
        let problem = |line: &str| match RuleSet::parse_rule(line) {
            Err(Error::InvalidIpRule(p)) => p,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(
            problem(" permit 192.0.2.0/24 "),
            IpRuleProblem::NoAction {
                line: "permit 192.0.2.0/24".into()
            }
        );
        assert_eq!(
            problem("allow 192.0.2.1/24"),
            IpRuleProblem::HostBits {
                given: "192.0.2.1/24".into(),
                network: "192.0.2.0/24".into()
            }
        );
        assert_eq!(
            problem("allow 300.0.0.0/8"),
            IpRuleProblem::NotAnAddress {
                text: "300.0.0.0/8".into()
            }
        );
        assert_eq!(
            problem("allow"),
            IpRuleProblem::NoAddress {
                line: "allow".into()
            }
        );
    }

    /// A naive reference: scan the rules with ipnet's own `contains`.
    fn reference(s: &RuleSet, ip: IpAddr) -> IpAction {
        let ip = match ip {
            IpAddr::V6(a) => a.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(a)),
            v4 => v4,
        };
        s.rules
            .iter()
            .find(|r| r.net.contains(&ip))
            .map(|r| r.action)
            .unwrap_or(s.default)
    }

    fn arb_rule() -> impl Strategy<Value = IpRule> {
        prop_oneof![
            (any::<u32>(), 0u8..=32, any::<bool>()).prop_map(|(a, len, allow)| IpRule {
                action: if allow {
                    IpAction::Allow
                } else {
                    IpAction::Deny
                },
                net: IpNet::V4(ipnet::Ipv4Net::new(a.into(), len).unwrap().trunc()),
                note: String::new(),
            }),
            (any::<u128>(), 0u8..=128, any::<bool>()).prop_map(|(a, len, allow)| IpRule {
                action: if allow {
                    IpAction::Allow
                } else {
                    IpAction::Deny
                },
                net: IpNet::V6(ipnet::Ipv6Net::new(a.into(), len).unwrap().trunc()),
                note: String::new(),
            }),
        ]
    }

    proptest! {
        #[test]
        fn compiled_decisions_agree_with_a_naive_scan(
            rules in prop::collection::vec(arb_rule(), 0..40),
            probes in prop::collection::vec(any::<u32>(), 1..20),
            deny_default: bool,
        ) {
            let s = RuleSet { rules, default: if deny_default { IpAction::Deny } else { IpAction::Allow }, allowed_countries: None };
            let c = s.compile();
            // Probe random addresses and every rule's own network address (so that matches happen).
            let mut ips: Vec<IpAddr> = probes.into_iter().map(|p| IpAddr::V4(p.into())).collect();
            ips.extend(s.rules.iter().map(|r| r.net.network()));
            for ip in ips {
                prop_assert_eq!(c.check(ip, &CountryTable::default(), None, 0).action, reference(&s, ip));
            }
        }
    }
}
