//! Random Runtime API command lines for the property and differential
//! tests: templates of the commands that change routing, their slots
//! filled from small pools of good and bad values (so that each success
//! and each failure path comes up often), and free-form lines of command
//! words and garbage.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::Rng;

/// The names a config offers, good and bad, per kind of slot. No slot
/// yields `#`, `#0` or `#1` where a map or proxy is named: HAProxy's
/// internal httpclient holds two ACL references there and its CLI frontend
/// answers to them, none of which switchyard has.
pub struct Names<'a> {
    pub map: &'a str,
    pub keys: &'a [&'a str],
    pub values: &'a [&'a str],
    /// `backend/server`.
    pub servers: &'a [&'a str],
    pub frontends: &'a [&'a str],
}

const TEMPLATES: &[&str] = &[
    "set map {map} {key} {val}",
    "set map {map} {ref} {val}",
    "add map {map} {key} {val}",
    "add map {ver} {map} {key} {val}",
    "del map {map} {key}",
    "del map {map} {ref}",
    "clear map {map}",
    "clear map {ver} {map}",
    "prepare map {map}",
    "commit map {ver} {map}",
    "get map {map} {key}",
    "show map {map}",
    "show map {ver} {map}",
    "set server {srv} state {state}",
    "set server {srv} weight {num}",
    "set server {srv} addr {addr}",
    "set server {srv} addr {addr} port {num}",
    "set server {srv} health {health}",
    "set server {srv} agent {health}",
    "set server {srv} check-port {num}",
    "set server {srv} maxconn {num}",
    "set weight {srv} {num}",
    "get weight {srv}",
    "set maxconn server {srv} {num}",
    "enable server {srv}",
    "disable server {srv}",
    "enable health {srv}",
    "disable health {srv}",
    "shutdown sessions server {srv}",
    "disable frontend {fe}",
    "enable frontend {fe}",
    "set maxconn frontend {fe} {num}",
];

/// Free-form arguments: numbers at and past every limit, quoting and
/// escapes, separators.
const ARGS: &[&str] = &[
    "#2",
    "#9",
    "#-1",
    "0x1",
    "0",
    "1",
    "-1",
    "100",
    "256",
    "257",
    "4294967296",
    "99999999999999999999",
    "5x",
    "abc",
    "%",
    "50%",
    "101%",
    "state",
    "ready",
    "drain",
    "maint",
    "weight",
    "addr",
    "port",
    "127.0.0.1",
    "::1",
    "[::1]",
    "health",
    "up",
    "down",
    "agent",
    "on",
    "off",
    "all",
    "\"a b\"",
    "'x y'",
    "\\",
    "\\;",
    ";",
    "\"",
    "'",
    "",
    "  ",
    "\t",
    "*",
    "-",
    "--",
    "server",
    "frontend",
    "backend",
    "level",
    "admin",
    "map",
    "stat",
    "servers",
    "typed",
    "json",
];

/// One command line: a template half the time, else free-form words,
/// starting (mostly) with one of `commands`.
pub fn line(rng: &mut StdRng, names: &Names, commands: &[String]) -> String {
    if commands.is_empty() || rng.gen_bool(0.5) {
        let t = TEMPLATES[rng.gen_range(0..TEMPLATES.len())];
        return fill(rng, t, names);
    }
    let mut words: Vec<String> = Vec::new();
    if rng.gen_bool(0.9) {
        words.push(commands[rng.gen_range(0..commands.len())].clone());
    }
    for _ in 0..rng.gen_range(0..6) {
        words.push(match rng.gen_range(0..20) {
            // Printable noise, without `#` (see `Names`).
            0 => (0..rng.gen_range(1..6))
                .map(|_| char::from(rng.gen_range(0x20u8..0x7f)))
                .map(|c| if c == '#' { '%' } else { c })
                .collect(),
            1 => String::from_utf8_lossy(&[rng.gen::<u8>(), rng.gen::<u8>()]).into_owned(),
            2 => names.map.to_string(),
            3 => pick(rng, names.servers),
            _ => pick(rng, ARGS),
        });
    }
    words.join(" ").replace(['\n', '\r'], " ")
}

fn pick(rng: &mut StdRng, from: &[&str]) -> String {
    from[rng.gen_range(0..from.len())].to_string()
}

fn fill(rng: &mut StdRng, template: &str, n: &Names) -> String {
    let mut out = template.to_string();
    while let Some(at) = out.find('{') {
        let Some(end) = out[at..].find('}') else {
            break;
        };
        let v = match &out[at + 1..at + end] {
            // Not #0 or #1: HAProxy's httpclient holds two hidden ACL
            // references there, which switchyard does not have.
            "map" => pick(
                rng,
                &[n.map, n.map, n.map, "#-1", "#2", "#9", "/nope.map", ""],
            ),
            "key" => pick(rng, n.keys),
            "val" => pick(rng, n.values),
            "ref" => pick(rng, &["#0x1", "#0x", "#zz"]),
            "ver" => pick(
                rng,
                &["@0", "@1", "@2", "@-1", "@x", "@99999999999999999999"],
            ),
            "srv" => pick(rng, n.servers),
            "state" => pick(rng, &["ready", "drain", "maint", "up", ""]),
            "health" => pick(rng, &["up", "down", "stopping", "sideways"]),
            "num" => pick(
                rng,
                &[
                    "0",
                    "1",
                    "10",
                    "256",
                    "257",
                    "-1",
                    "50%",
                    "101%",
                    "5x",
                    "99999999999999999999",
                    "",
                ],
            ),
            "addr" => pick(rng, &["127.0.0.2", "::1", "256.1.1.1", "", "127.0.0.1:80"]),
            _ => pick(rng, n.frontends),
        };
        out.replace_range(at..at + end + 1, &v);
    }
    out
}
