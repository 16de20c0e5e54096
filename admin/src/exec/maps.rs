//! Map commands. Every write is one [`Store::update`]: the new snapshot is
//! published before the reply is written, so the next request routes by
//! the new value. In 2.6 map commands need no particular level.

use switchyard_state::{parse_reference, MapError, MapIdx, MapRt, Snapshot};

use super::lookup::{self, str2uic, UNKNOWN_MAP};
use super::{Env, Outcome, SEV_INFO};
use crate::command::{Command, EntryArg};
use crate::render::maps as r;

pub(crate) fn exec(cmd: Command, env: &Env) -> Result<Outcome, Outcome> {
    match cmd {
        Command::ShowMap { ver, map } => {
            let snap = env.store.load();
            // `show map @<ver>` with no map looks the empty name up.
            let Some(name) = map.or_else(|| ver.as_ref().map(|_| String::new())) else {
                return Ok(Outcome::dump(r::map_list(&snap)));
            };
            let m = find(&snap, &name)?;
            let ver = ver.map(|v| str2uic(&v));
            Ok(Outcome::dump(r::map_entries(m, ver)))
        }
        Command::GetMap { map, key } => {
            if map.is_empty() || key.is_empty() {
                return Err(Outcome::err("Missing map identifier and/or key.\n"));
            }
            let snap = env.store.load();
            let m = find(&snap, &map)?;
            Ok(Outcome::dump(r::get_map(m, &key)))
        }
        Command::SetMap { map, entry, value } => {
            let key_missing = matches!(&entry, EntryArg::Key(k) if k.is_empty());
            if map.is_empty() || key_missing || value.is_empty() {
                return Err(Outcome::err(
                    "'set map' expects three parameters: map identifier, key and value.\n",
                ));
            }
            edit(env, &map, |snap, mi| {
                let seq = match &entry {
                    EntryArg::Malformed => {
                        return Err(Outcome::err(
                            "Malformed identifier. Please use #<id> or <file>.\n",
                        ))
                    }
                    EntryArg::Ref(p) => Some(parse_reference(&format!("0x{p:x}"))),
                    EntryArg::Key(_) => None,
                };
                let res = snap.edit_map(mi, |m, resolve| match (&entry, seq) {
                    (_, Some(Some(seq))) => m
                        .set_ref(seq, &value, resolve)
                        .map_err(|_| "key or pattern not found"),
                    (_, Some(None)) => Err("key or pattern not found"),
                    (EntryArg::Key(k), None) => {
                        m.set(k, &value, resolve).map_err(|_| "entry not found")
                    }
                    _ => Err("entry not found"),
                });
                match res {
                    Some(Ok(())) => Ok(Outcome::empty()),
                    Some(Err(e)) => Err(Outcome::err(format!("{e}.\n"))),
                    None => Err(Outcome::err(UNKNOWN_MAP)),
                }
            })
        }
        Command::AddMap {
            ver,
            map,
            key,
            value,
            payload,
        } => add(env, ver, map, key, value, payload),
        Command::DelMap { map, entry } => {
            let key_missing = matches!(&entry, EntryArg::Key(k) if k.is_empty());
            if map.is_empty() || key_missing {
                return Err(Outcome::err(
                    "This command expects two parameters: map identifier and key.\n",
                ));
            }
            edit(env, &map, |snap, mi| {
                let res = snap.edit_map(mi, |m, _| match &entry {
                    EntryArg::Malformed => {
                        Err("Malformed identifier. Please use #<id> or <file>.\n")
                    }
                    EntryArg::Ref(p) => match parse_reference(&format!("0x{p:x}")) {
                        Some(seq) => m.del_ref(seq).map_err(|_| "Key not found.\n"),
                        None => Err("Key not found.\n"),
                    },
                    EntryArg::Key(k) => m.del(k).map_err(|_| "Key not found.\n"),
                });
                match res {
                    Some(Ok(())) => Ok(Outcome::empty()),
                    Some(Err(e)) => Err(Outcome::err(e)),
                    None => Err(Outcome::err(UNKNOWN_MAP)),
                }
            })
        }
        Command::ClearMap { ver, map } => {
            if map.is_empty() {
                return Err(Outcome::err("Missing map identifier.\n"));
            }
            let ver = ver.map(|v| str2uic(&v));
            edit(env, &map, |snap, mi| {
                snap.edit_map(mi, |m, _| {
                    // Clearing a version that does not exist clears nothing.
                    m.clear(ver);
                });
                Ok(Outcome::empty())
            })
        }
        Command::PrepareMap { map } => edit(env, &map, |snap, mi| {
            let v = snap
                .edit_map(mi, |m, _| m.prepare())
                .ok_or_else(|| Outcome::err(UNKNOWN_MAP))?;
            Ok(Outcome::msg(
                SEV_INFO,
                format!("New version created: {v}\n"),
            ))
        }),
        Command::CommitMap { ver, map } => {
            let Some(ver) = ver else {
                return Err(Outcome::err("Missing version number.\n"));
            };
            if map.is_empty() {
                return Err(Outcome::err("Missing map identifier.\n"));
            }
            let ver = str2uic(&ver);
            edit(env, &map, |snap, mi| {
                match snap.edit_map(mi, |m, _| m.commit(ver)) {
                    Some(Ok(())) => Ok(Outcome::empty()),
                    Some(Err(_)) => Err(Outcome::err("Version number out of range.\n")),
                    None => Err(Outcome::err(UNKNOWN_MAP)),
                }
            })
        }
        Command::Acl { verb, args } => acl(&env.store.load(), &verb, &args),
        _ => Err(Outcome::err("Internal error.\n")),
    }
}

