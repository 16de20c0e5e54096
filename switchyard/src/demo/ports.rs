//! The demo's four ports: the seed's (8785, 9000, 3000, 4000), or a block
//! starting at `SWITCHYARD_DEMO_PORT_BASE`; a busy one is replaced by a free
//! one, and the user is told.

use std::net::{Ipv4Addr, TcpListener};

pub const PORT_BASE_ENV: &str = "SWITCHYARD_DEMO_PORT_BASE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPorts {
    pub proxy: u16,
    pub admin: u16,
    pub blue: u16,
    pub green: u16,
}

impl DemoPorts {
    /// Wanted ports, from the environment or the seed's defaults.
    pub fn wanted() -> anyhow::Result<DemoPorts> {
        match std::env::var(PORT_BASE_ENV) {
            Ok(base) => {
                let b: u16 = base
                    .trim()
                    .parse()
                    .ok()
                    .filter(|b| *b > 0 && *b < u16::MAX - 3)
                    .ok_or_else(|| {
                        anyhow::anyhow!("{PORT_BASE_ENV}={base} is not a port number")
                    })?;
                Ok(DemoPorts {
                    proxy: b,
                    admin: b + 1,
                    blue: b + 2,
                    green: b + 3,
                })
            }
            Err(_) => Ok(DemoPorts {
                proxy: 8785,
                admin: 9000,
                blue: 3000,
                green: 4000,
            }),
        }
    }

    /// Replace busy ports with free ones, announcing each change.
    pub fn settle(mut self, say: impl Fn(&str)) -> DemoPorts {
        let mut taken = Vec::new();
        for (label, port) in [
            ("proxy", &mut self.proxy),
            ("admin socket", &mut self.admin),
            ("blue", &mut self.blue),
            ("green", &mut self.green),
        ] {
            if !is_free(*port) {
                let new = free_port(&taken);
                say(&format!(
                    "port {port} ({label}) is busy, using {new} instead"
                ));
                *port = new;
            }
            taken.push(*port);
        }
        self
    }
}

fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
        && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A free port below the ephemeral range (so no outgoing connection steals it).
fn free_port(taken: &[u16]) -> u16 {
    (20000..32000)
        .find(|p| !taken.contains(p) && is_free(*p))
        .unwrap_or(0)
}
