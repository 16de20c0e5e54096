//! Test-only builders for config model values, through the real parser so
//! they follow the model as it grows.

use switchyard_config::Server;

/// A server with HAProxy's defaults: `inter 2s rise 2 fall 3 weight 1`.
pub(crate) fn server(name: &str) -> Server {
    let text = format!("backend b\n    server {name} 127.0.0.1:80 check\n");
    let cfg = switchyard_config::parse_str("test.cfg", &text).expect("test config parses");
    cfg.proxies[0]
        .backend
        .as_ref()
        .expect("backend side")
        .servers[0]
        .clone()
}
