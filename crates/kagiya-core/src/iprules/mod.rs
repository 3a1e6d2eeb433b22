//! IP access rules (seed 003: IPアクセス制限): per customer and service, ordered allow/deny rules on
//! IPv4 and IPv6 CIDRs, a default action and an optional "deny outside the allowed countries",
//! with the decision explained, warnings for rules that never decide or that would shut out the
//! customer's own administrators, and a supervisor's bounded forced release.

pub mod countries;
pub mod merge;
pub mod problem;
pub mod rules;

pub use countries::CountryTable;

/// The longest forced release of a customer's IP restrictions (seed 003): 24 hours.
pub const MAX_RELEASE_MINUTES: u32 = 24 * 60;
pub use problem::IpRuleProblem;
pub use rules::{
    initial_rules, DecidedBy, Decision, IpAction, IpRule, RuleSet, RuleWarning, HOME_COUNTRY,
};
