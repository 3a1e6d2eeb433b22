//! The country table behind "deny addresses outside the allowed countries": address → ISO 3166
//! country code, imported from CSV with `#` comments, in either of two shapes per line:
//! - `cidr,country` (data/countries-sample.csv): ranges may nest, the longest prefix wins;
//! - `first,last,country` — the shape of the maintained IP-to-country data sets (ip-location-db's
//!   geo-whois-asn-country, RIR-derived): ranges that may not overlap, found by one binary search.
//!
//! A CIDR line decides before a range line, so a branch can correct a range with a CIDR.

use std::net::IpAddr;

use ipnet::IpNet;

use super::problem::IpRuleProblem;
use crate::Error;

/// Sorted, non-overlapping ranges from `first,last` ranges that may overlap (the published data
/// sets have a few hundred overlaps among 550,000 lines): inside a nested range the nested one
/// decides; where two ranges cross, the one that starts later decides from its start.
fn flatten(mut v: Vec<(u128, u128, [u8; 2])>) -> Vec<(u128, u128, [u8; 2])> {
    v.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<(u128, u128, [u8; 2])> = Vec::with_capacity(v.len());
    let mut emit = |a: u128, b: u128, c: [u8; 2]| {
        if a > b {
            return;
        }
        match out.last_mut() {
            // Adjacent pieces of one country become one range again.
            Some(last) if last.2 == c && last.1.checked_add(1) == Some(a) => last.1 = b,
            _ => out.push((a, b, c)),
        }
    };
    // Enclosing ranges still open, innermost last; `pos` is the first address not yet emitted.
    let mut open: Vec<(u128, [u8; 2])> = Vec::new();
    let mut pos: Option<u128> = v.first().map(|r| r.0);
    for (lo, hi, code) in v {
        while let Some(&(top_hi, top_code)) = open.last() {
            if top_hi >= lo {
                break;
            }
            if let Some(p) = pos.filter(|p| *p <= top_hi) {
                emit(p, top_hi, top_code);
            }
            pos = pos.map(|p| p.max(top_hi.saturating_add(1)));
            open.pop();
        }
        if let (Some(&(_, top_code)), Some(p)) = (open.last(), pos) {
            if p < lo {
                emit(p, lo - 1, top_code);
            }
        }
        pos = Some(pos.map_or(lo, |p| p.max(lo)));
        open.push((hi, code));
    }
    while let Some((top_hi, top_code)) = open.pop() {
        if let Some(p) = pos.filter(|p| *p <= top_hi) {
            emit(p, top_hi, top_code);
            pos = top_hi.checked_add(1);
        }
    }
    out
}

