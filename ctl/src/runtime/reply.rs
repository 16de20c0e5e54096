//! Reading meaning into replies. HAProxy 2.6 has no status codes on the CLI (unless
//! `severity-output` is set): a setter succeeds with an empty reply and fails with text.

use crate::error::CtlError;
use crate::target::Target;

/// Replies that mean "the object you named does not exist" (captured from 2.6.12).
const UNKNOWN_OBJECT: &[&str] = &[
    "No such proxy.",
    "No such backend.",
    "No such server.",
    "Can't find backend.",
    "Unknown map identifier.",
    "entry not found.",
    "Key not found.",
    "key or pattern not found.",
    "Require 'backend/server'.",
];

pub fn is_unknown_object(reply: &str) -> bool {
    let first = reply.lines().next().unwrap_or("").trim();
    UNKNOWN_OBJECT.iter().any(|known| first.starts_with(known))
}

/// The error for a non-empty reply to `command`: "unknown object" replies are a
/// precondition failure, anything else (Permission denied, usage text) a refusal.
pub fn refusal(target: &Target, command: &str, reply: &str) -> CtlError {
    let reply = one_line(reply);
    if is_unknown_object(&reply) {
        CtlError::UnknownObject {
            target: target.clone(),
            command: command.to_owned(),
            reply,
        }
    } else {
        CtlError::Refused {
            target: target.clone(),
            command: command.to_owned(),
            reply,
        }
    }
}

/// Succeeds on an empty reply (what 2.6 prints for a successful `set …`).
pub fn expect_empty(target: &Target, command: &str, reply: &str) -> Result<(), CtlError> {
    if reply.trim().is_empty() {
        Ok(())
    } else {
        Err(refusal(target, command, reply))
    }
}

/// Multi-line replies (usage texts) folded to one line for messages.
fn one_line(reply: &str) -> String {
    let joined: Vec<&str> = reply
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    joined.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_replies() {
        let t = Target::Unix("/x".into());
        assert!(expect_empty(&t, "set map", "").is_ok());
        assert!(expect_empty(&t, "set map", "\n").is_ok());
        let err = expect_empty(&t, "set map m k v", "entry not found.\n").expect_err("refused");
        assert!(matches!(err, CtlError::UnknownObject { .. }), "{err:?}");
        let err = expect_empty(&t, "set server", "Permission denied\n").expect_err("refused");
        assert!(matches!(err, CtlError::Refused { .. }), "{err:?}");
        assert!(is_unknown_object(
            "Unknown map identifier. Please use #<id> or <file>.\n"
        ));
    }
}
