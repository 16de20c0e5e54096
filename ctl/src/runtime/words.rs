//! Building a command line: HAProxy splits words on blanks and commands on `;`, and a
//! backslash escapes the next character (2.6 `cli_io_handler`), so user-supplied words
//! (map keys, values, server names) are escaped rather than trusted.

/// Escapes one word so the CLI reads it back unchanged. Newlines cannot be escaped
/// (they end the command) and are refused.
pub fn escape_word(word: &str) -> Result<String, String> {
    if word.is_empty() {
        return Err("empty word".into());
    }
    if word.contains(['\n', '\r', '\0']) {
        return Err(format!("{word:?} contains a line break or NUL"));
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if matches!(c, ' ' | '\t' | ';' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// `verb` (trusted, written by this crate) followed by escaped user words.
pub fn command(verb: &str, words: &[&str]) -> Result<String, String> {
    let mut line = verb.to_owned();
    for word in words {
        line.push(' ');
        line.push_str(&escape_word(word)?);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_separators() {
        assert_eq!(escape_word("be_green").as_deref(), Ok("be_green"));
        assert_eq!(escape_word("a b;c\\d").as_deref(), Ok("a\\ b\\;c\\\\d"));
        assert!(escape_word("a\nb").is_err());
        assert!(escape_word("").is_err());
    }

    #[test]
    fn builds_a_line() {
        assert_eq!(
            command("set map", &["/etc/m.map", "active", "be green"]).as_deref(),
            Ok("set map /etc/m.map active be\\ green")
        );
    }
}
