//! Keyword lookup and the usage messages (`help`, unknown command), ported
//! from HAProxy 2.6's `cli_find_kw` and `cli_gen_usage_msg` so the fuzzy
//! suggestions match byte for byte.

use super::kw_table::KEYWORDS;

/// One CLI keyword: up to 5 words, its help line, its ACCESS_* bits.
#[derive(Debug)]
pub(crate) struct Kw {
    pub words: &'static [&'static str],
    pub usage: Option<&'static str>,
    pub level: u16,
}

/// HAProxy's ACCESS_* bits that matter to a worker CLI.
pub(crate) const ACCESS_MASTER_ONLY: u16 = 0x10;
pub(crate) const ACCESS_EXPERT: u16 = 0x20;
pub(crate) const ACCESS_EXPERIMENTAL: u16 = 0x40;

const PREFIX_KW_NB: usize = 5;
const MAX_MATCHES: usize = 5;

/// Mode bits of a session (`expert-mode on` / `experimental-mode on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModeBits {
    pub expert: bool,
    pub experimental: bool,
}

impl ModeBits {
    fn bits(self) -> u16 {
        (if self.expert { ACCESS_EXPERT } else { 0 })
            | (if self.experimental {
                ACCESS_EXPERIMENTAL
            } else {
                0
            })
    }
}

/// The outcome of looking the first words of a request up.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(&'static Kw),
    /// Unknown (or master-only) command: the usage message to print.
    Usage(String),
    ExpertOnly,
    ExperimentalOnly,
}

fn arg(args: &[Vec<u8>], i: usize) -> &[u8] {
    args.get(i).map(|a| a.as_slice()).unwrap_or(b"")
}

/// `cli_find_kw`: the first keyword, in registration order, whose words all
/// equal the leading arguments.
fn find_kw(args: &[Vec<u8>]) -> Option<&'static Kw> {
    KEYWORDS.iter().find(|kw| {
        kw.words
            .iter()
            .enumerate()
            .all(|(i, w)| w.as_bytes() == arg(args, i))
    })
}

/// Dispatch a request's words to a keyword, as `cli_parse_request` does.
pub(crate) fn lookup(args: &[Vec<u8>], mode: ModeBits) -> Lookup {
    let Some(kw) = find_kw(args) else {
        return Lookup::Usage(usage_msg(args, mode));
    };
    if kw.level & ACCESS_MASTER_ONLY != 0 {
        return Lookup::Usage(usage_msg(args, mode));
    }
    let lvl = mode.bits();
    if kw.level & !lvl & ACCESS_EXPERT != 0 {
        return Lookup::ExpertOnly;
    }
    if kw.level & !lvl & ACCESS_EXPERIMENTAL != 0 {
        return Lookup::ExperimentalOnly;
    }
    Lookup::Found(kw)
}

fn visible(kw: &Kw, mode: ModeBits) -> bool {
    kw.level & !mode.bits() & (ACCESS_MASTER_ONLY | ACCESS_EXPERT | ACCESS_EXPERIMENTAL) == 0
}

/// HAProxy's `update_word_fingerprint`: letter-pair counts in a 32x32 table.
fn update_fingerprint(fp: &mut [u8; 1024], word: &[u8]) {
    let class = |c: u8| -> usize {
        match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => usize::from(c - b'a' + 1),
            b'0'..=b'9' => 27,
            _ => 28,
        }
    };
    let mut from = 28usize;
    for &c in word {
        let to = class(c);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    let to = 28;
    fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
}

fn fingerprint_distance(a: &[u8; 1024], b: &[u8; 1024]) -> i64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (i64::from(*x) - i64::from(*y)).abs())
        .sum()
}

