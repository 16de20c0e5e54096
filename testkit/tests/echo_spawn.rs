//! `spawn_echo_binary` from a crate other than switchyard-loadtest: the binary is found
//! next to the test executable, or built on demand.

use std::time::Duration;
use switchyard_testkit::{eventually, http_get, spawn_echo_binary, EchoOptions, Signal};

#[test]
fn spawns_the_echo_binary_and_it_echoes() {
    let mut e = spawn_echo_binary(EchoOptions::new("blue").version("v2"));
    let resp = http_get(&e.url("/"), &[]).expect("get");
    assert_eq!(resp.header("x-served-by"), Some("blue"));
    let j = resp.json().expect("json");
    assert_eq!(
        (j["name"].as_str(), j["version"].as_str()),
        (Some("blue"), Some("v2"))
    );
    e.child.signal(Signal::SIGTERM).expect("sigterm");
    let status = eventually(Duration::from_secs(10), Duration::from_millis(10), || {
        e.child.try_wait()
    });
    assert!(status.success());
}
