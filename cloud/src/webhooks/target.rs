//! Where a webhook may be sent. An organizer names the address and the hub makes the request,
//! so an address inside the hub's own network would let anyone with an account reach it
//! (server-side request forgery: the cloud's metadata service at 169.254.169.254, a database's
//! admin port, the hub itself). In production an endpoint must be `https` to a host name or
//! address that is public; every address the name resolves to must be public too, checked
//! again at each delivery (a name can be re-pointed after it was saved). For development and
//! the tests, a setting allows plain `http` and private addresses.
//!
//! Written here rather than with `IpAddr::is_global` (not stable in the standard library) or
//! a crate: the ranges are the IANA special-purpose registries', listed below with why.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an endpoint's address was refused, in words an organizer can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadTarget {
    /// Not an absolute `http(s)` URL with a host, or longer than 2,000 characters.
    #[error("not an http(s) address with a host name")]
    NotHttp,
    /// User name or password in the address: secrets do not belong in a URL that is shown.
    #[error("the address may not carry a user name or password")]
    Credentials,
    /// Plain `http` in production.
    #[error("the address must start with https://")]
    NotHttps,
    /// Loopback, private, link-local or otherwise not on the public internet.
    #[error("the address points into a private network, not the public internet")]
    Private,
}

/// Checks an endpoint's URL as written (its host, if an address, must be public unless
/// `allow_private`); the names it resolves to are checked by [`public`] at delivery.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, BadTarget> {
    let url = Url::parse(text).map_err(|_| BadTarget::NotHttp)?;
    if text.len() > 2_000
        || !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
    {
        return Err(BadTarget::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BadTarget::Credentials);
    }
    if allow_private {
        return Ok(url);
    }
    if url.scheme() != "https" {
        return Err(BadTarget::NotHttps);
    }
    let host = url.host_str().unwrap_or_default().trim_end_matches('.').to_ascii_lowercase();
    // An address written as the host ("[::1]" for IPv6); the URL parser has normalised it.
    let literal: Option<IpAddr> = host.trim_start_matches('[').trim_end_matches(']').parse().ok();
    if literal.is_some_and(|ip| !public(ip)) || host == "localhost" || host.ends_with(".localhost") {
        return Err(BadTarget::Private);
    }
    Ok(url)
}

/// Whether `ip` is on the public internet (not any special-purpose range).
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                  // "this network" (0.0.0.0/8)
        || a == 10                            // private
        || a == 127                           // loopback
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, shared (100.64.0.0/10)
        || (a == 169 && b == 254)             // link-local: cloud metadata services
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)     // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)     // documentation
        || (a == 192 && b == 88 && c == 99)   // 6to4 relay anycast
        || (a == 192 && b == 168)             // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)  // documentation
        || (a == 203 && b == 0 && c == 113)   // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn public_v6(ip: Ipv6Addr) -> bool {
    // An IPv4 address inside IPv6 (mapped ::ffff:a.b.c.d, or the NAT64 prefix 64:ff9b::/96)
    // reaches that IPv4 address: judged as it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let (high, low) = (s[6].to_be_bytes(), s[7].to_be_bytes());
        return public_v4(Ipv4Addr::new(high[0], high[1], low[0], low[1]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0]      // IPv4-compatible (deprecated) and ::/96
        || (s[0] & 0xfe00) == 0xfc00          // unique local (fc00::/7)
        || (s[0] & 0xffc0) == 0xfe80          // link-local (fe80::/10)
        || (s[0] & 0xffc0) == 0xfec0          // site-local, deprecated (fec0::/10)
        || (s[0] & 0xff00) == 0xff00          // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only (100::/64)
        || s[0] == 0x2002) // 6to4: wraps an IPv4 address of any kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused_public_ones_pass() {
        let refused = [
            "0.0.0.0",
            "10.1.2.3",
            "127.0.0.1",
            "100.64.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2002:c0a8:101::1",
            "::127.0.0.1",
        ];
        for ip in refused {
            assert!(!public(ip.parse().unwrap()), "{ip} is not public");
        }
        let passed = [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ];
        for ip in passed {
            assert!(public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn production_takes_public_https_addresses_only_development_anything_http() {
        assert!(check_url("https://partner.example.com/hooks/voelgoed", false).is_ok());
        assert!(check_url("https://93.184.216.34/hook", false).is_ok());
        for (url, why) in [
            ("http://partner.example.com/hook", BadTarget::NotHttps),
            ("https://localhost/hook", BadTarget::Private),
            ("https://api.localhost./hook", BadTarget::Private),
            ("https://127.0.0.1:8080/hook", BadTarget::Private),
            ("https://[::1]/hook", BadTarget::Private),
            ("https://169.254.169.254/latest/meta-data", BadTarget::Private),
            ("https://[::ffff:192.168.0.1]/", BadTarget::Private),
            ("https://user:pw@partner.example.com/", BadTarget::Credentials),
            ("ftp://partner.example.com/", BadTarget::NotHttp),
            ("partner.example.com/hook", BadTarget::NotHttp),
            ("file:///etc/passwd", BadTarget::NotHttp),
        ] {
            assert_eq!(check_url(url, false).map(|_| ()), Err(why), "{url}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert_eq!(check_url("https://user@127.0.0.1/", true).map(|_| ()), Err(BadTarget::Credentials));
        assert_eq!(
            check_url(&format!("https://example.com/{}", "a".repeat(2_000)), false).map(|_| ()),
            Err(BadTarget::NotHttp)
        );
    }
}