fn find<'a>(snap: &'a Snapshot, name: &str) -> Result<&'a MapRt, Outcome> {
    lookup::map(snap, name)
        .and_then(|i| snap.maps.get(i.get()))
        .map(|m| &**m)
        .ok_or_else(|| Outcome::err(UNKNOWN_MAP))
}

/// Look the map up, then edit a copy of the snapshot; published only when
/// `f` succeeds.
fn edit(
    env: &Env,
    map: &str,
    f: impl FnOnce(&mut Snapshot, MapIdx) -> Result<Outcome, Outcome>,
) -> Result<Outcome, Outcome> {
    if lookup::map(&env.store.load(), map).is_none() {
        return Err(Outcome::err(UNKNOWN_MAP));
    }
    env.store.update(|snap| {
        let mi = lookup::map(snap, map).ok_or_else(|| Outcome::err(UNKNOWN_MAP))?;
        f(snap, mi)
    })
}

/// Split a payload into `(key, value)` pairs exactly as HAProxy's
/// `cli_parse_add_map` walks it (the key runs to the first blank, even
/// across a LF; the value runs to the end of the line).
fn payload_pairs(payload: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = String::from_utf8_lossy(payload);
    let s = text.as_bytes();
    let mut out = Vec::new();
    let mut p = 0usize;
    loop {
        if p >= s.len() {
            break;
        }
        let key_start = p;
        let l = s[p..]
            .iter()
            .position(|b| *b == b' ' || *b == b'\t')
            .unwrap_or(s.len() - p);
        p += l;
        if p >= s.len() {
            return Err(format!("Missing value for key '{}'.\n", &text[key_start..]));
        }
        let key = &text[key_start..p];
        p += 1;
        while p < s.len() && (s[p] == b' ' || s[p] == b'\t') {
            p += 1;
        }
        let vstart = p;
        let l = s[p..]
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(s.len() - p);
        let value = &text[vstart..vstart + l];
        p += l;
        if p < s.len() {
            p += 1;
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn add(
    env: &Env,
    ver: Option<String>,
    map: String,
    key: String,
    value: String,
    payload: Option<Vec<u8>>,
) -> Result<Outcome, Outcome> {
    let missing = match &payload {
        None => map.is_empty() || key.is_empty() || value.is_empty(),
        Some(_) => map.is_empty(),
    };
    if missing {
        return Err(Outcome::err(
            "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n",
        ));
    }
    edit(env, &map, |snap, mi| {
        let m = snap
            .maps
            .get(mi.get())
            .ok_or_else(|| Outcome::err(UNKNOWN_MAP))?;
        let target = ver.map(|v| str2uic(&v));
        if target.is_some_and(|v| m.is_future(v)) {
            return Err(Outcome::err(
                "Version number in the future, please use 'prepare map' before.\n",
            ));
        }
        let pairs = match &payload {
            Some(p) => payload_pairs(p).map_err(Outcome::err)?,
            None => vec![(key.clone(), value.clone())],
        };
        let res = snap.edit_map(mi, |m, resolve| -> Result<(), MapError> {
            for (k, v) in &pairs {
                m.add(target, k, v, resolve)?;
            }
            Ok(())
        });
        match res {
            Some(Ok(())) => Ok(Outcome::empty()),
            Some(Err(MapError::BadRegex(e))) => Err(Outcome::err(format!("{e}.\n"))),
            Some(Err(_)) => Err(Outcome::err("Failed to add a key.\n")),
            None => Err(Outcome::err(UNKNOWN_MAP)),
        }
    })
}

/// switchyard keeps no ACL pattern references of its own, but a map is
/// one to HAProxy: `get acl` matches its keys and `add acl` says it is a
/// map's; everything else answers as for an identifier it does not know.
fn acl(snap: &Snapshot, verb: &str, args: &[String]) -> Result<Outcome, Outcome> {
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let unknown = "Unknown ACL identifier. Please use #<id> or <file>.\n";
    let shifted = |i: usize| {
        if a(0).starts_with('@') {
            a(i + 1)
        } else {
            a(i)
        }
    };
    let map = |name: &str| find(snap, name).ok();
    let out = match verb {
        "show" if a(0).is_empty() => return Ok(Outcome::dump("# id (file) description\n")),
        "show" | "prepare" => Outcome::err(unknown),
        "get" if a(0).is_empty() || a(1).is_empty() => {
            Outcome::err("Missing ACL identifier and/or key.\n")
        }
        "get" => match map(a(0)) {
            Some(m) => return Ok(Outcome::dump(r::get_acl(m, a(1)))),
            None => Outcome::err(unknown),
        },
        "add" if shifted(0).is_empty() || shifted(1).is_empty() => {
            Outcome::err("'add acl' expects two parameters: ACL identifier and pattern.\n")
        }
        "add" => match map(shifted(0)) {
            Some(m) if a(0).starts_with('@') && m.is_future(str2uic(&a(0)[1..])) => {
                Outcome::err("Version number in the future, please use 'prepare acl' before.\n")
            }
            Some(_) => Outcome::err(
                "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n",
            ),
            None => Outcome::err(unknown),
        },
        "del" if a(0).is_empty() || a(1).is_empty() => {
            Outcome::err("This command expects two parameters: ACL identifier and key.\n")
        }
        "del" => Outcome::err(UNKNOWN_MAP),
        "clear" if shifted(0).is_empty() => Outcome::err("Missing ACL identifier.\n"),
        "commit" if !a(0).starts_with('@') => Outcome::err("Missing version number.\n"),
        "commit" if a(1).is_empty() => Outcome::err("Missing ACL identifier.\n"),
        _ => Outcome::err(unknown),
    };
    Err(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_walk_matches_haproxy() {
        assert_eq!(
            payload_pairs(b"k1 v1\nk2 v 2").unwrap_or_default(),
            vec![("k1".into(), "v1".into()), ("k2".into(), "v 2".into())]
        );
        assert_eq!(
            payload_pairs(b"k3\tv3").unwrap_or_default(),
            vec![("k3".into(), "v3".into())]
        );
        assert_eq!(
            payload_pairs(b"\n"),
            Err("Missing value for key '\n'.\n".into())
        );
        assert_eq!(
            payload_pairs(b"k"),
            Err("Missing value for key 'k'.\n".into())
        );
        // The key runs across a LF to the first blank.
        assert_eq!(
            payload_pairs(b"k\nk2 v2").unwrap_or_default(),
            vec![("k\nk2".into(), "v2".into())]
        );
    }
}
