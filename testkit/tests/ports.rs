use std::collections::HashSet;
use std::net::TcpListener;
use switchyard_testkit::{free_port, free_ports, port_is_free};

#[test]
fn ports_are_low_distinct_and_bindable() {
    let ports = free_ports(50);
    let distinct: HashSet<_> = ports.iter().collect();
    assert_eq!(distinct.len(), 50);
    for p in &ports {
        assert!((10_000..32_000).contains(p), "{p}");
    }
    let p = free_port();
    let _l = TcpListener::bind(("127.0.0.1", p)).expect("bind free port");
    assert!(!port_is_free(p));
}
