//! What the demo prints once everything answers: the seed 000 walkthrough,
//! with this run's ports and map path.

use std::path::Path;

use super::ports::DemoPorts;

pub fn guide(p: &DemoPorts, cfg: &Path, map: &Path) -> String {
    let (px, adm) = (p.proxy, p.admin);
    let map = map.display();
    format!(
        "
switchyard demo is running
  proxy       http://localhost:{px}/   (frontend igw; config {cfg})
  blue        127.0.0.1:{blue}    green 127.0.0.1:{green}   (switchyard-echo)
  Runtime API tcp 127.0.0.1:{adm}   (level admin)

Try next:
  curl localhost:{px}
  echo \"show stat\" | socat stdio tcp4-connect:127.0.0.1:{adm} | cut -d \",\" -f 2,18
  echo \"set map {map} SIMPLE_SERVICE green\" | socat stdio tcp4-connect:127.0.0.1:{adm}
  curl localhost:{px}            # now answered by green
  open http://localhost:{px}/admin   (user admin, password admin)
  hey -n 10000 -c 50 http://localhost:{px}/

Ctrl-C stops the proxy and both upstreams.
",
        cfg = cfg.display(),
        blue = p.blue,
        green = p.green,
    )
}