/// Ranges sorted for binary search, per address family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountryTable {
    v4: Vec<(u32, u32, [u8; 2])>,
    v6: Vec<(u128, u128, [u8; 2])>,
    /// `first,last,country` lines: sorted, not overlapping.
    r4: Vec<(u32, u32, [u8; 2])>,
    r6: Vec<(u128, u128, [u8; 2])>,
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
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let code = |cc: &str| -> Result<[u8; 2], Error> {
                let cc = cc.to_ascii_uppercase();
                let code: [u8; 2] = cc.as_bytes().try_into().map_err(|_| bad())?;
                if !code.iter().all(u8::is_ascii_uppercase) {
                    return Err(bad());
                }
                Ok(code)
            };
            match fields.as_slice() {
                [cidr, cc] => {
                    let net: IpNet = cidr.parse().map_err(|_| bad())?;
                    let code = code(cc)?;
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
                [first, last, cc] => {
                    let first: IpAddr = first.parse().map_err(|_| bad())?;
                    let last: IpAddr = last.parse().map_err(|_| bad())?;
                    let code = code(cc)?;
                    match (first, last) {
                        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                            t.r4.push((u32::from(a), u32::from(b), code))
                        }
                        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                            t.r6.push((u128::from(a), u128::from(b), code))
                        }
                        _ => return Err(bad()),
                    }
                }
                _ => return Err(bad()),
            }
        }
        t.v4.sort();
        t.v4.dedup_by_key(|r| (r.0, r.1));
        t.v6.sort();
        t.v6.dedup_by_key(|r| (r.0, r.1));
        t.r4 = flatten(
            t.r4.iter()
                .map(|&(a, b, c)| (a as u128, b as u128, c))
                .collect(),
        )
        .into_iter()
        .map(|(a, b, c)| (a as u32, b as u32, c))
        .collect();
        t.r6 = flatten(std::mem::take(&mut t.r6));
        Ok(t)
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len() + self.r4.len() + self.r6.len()
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
        /// The range holding `x` among sorted, non-overlapping ranges.
        fn within<T: Ord + Copy>(v: &[(T, T, [u8; 2])], x: T) -> Option<[u8; 2]> {
            let i = v.partition_point(|r| r.0 <= x);
            (i > 0 && v[i - 1].1 >= x).then(|| v[i - 1].2)
        }
        let v4 = |x: u32| find4(&self.v4, x).or_else(|| within(&self.r4, x));
        let code = match ip {
            IpAddr::V4(a) => v4(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(mapped) => v4(u32::from(mapped)),
                None => {
                    let x = u128::from(a);
                    find6(&self.v6, x).or_else(|| within(&self.r6, x))
                }
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

    /// The maintained data sets come as `first,last,country` ranges (ip-location-db's
    /// geo-whois-asn-country, CC0 / NRO data CC BY 4.0): the ends are inclusive, the ranges need
    /// not be CIDR-aligned, a CIDR line overrides them, and overlaps are refused.
    #[test]
    fn first_last_country_ranges_as_the_maintained_data_sets_ship_them() {
        let t = CountryTable::from_csv(
            "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n2001:200::,2001:218:2000:51:ffff:ffff:ffff:ffff,JP\n1.0.2.0/24,JP\n",
        )
        .unwrap();
        let at = |ip: &str| t.country(ip.parse().unwrap());
        assert_eq!(at("1.0.0.0").as_deref(), Some("AU"));
        assert_eq!(at("1.0.0.255").as_deref(), Some("AU"));
        assert_eq!(at("1.0.1.0").as_deref(), Some("CN"));
        assert_eq!(at("1.0.3.255").as_deref(), Some("CN"));
        assert_eq!(
            at("1.0.2.7").as_deref(),
            Some("JP"),
            "the CIDR line decides"
        );
        assert_eq!(at("1.0.4.0"), None);
        assert_eq!(at("2001:210::1").as_deref(), Some("JP"));
        assert_eq!(at("::ffff:1.0.1.9").as_deref(), Some("CN"), "IPv4-mapped");
        // Overlaps in the published data: a nested range decides inside its parent; where two
        // cross, the later start decides from there.
        let o = CountryTable::from_csv(
            "10.0.0.0,10.0.255.255,US\n10.0.1.0,10.0.1.255,JP\n10.0.200.0,10.1.0.255,SG\n",
        )
        .unwrap();
        let at = |ip: &str| o.country(ip.parse().unwrap());
        assert_eq!(at("10.0.0.9").as_deref(), Some("US"));
        assert_eq!(at("10.0.1.9").as_deref(), Some("JP"));
        assert_eq!(at("10.0.2.0").as_deref(), Some("US"));
        assert_eq!(at("10.0.199.255").as_deref(), Some("US"));
        assert_eq!(at("10.0.200.0").as_deref(), Some("SG"));
        assert_eq!(at("10.1.0.255").as_deref(), Some("SG"));
        assert_eq!(at("10.1.1.0"), None);
        assert!(
            CountryTable::from_csv("1.0.0.9,1.0.0.1,AU\n").is_err(),
            "reversed"
        );
        assert!(
            CountryTable::from_csv("1.0.0.0,::1,AU\n").is_err(),
            "mixed families"
        );
    }
}
