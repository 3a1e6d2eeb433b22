//! The country table behind "deny addresses outside the allowed countries": CIDR → ISO 3166
//! country code, imported from CSV (`cidr,country` per line, `#` comments; see
//! data/countries-sample.csv). Look-ups take the longest matching prefix.

use std::net::IpAddr;

use ipnet::IpNet;

use super::problem::IpRuleProblem;
use crate::Error;

/// Ranges sorted for binary search, per address family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountryTable {
    v4: Vec<(u32, u32, [u8; 2])>,
    v6: Vec<(u128, u128, [u8; 2])>,
}

impl CountryTable {
    /// Parses the CSV text. Errors name the line.
    pub fn from_csv(text: &str) -> Result<CountryTable, Error> {
        let mut t = CountryTable::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.eq_ignore_ascii_case("cidr,country")
            {
                continue;
            }
            let bad = || Error::InvalidIpRule(IpRuleProblem::CountryLine { line: n + 1 });
            let (cidr, cc) = line.split_once(',').ok_or_else(bad)?;
            let net: IpNet = cidr.trim().parse().map_err(|_| bad())?;
            let cc = cc.trim().to_ascii_uppercase();
            let code: [u8; 2] = cc.as_bytes().try_into().map_err(|_| bad())?;
            if !code.iter().all(u8::is_ascii_uppercase) {
                return Err(bad());
            }
            match net.trunc() {
                IpNet::V4(n) => {
                    let lo = u32::from(n.network());
                    t.v4.push((lo, u32::from(n.broadcast()), code));
                }
                IpNet::V6(n) => {
                    let lo = u128::from(n.network());
                    t.v6.push((lo, u128::from(n.broadcast()), code));
                }
            }
        }
        t.v4.sort();
        t.v4.dedup_by_key(|r| (r.0, r.1));
        t.v6.sort();
        t.v6.dedup_by_key(|r| (r.0, r.1));
        Ok(t)
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The country of `ip`, if the table has it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        // Longest prefix first: one binary search per prefix length.
        fn find4(v: &[(u32, u32, [u8; 2])], x: u32) -> Option<[u8; 2]> {
            (0..=32u32).rev().find_map(|len| {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let key = (x & mask, (x & mask) | !mask);
                v.binary_search_by(|(lo, hi, _)| (*lo, *hi).cmp(&key))
                    .ok()
                    .map(|i| v[i].2)
            })
        }
        fn find6(v: &[(u128, u128, [u8; 2])], x: u128) -> Option<[u8; 2]> {
            (0..=128u32).rev().find_map(|len| {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                let key = (x & mask, (x & mask) | !mask);
                v.binary_search_by(|(lo, hi, _)| (*lo, *hi).cmp(&key))
                    .ok()
                    .map(|i| v[i].2)
            })
        }
        let code = match ip {
            IpAddr::V4(a) => find4(&self.v4, u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => find4(&self.v4, u32::from(v4)),
                None => find6(&self.v6, u128::from(a)),
            },
        }?;
        Some(String::from_utf8_lossy(&code).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_sample_loads_and_answers() {
        let t = CountryTable::from_csv(include_str!("../../data/countries-sample.csv")).unwrap();
        assert!(t.len() >= 5);
        assert_eq!(
            t.country("192.0.2.10".parse().unwrap()).as_deref(),
            Some("JP")
        );
        assert_eq!(
            t.country("198.51.100.7".parse().unwrap()).as_deref(),
            Some("US")
        );
        assert_eq!(
            t.country("2001:db8::1".parse().unwrap()).as_deref(),
            Some("JP")
        );
        assert_eq!(t.country("8.8.8.8".parse().unwrap()), None);
    }

    #[test]
    fn the_narrowest_range_wins_and_bad_lines_are_named() {
        let t = CountryTable::from_csv("10.0.0.0/8,US\n10.1.0.0/16,JP\n").unwrap();
        assert_eq!(
            t.country("10.1.2.3".parse().unwrap()).as_deref(),
            Some("JP")
        );
        assert_eq!(
            t.country("10.2.2.3".parse().unwrap()).as_deref(),
            Some("US")
        );
        assert_eq!(
            CountryTable::from_csv("10.0.0.0/8,US\nnonsense\n").unwrap_err(),
            Error::InvalidIpRule(IpRuleProblem::CountryLine { line: 2 })
        );
        assert!(CountryTable::from_csv("10.0.0.0/8,USA\n").is_err());
    }
}
