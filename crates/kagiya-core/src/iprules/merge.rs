//! The restrictive merge of two rule sets, for sync (docs/sync.md): when a branch edited a
//! customer's IP rules offline while they changed at the server, the result must never open an
//! address that either side closed. Exact intersection of two first-match lists is not one list
//! in general, so the merge is conservative: it may deny an address both allowed (the review
//! screen says the rules were merged), never the other way round.

use ipnet::IpNet;

use super::rules::{IpAction, IpRule, RuleSet};

impl RuleSet {
    /// A set that allows an address only if both `self` and `other` allow it: every deny rule of
    /// both first; then, for each pair of allow rules whose networks overlap (a default allow
    /// counting as an allow of everything), the smaller network; the default is deny if either side's is; the allowed countries are the ones both
    /// allow.
    pub fn restrictive_merge(&self, other: &RuleSet) -> RuleSet {
        let denies = self
            .rules
            .iter()
            .chain(&other.rules)
            .filter(|r| r.action == IpAction::Deny);
        let mut rules: Vec<IpRule> = Vec::new();
        for r in denies {
            if !rules.iter().any(|x| x.net == r.net) {
                rules.push(r.clone());
            }
        }
        // A side that allows by default (with no country option) allows every address its
        // rules did not decide: an implicit allow of everything, last.
        let allows = |s: &RuleSet| -> Vec<(IpRule, bool)> {
            let mut v: Vec<(IpRule, bool)> = s
                .rules
                .iter()
                .filter(|r| r.action == IpAction::Allow)
                .map(|r| (r.clone(), false))
                .collect();
            if s.default == IpAction::Allow && s.allowed_countries.is_none() {
                for net in ["0.0.0.0/0", "::/0"] {
                    let net = net.parse().expect("a valid CIDR");
                    v.push((
                        IpRule {
                            action: IpAction::Allow,
                            net,
                            note: String::new(),
                        },
                        true,
                    ));
                }
            }
            v
        };
        for (a, a_implicit) in allows(self) {
            for (b, b_implicit) in allows(other) {
                if a_implicit && b_implicit {
                    continue; // both defaults allow: the merged default does
                }
                let Some(net) = overlap(&a.net, &b.net) else {
                    continue;
                };
                if !rules.iter().any(|x| x.net == net) {
                    let note = if a.note == b.note || b.note.is_empty() {
                        a.note.clone()
                    } else {
                        format!("{} / {}", a.note, b.note)
                    };
                    rules.push(IpRule {
                        action: IpAction::Allow,
                        net,
                        note,
                    });
                }
            }
        }
        let default = if self.default == IpAction::Deny || other.default == IpAction::Deny {
            IpAction::Deny
        } else {
            IpAction::Allow
        };
        let allowed_countries = match (&self.allowed_countries, &other.allowed_countries) {
            (Some(a), Some(b)) => Some(a.iter().filter(|c| b.contains(c)).cloned().collect()),
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (None, None) => None,
        };
        RuleSet {
            rules,
            default,
            allowed_countries,
        }
    }
}

/// The intersection of two CIDR networks: the smaller one when one contains the other (two CIDRs
/// either nest or are disjoint).
fn overlap(a: &IpNet, b: &IpNet) -> Option<IpNet> {
    if a.contains(b) {
        Some(*b)
    } else if b.contains(a) {
        Some(*a)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use proptest::prelude::*;

    use super::*;
    use crate::iprules::CountryTable;

    fn allows(s: &RuleSet, ip: IpAddr, countries: &CountryTable) -> bool {
        s.compile().check(ip, countries, None, 0).action == IpAction::Allow
    }

    fn rule() -> impl Strategy<Value = IpRule> {
        (any::<bool>(), 0u8..4, 0u8..4, 8u8..=32).prop_map(|(allow, a, b, len)| IpRule {
            action: if allow {
                IpAction::Allow
            } else {
                IpAction::Deny
            },
            net: IpNet::new(IpAddr::V4(Ipv4Addr::new(10, a, b, 0)), len)
                .unwrap()
                .trunc(),
            note: String::new(),
        })
    }

    fn set() -> impl Strategy<Value = RuleSet> {
        (prop::collection::vec(rule(), 0..6), any::<bool>()).prop_map(|(rules, deny)| RuleSet {
            rules,
            default: if deny {
                IpAction::Deny
            } else {
                IpAction::Allow
            },
            allowed_countries: None,
        })
    }

    proptest! {
        /// docs/sync.md, "IP rules: restrictive wins" (issue 14): "a merge must never open what
        /// either side closed".
        #[test]
        fn the_merge_never_allows_what_either_side_denies(
            a in set(), b in set(), x in 0u8..4, y in 0u8..4, z in any::<u8>()
        ) {
            let t = CountryTable::default();
            let ip = IpAddr::V4(Ipv4Addr::new(10, x, y, z));
            let m = a.restrictive_merge(&b);
            if allows(&m, ip, &t) {
                prop_assert!(allows(&a, ip, &t) && allows(&b, ip, &t));
            }
        }

        #[test]
        fn merging_a_set_with_itself_decides_as_it_does(a in set(), x in 0u8..4, y in 0u8..4, z in any::<u8>()) {
            let t = CountryTable::default();
            let ip = IpAddr::V4(Ipv4Addr::new(10, x, y, z));
            // Self-merge may only reorder deny rules first, which can deny an address an
            // earlier allow rule let in; it never allows more.
            if allows(&a.restrictive_merge(&a), ip, &t) {
                prop_assert!(allows(&a, ip, &t));
            }
        }
    }

    #[test]
    fn defaults_and_countries_take_the_stricter_side() {
        let a = RuleSet {
            allowed_countries: Some(vec!["JP".into(), "US".into()]),
            ..RuleSet::default()
        };
        let b = RuleSet {
            default: IpAction::Deny,
            allowed_countries: Some(vec!["JP".into()]),
            ..RuleSet::default()
        };
        let m = a.restrictive_merge(&b);
        assert_eq!(m.default, IpAction::Deny);
        assert_eq!(m.allowed_countries, Some(vec!["JP".to_string()]));
        assert_eq!(
            RuleSet::default().restrictive_merge(&RuleSet::default()),
            RuleSet::default()
        );
    }
}
