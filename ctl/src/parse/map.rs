//! `show map <map>`: one `0x<ref> <key> <value>` line per entry, then an empty line.
//! Keys never hold blanks (they are one CLI word); the value is the rest of the line.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapEntry {
    pub reference: String,
    pub key: String,
    pub value: String,
}

pub fn parse_show_map(reply: &str) -> Result<Vec<MapEntry>, String> {
    let mut out = Vec::new();
    for line in reply.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (Some(reference), Some(key)) = (parts.next(), parts.next()) else {
            return Err(line.trim().to_owned());
        };
        if !is_reference(reference) {
            return Err(line.trim().to_owned());
        }
        out.push(MapEntry {
            reference: reference.to_owned(),
            key: key.to_owned(),
            value: parts.next().unwrap_or("").to_owned(),
        });
    }
    Ok(out)
}

fn is_reference(word: &str) -> bool {
    word.strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let reply = "0x55d5f0730090 blue be_green\n0x55d5f0730120 green value with spaces\n\n";
        let entries = parse_show_map(reply).expect("parses");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, "blue");
        assert_eq!(entries[0].value, "be_green");
        assert_eq!(entries[1].value, "value with spaces");
        assert_eq!(parse_show_map("\n"), Ok(vec![]));
    }

    #[test]
    fn error_reply() {
        assert!(parse_show_map("Unknown map identifier. Please use #<id> or <file>.\n").is_err());
    }
}
