//! Server hostnames resolved once at load time through the system resolver
//! (HAProxy's `init-addr libc`): the first getaddrinfo answer wins, as in
//! HAProxy, so `localhost` may well become `::1`.

use std::net::{IpAddr, ToSocketAddrs};

pub fn libc_resolve(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    // `[::1]` is written with brackets in configs.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(ip);
    }
    (bare, 0).to_socket_addrs().ok()?.next().map(|sa| sa.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_localhost() {
        assert_eq!(
            libc_resolve("127.0.0.1"),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        assert_eq!(libc_resolve("[::1]"), "::1".parse().ok());
        assert!(libc_resolve("localhost").is_some_and(|ip| ip.is_loopback()));
        assert_eq!(libc_resolve("no-such-host.invalid"), None);
    }
}
