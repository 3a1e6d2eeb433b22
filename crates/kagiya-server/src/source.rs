//! Where a request comes from: the peer address, or — only when the peer is one of the configured
//! trusted proxies — the address the proxies recorded in `X-Forwarded-For`. The IP rules and the
//! throttles use this address, so a stranger cannot choose it by sending the header themselves.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The source of a request from `peer` with `headers`, given the trusted proxies; `None` when a
/// trusted proxy forwarded a header that cannot be read where it matters (the request is then
/// refused rather than judged as coming from the proxy).
///
/// `X-Forwarded-For` is read from the right: each trusted proxy appends the address it got the
/// request from, so the first address from the right that is not itself a trusted proxy is the
/// client. What lies to the left of it was written by the client and is never looked at — so a
/// client's own garbage there changes nothing. Addresses are compared in canonical form (an
/// IPv4-mapped IPv6 peer is its IPv4 address).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.to_str().ok()?.split(','));
    }
    for hop in hops.iter().rev() {
        let ip = hop.trim().parse::<IpAddr>().ok()?.to_canonical();
        if !is_trusted(&ip) {
            return Some(ip);
        }
    }
    // Only proxies (or no header): the request came from the proxy itself.
    Some(peer)
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.5");
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let h = headers(&["203.0.113.7"]);
        // From the proxy: the client it names.
        assert_eq!(client_address(proxy, &h, &trusted), Some(ip("203.0.113.7")));
        // From anyone else: the header is ignored.
        let stranger = ip("198.51.100.9");
        assert_eq!(client_address(stranger, &h, &trusted), Some(stranger));
        // No proxies configured: never believed.
        assert_eq!(client_address(proxy, &h, &[]), Some(proxy));
        // An IPv4-mapped peer on a dual-stack listener is the proxy all the same.
        let mapped = ip("::ffff:10.0.0.5");
        assert_eq!(
            client_address(mapped, &h, &trusted),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn a_forged_left_part_is_not_believed_and_garbage_is_not_the_proxy() {
        let proxy = ip("10.0.0.5");
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        // The client sent "1.2.3.4" itself; the proxies appended the real peers.
        let h = headers(&["1.2.3.4, 203.0.113.7", "10.0.0.4"]);
        assert_eq!(client_address(proxy, &h, &trusted), Some(ip("203.0.113.7")));
        // The client's own garbage on the left (nginx keeps it): the client all the same, never
        // the proxy — a deny rule for the client's network still holds.
        let h = headers(&["x, 203.0.113.7"]);
        assert_eq!(client_address(proxy, &h, &trusted), Some(ip("203.0.113.7")));
        // Garbage where the client should be: refused, not judged as the proxy.
        assert_eq!(
            client_address(proxy, &headers(&["nonsense"]), &trusted),
            None
        );
    }
}
