//! Where a request comes from: the peer address, or — only when the peer is one of the configured
//! trusted proxies — the address the proxies recorded in `X-Forwarded-For`. The IP rules and the
//! throttles use this address, so a stranger cannot choose it by sending the header themselves.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The source of a request from `peer` with `headers`, given the trusted proxies.
///
/// `X-Forwarded-For` is read from the right: each trusted proxy appends the address it got the
/// request from, so the first address from the right that is not itself a trusted proxy is the
/// client. An unreadable header from a trusted proxy falls back to the proxy's address (which
/// the rules then judge — a misconfigured proxy is refused, not trusted blindly).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                Err(_) => return peer,
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let h = headers(&["203.0.113.7"]);
        // From the proxy: the client it names.
        assert_eq!(
            client_address(proxy, &h, &trusted).to_string(),
            "203.0.113.7"
        );
        // From anyone else: the header is ignored.
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(client_address(stranger, &h, &trusted), stranger);
        // No proxies configured: never believed.
        assert_eq!(client_address(proxy, &h, &[]), proxy);
    }

    #[test]
    fn a_forged_left_part_is_not_believed() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        // The client sent "1.2.3.4" itself; the proxy appended the real peer.
        let h = headers(&["1.2.3.4, 203.0.113.7", "10.0.0.4"]);
        assert_eq!(
            client_address(proxy, &h, &trusted).to_string(),
            "203.0.113.7"
        );
        // Garbage from a trusted proxy: the proxy's own address.
        assert_eq!(
            client_address(proxy, &headers(&["nonsense"]), &trusted),
            proxy
        );
    }
}
