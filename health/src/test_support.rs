//! Test-only builders for config model values.

use std::time::Duration;

use switchyard_config::{Location, OnError, Server, ServerAddr};

/// A server with HAProxy's defaults: `inter 2s rise 2 fall 3 weight 1`.
pub(crate) fn server(name: &str) -> Server {
    Server {
        name: name.to_string(),
        id: 1,
        location: Location::default(),
        addr: ServerAddr { host: "127.0.0.1".into(), ip: Some([127, 0, 0, 1].into()), port: Some(80) },
        check: true,
        inter: Duration::from_secs(2),
        fastinter: None,
        downinter: None,
        rise: 2,
        fall: 3,
        slowstart: None,
        weight: 1,
        maxconn: None,
        maxqueue: None,
        backup: false,
        cookie: None,
        resolvers: None,
        init_addr: Vec::new(),
        resolve_prefer: None,
        disabled: false,
        observe: None,
        error_limit: 10,
        on_error: OnError::FailCheck,
        on_marked_down_shutdown: false,
        on_marked_up_shutdown_backup: false,
        check_port: None,
        check_addr: None,
        agent_port: None,
        agent_inter: None,
        agent_send: None,
        track: None,
        ssl: false,
        verify: None,
        sni: None,
        alpn: Vec::new(),
        proto_h2: false,
        send_proxy: false,
        forced_id: false,
        agent_check: false,
        ca_file: None,
    }
}