/// `cli_gen_usage_msg`: the `help` text (when `args[0]` is `help`), or the
/// unknown-command text with fuzzy suggestions.
pub(crate) fn usage_msg(args: &[Vec<u8>], mode: ModeBits) -> String {
    let (args, ishelp) = match args.first() {
        Some(a) if a.as_slice() == b"help" => (&args[1..], true),
        _ => (args, false),
    };

    // The number of leading words that exactly match some visible keyword.
    let mut length = 0usize;
    for kw in KEYWORDS.iter().filter(|k| visible(k, mode)) {
        for idx in 0..PREFIX_KW_NB {
            let Some(w) = kw.words.get(idx) else { break };
            let a = arg(args, idx);
            if a.is_empty() || w.as_bytes() != a {
                break;
            }
            length = length.max(idx + 1);
        }
    }

    let mut out = String::new();
    if ishelp {
        out.push_str("The following commands are valid at this level:\n");
    } else if length == 0 && arg(args, 0).is_empty() {
        out.push_str("Unknown command. Please enter one of the following commands only:\n");
    } else {
        out.push_str("Unknown command, but maybe one of the following ones is a better match:\n");
    }

    let prefix_matches = |kw: &Kw| -> bool {
        let mut idx = 0;
        while idx < length {
            let Some(w) = kw.words.get(idx) else { break };
            let a = arg(args, idx);
            if a.is_empty() || w.as_bytes() != a {
                break;
            }
            idx += 1;
        }
        idx == length
    };

    let mut matches: Vec<(&'static Kw, i64)> = Vec::with_capacity(MAX_MATCHES);
    if !arg(args, length).is_empty() {
        for kw in KEYWORDS.iter().filter(|k| visible(k, mode)) {
            if kw.usage.is_none() || !prefix_matches(kw) {
                continue;
            }
            let mut word_sig = [0u8; 1024];
            let mut list_sig = [0u8; 1024];
            let mut totlen = 0i64;
            for i in length..PREFIX_KW_NB {
                let a = arg(args, i);
                if a.is_empty() {
                    break;
                }
                update_fingerprint(&mut word_sig, a);
                totlen += a.len() as i64;
            }
            for w in kw
                .words
                .iter()
                .skip(length)
                .take(PREFIX_KW_NB.saturating_sub(length))
            {
                update_fingerprint(&mut list_sig, w.as_bytes());
                totlen += w.len() as i64;
            }
            let dist = fingerprint_distance(&word_sig, &list_sig);
            let worst = if matches.len() < MAX_MATCHES {
                i64::MAX
            } else {
                matches[MAX_MATCHES - 1].1
            };
            if dist < 5 * totlen / 2 && dist < worst {
                if matches.len() == MAX_MATCHES {
                    matches.pop();
                }
                // Insert after every entry with a distance <= dist (stable).
                let pos = matches
                    .iter()
                    .position(|m| m.1 > dist)
                    .unwrap_or(matches.len());
                matches.insert(pos, (kw, dist));
            }
        }
    }

    let mut entries: Vec<&'static Kw> = Vec::new();
    if let Some(best) = matches.first().map(|m| m.1) {
        for (kw, dist) in &matches {
            if *dist > 5 * best / 2 {
                break;
            }
            entries.push(kw);
        }
    } else {
        entries.extend(
            KEYWORDS
                .iter()
                .filter(|k| visible(k, mode) && k.usage.is_some() && prefix_matches(k)),
        );
    }
    entries.sort_by(|a, b| {
        a.usage
            .unwrap_or("")
            .as_bytes()
            .cmp(b.usage.unwrap_or("").as_bytes())
    });
    for kw in entries {
        out.push_str("  ");
        out.push_str(kw.usage.unwrap_or(""));
        out.push('\n');
    }
    out.push_str(
        "  help [<command>]                        : list matching or all commands\n  \
         prompt                                  : toggle interactive mode with prompt\n  \
         quit                                    : disconnect\n",
    );
    out
}

/// The keyword's words joined by spaces (`"set server"`), for dispatch.
pub(crate) fn kw_name(kw: &Kw) -> String {
    kw.words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<Vec<u8>> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(|x| x.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn help_matches_capture() {
        let help = usage_msg(&w("help"), ModeBits::default());
        let cap = include_str!("../../tests/data/cli-help.txt");
        assert_eq!(format!("{help}\n"), cap);
    }

    #[test]
    fn unknown_word_matches_capture() {
        let msg = usage_msg(&w("xyzzy"), ModeBits::default());
        let cap = include_str!("../../tests/data/cli-unknown-command.txt");
        assert_eq!(format!("{msg}\n"), cap);
    }

    #[test]
    fn empty_line_lists_everything() {
        let msg = usage_msg(&[], ModeBits::default());
        let cap = include_str!("../../tests/data/cli-empty-line.txt");
        assert_eq!(format!("{msg}\n"), cap);
    }

    #[test]
    fn show_foo_suggests_show_commands() {
        let msg = usage_msg(&w("show foo"), ModeBits::default());
        for l in [
            "show env",
            "show fd",
            "show info",
            "show pools",
            "show sess",
        ] {
            assert!(msg.contains(&format!("  {l} ")), "{l} missing in {msg}");
        }
    }

    #[test]
    fn lookup_is_case_sensitive_and_exact() {
        assert!(matches!(
            lookup(&w("show cli level"), ModeBits::default()),
            Lookup::Found(_)
        ));
        assert!(matches!(
            lookup(&w("SHOW CLI LEVEL"), ModeBits::default()),
            Lookup::Usage(_)
        ));
        assert!(matches!(
            lookup(&w("show proc"), ModeBits::default()),
            Lookup::Usage(_)
        ));
        assert!(matches!(
            lookup(&w("debug dev panic"), ModeBits::default()),
            Lookup::ExpertOnly
        ));
        assert!(matches!(
            lookup(&w("set var x"), ModeBits::default()),
            Lookup::ExperimentalOnly
        ));
    }
}
