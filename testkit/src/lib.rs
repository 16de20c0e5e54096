//! switchyard-testkit: helpers for the workspace's integration tests — real processes and
//! real loopback sockets, never mocks.
//!
//! - [`eventually`] / [`eventually_async`]: poll a condition instead of sleeping.
//! - [`fuzz_iters_and_seed`]: a randomized test's count and seed (fixed, or from the clock
//!   for `scripts/long.sh`).
//! - [`free_port`] / [`free_ports`]: ports below 32768 for configs that need them.
//! - [`ChildGuard`]: a child process stopped on drop, with its output captured.
//! - [`FakeUpstream`]: an in-process upstream with switchable [`Behavior`].
//! - [`spawn_echo_binary`]: the real `switchyard-echo` demo upstream as a process.
//! - [`Proxy`] / [`ProxyKind`]: HAProxy or switchyard on the same config text.
//! - [`cli`] / [`socat`]: the Runtime API as the seeds' scripts drive it.
//! - [`http_get`], [`KeepAliveClient`]: a blocking HTTP/1.1 client.
//! - [`run_hey`]: the real `hey` and its parsed summary; [`BackgroundHey`]: hey as load
//!   during a test's steps, interrupted (it still reports) when they are done.
//! - [`dns::TestDns`] and the `switchyard-testdns` binary: a hickory-server DNS server
//!   answering fixed A/AAAA records (seed 000's `resolvers` section).
//! - [`netns::run_in_namespaces`]: a driver script as PID 1 of fresh net/mount/PID
//!   namespaces, so seed configs naming real addresses and paths run unchanged.

mod binaries;
mod child;
mod cli;
pub mod dns;
mod echo_bin;
mod eventually;
mod fuzz;
mod hey;
mod hey_bg;
pub mod http1;
mod http_client;
mod net;
pub mod netns;
mod output;
mod ports;
mod proxy;
pub mod upstream;

pub use binaries::{find_binary, find_or_build_binary, target_profile_dir};
pub use child::{ChildGuard, DEFAULT_STOP_TIMEOUT};
pub use cli::{
    cli, cli_raw, parse_cli_addr, socat, socat_address, socat_available, try_cli, try_socat,
    CliAddr, CLI_TIMEOUT,
};
pub use echo_bin::{echo_binary_path, spawn_echo_binary, EchoOptions, EchoProcess, ECHO_BIN_ENV};
pub use eventually::{
    eventually, eventually_async, eventually_async_named, eventually_named, Outcome,
};
pub use fuzz::fuzz_iters_and_seed;
pub use hey::{hey_available, parse_hey, run_hey, try_run_hey, HeySummary};
pub use hey_bg::BackgroundHey;
pub use http_client::{
    encode_request, http_get, http_request, parse_url, read_response, HttpResponse,
    KeepAliveClient, DEFAULT_TIMEOUT,
};
pub use net::{can_connect, loopback, wait_for_port};
pub use nix::sys::signal::Signal;
pub use output::{LinePattern, Output, Stream};
pub use ports::{free_port, free_ports, port_is_free};
pub use proxy::{haproxy_available, Proxy, ProxyBuilder, ProxyKind, DIR_PLACEHOLDER, HAPROXY_PATH};
pub use upstream::{
    Behavior, FakeUpstream, FakeUpstreamBuilder, RequestHead, TestPki, TlsUpstream,
};
