//! `if`/`unless` conditions: terms are named ACLs (declared earlier in the
//! same section), predefined ACLs, or inline `{ ... }` ACLs; `!` negates,
//! juxtaposition is AND, `||`/`or` separates OR groups (`parse_acl_cond`).

use crate::acl::{default_acl, parse_acl_test};
use crate::ctx::Ctx;
use crate::model::{Acl, AclRef, CondTerm, Condition, Location};

/// Parse `words`, which start with `if` or `unless`. `acls` are the ACLs
/// known at this point of the section.
pub(crate) fn parse_condition(
    ctx: &mut Ctx,
    loc: &Location,
    words: &[String],
    acls: &[Acl],
) -> Result<Condition, String> {
    let unless = match words.first().map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        _ => return Err("conditions must start with either 'if' or 'unless'".to_string()),
    };
    let mut any_of: Vec<Vec<CondTerm>> = Vec::new();
    let mut group: Vec<CondTerm> = Vec::new();
    let mut negate = false;
    let mut i = 1;
    while i < words.len() {
        let mut word = words[i].as_str();
        while let Some(rest) = word.strip_prefix('!') {
            negate = !negate;
            word = rest;
        }
        if word.is_empty() {
            i += 1;
            continue;
        }
        if word.eq_ignore_ascii_case("or") || word == "||" {
            if !group.is_empty() {
                any_of.push(std::mem::take(&mut group));
            }
            negate = false;
            i += 1;
            continue;
        }
        let acl = if word == "{" {
            let Some(close) = words[i + 1..].iter().position(|w| w == "}") else {
                return Err("missing closing '}' in condition".to_string());
            };
            let inner = &words[i + 1..i + 1 + close];
            let test = parse_acl_test(ctx, loc, inner)?;
            i += close + 1;
            AclRef::Inline(test)
        } else if acls.iter().any(|a| a.name == word) {
            AclRef::Named(word.to_string())
        } else {
            match default_acl(word)? {
                Some(test) => AclRef::Inline(test),
                None => return Err(format!("no such ACL : '{word}'")),
            }
        };
        group.push(CondTerm { negate, acl });
        negate = false;
        i += 1;
    }
    if !group.is_empty() {
        any_of.push(group);
    }
    Ok(Condition {
        unless,
        any_of,
        source: words.join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AclMatch, AclTest, Fetch};

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn acl(name: &str) -> Acl {
        Acl {
            name: name.into(),
            test: AclTest {
                fetch: Fetch::Path,
                match_kind: AclMatch::Exact,
                ignore_case: false,
                patterns: vec!["/".into()],
                pattern_files: vec![],
                converters: vec![],
            },
            location: Location::default(),
        }
    }

    #[test]
    fn groups() {
        let acls = [acl("a"), acl("b"), acl("c")];
        let c = parse_condition(
            &mut Ctx::default(),
            &Location::default(),
            &w("if a !b || c or { path /x } !{ path_beg /y }"),
            &acls,
        )
        .expect("ok");
        assert!(!c.unless);
        assert_eq!(c.any_of.len(), 3);
        assert_eq!(c.any_of[0].len(), 2);
        assert!(c.any_of[0][1].negate);
        assert_eq!(c.any_of[2].len(), 2);
        assert!(matches!(c.any_of[2][0].acl, AclRef::Inline(_)));
        assert!(c.any_of[2][1].negate);
        let c = parse_condition(
            &mut Ctx::default(),
            &Location::default(),
            &w("unless TRUE"),
            &[],
        )
        .expect("ok");
        assert!(c.unless);
    }

    #[test]
    fn errors() {
        let e = parse_condition(
            &mut Ctx::default(),
            &Location::default(),
            &w("if missing"),
            &[],
        );
        assert_eq!(e.err(), Some("no such ACL : 'missing'".into()));
        let e = parse_condition(
            &mut Ctx::default(),
            &Location::default(),
            &w("if { path /x"),
            &[],
        );
        assert_eq!(e.err(), Some("missing closing '}' in condition".into()));
    }
}
