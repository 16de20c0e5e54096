//! Dropping root after the sockets are bound (`user`/`group`/`uid`/`gid`
//! in `global`). Only a root process changes identity; otherwise the settings
//! are ignored, as HAProxy does.

use anyhow::{anyhow, Context};
use nix::unistd::{self, Gid, Group, Uid, User};
use switchyard_config::Global;

pub fn drop_privileges(g: &Global) -> anyhow::Result<()> {
    if !unistd::geteuid().is_root() {
        return Ok(());
    }
    let gid = match (g.gid, &g.group) {
        (Some(gid), _) => Some(Gid::from_raw(gid)),
        (None, Some(name)) => Some(
            Group::from_name(name)
                .with_context(|| format!("looking up group '{name}'"))?
                .ok_or_else(|| anyhow!("cannot find group id for '{name}'"))?
                .gid,
        ),
        (None, None) => None,
    };
    let user = match (g.uid, &g.user) {
        (Some(uid), _) => Some((Uid::from_raw(uid), None)),
        (None, Some(name)) => {
            let u = User::from_name(name)
                .with_context(|| format!("looking up user '{name}'"))?
                .ok_or_else(|| anyhow!("cannot find user id for '{name}'"))?;
            Some((u.uid, Some(u)))
        }
        (None, None) => None,
    };
    // Group first: after setuid we may no longer change it.
    if let Some(gid) = gid {
        unistd::setgroups(&[gid]).context("setgroups")?;
        unistd::setgid(gid).with_context(|| format!("[haproxy.main()] Cannot set gid {gid}"))?;
    }
    if let Some((uid, _)) = user {
        unistd::setuid(uid).with_context(|| format!("[haproxy.main()] Cannot set uid {uid}"))?;
    }
    Ok(())
}
