//! Garbage never panics the parser: truncated, shuffled, byte-flipped and
//! random-token variants of the seed and fixture configs all come back as
//! `Ok` or `Err`. Seeded, so a failure is reproducible.

mod common;

use common::{cfg_files, fixtures};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOKENS: &[&str] = &[
    "frontend",
    "backend",
    "listen",
    "defaults",
    "global",
    "resolvers",
    "bind",
    "server",
    "use_backend",
    "default_backend",
    "acl",
    "if",
    "unless",
    "{",
    "}",
    "!",
    "||",
    "or",
    "%[",
    "]",
    "(",
    ")",
    ",",
    "\"",
    "'",
    "\\",
    "#",
    "${",
    "$",
    ".if",
    ".endif",
    ".else",
    "http-request",
    "return",
    "status",
    "map(",
    "str(",
    "127.0.0.1:",
    ":",
    "[::1]",
    "unix@",
    "ipv6@",
    "check",
    "inter",
    "1s",
    "99999999999999",
    "-1",
    "",
    " ",
    "\t",
    "\n",
    "timeout",
    "option",
    "httpchk",
    "http-check",
    "send",
    "expect",
    "cookie",
    "retry-on",
    "no",
    "default",
    "stats",
    "socket",
    "log",
    "balance",
    "uri",
    "random(",
    "hdr(",
    "path_beg",
    "-m",
    "-i",
    "-f",
    "-u",
    "from",
    "%",
    "%{",
    "%{+Q}",
    "\u{e9}",
    "\x00",
];

fn corpus() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for dir in ["good", "bad", "seeds"] {
        for f in cfg_files(dir) {
            v.push(String::from_utf8_lossy(&std::fs::read(f).expect("read")).into_owned());
        }
    }
    assert!(!v.is_empty(), "no corpus under {}", fixtures().display());
    v
}

fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    match rng.gen_range(0..6) {
        0 => {
            let cut = rng.gen_range(0..=s.len());
            s.truncate(cut);
        }
        1 => {
            for _ in 0..rng.gen_range(1..20) {
                if s.is_empty() {
                    break;
                }
                let i = rng.gen_range(0..s.len());
                s[i] = char::from(rng.gen_range(0u8..128));
            }
        }
        2 => {
            for _ in 0..rng.gen_range(1..10) {
                let i = rng.gen_range(0..=s.len());
                let tok = TOKENS[rng.gen_range(0..TOKENS.len())];
                for (k, c) in tok.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
        }
        3 => {
            let mut lines: Vec<&str> = text.lines().collect();
            for _ in 0..rng.gen_range(1..5) {
                if lines.len() < 2 {
                    break;
                }
                let a = rng.gen_range(0..lines.len());
                let b = rng.gen_range(0..lines.len());
                lines.swap(a, b);
            }
            return lines.join("\n");
        }
        4 => {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for line in lines.iter_mut() {
                if rng.gen_bool(0.2) {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    let keep = rng.gen_range(0..=words.len());
                    *line = words[..keep].join(" ");
                }
            }
            return lines.join("\n");
        }
        _ => {
            let n = rng.gen_range(1..60);
            let mut out = String::new();
            for _ in 0..n {
                out.push_str(TOKENS[rng.gen_range(0..TOKENS.len())]);
                out.push(if rng.gen_bool(0.2) { '\n' } else { ' ' });
            }
            return out;
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_configs_never_panic() {
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(0x5317_c4a9);
    for round in 0..3000 {
        let base = &corpus[round % corpus.len()];
        let text = mutate(&mut rng, base);
        let result = std::panic::catch_unwind(|| switchyard_config::parse_str("fuzz.cfg", &text));
        assert!(result.is_ok(), "panic on round {round} with input:\n{text}");
    }
}

#[test]
fn every_prefix_of_a_seed_is_handled() {
    let text = std::fs::read_to_string(fixtures().join("good/acl_conditions.cfg")).expect("read");
    for (i, _) in text.char_indices() {
        let _ = switchyard_config::parse_str("prefix.cfg", &text[..i]);
    }
}
