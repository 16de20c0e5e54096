//! Sample expressions: a fetch with optional `(args)` followed by
//! `,converter(args)` steps (`str(SIMPLE_SERVICE),map(/x/hosts.map)`).
//! Map files named by `map*` converters are read here, at first use.

use crate::ctx::Ctx;
use crate::model::{Converter, Fetch, Location, MapMatch, SampleExpr};
use crate::names::{HAPROXY_CONVERTERS, HAPROXY_FETCHES};

fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'$')
}

/// Parse `(a,b)` at `text[start..]` if present. Returns the args (`None`
/// when there is no parenthesis) and the index after the closing `)`.
fn arg_list(text: &str, start: usize) -> Result<(Option<Vec<String>>, usize), String> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'(') {
        return Ok((None, start));
    }
    let mut args = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = start + 1;
    let mut quote: Option<u8> = None;
    loop {
        let Some(&c) = b.get(i) else {
            return Err("expected ')'".to_string());
        };
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), b'\\') => {
                if let Some(&n) = b.get(i + 1) {
                    cur.push(n);
                    i += 1;
                }
            }
            (Some(_), c) => cur.push(c),
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'\\') => {
                if let Some(&n) = b.get(i + 1) {
                    cur.push(n);
                    i += 1;
                }
            }
            (None, b',') => {
                args.push(String::from_utf8_lossy(&std::mem::take(&mut cur)).into_owned())
            }
            (None, b')') => {
                // `f()` is an empty list, `f(a,)` has an empty last argument.
                if !(args.is_empty() && cur.is_empty()) {
                    args.push(String::from_utf8_lossy(&cur).into_owned());
                }
                return Ok((Some(args), i + 1));
            }
            (None, c) => cur.push(c),
        }
        i += 1;
    }
}

fn count_args(
    kind: &str,
    name: &str,
    args: &[String],
    min: usize,
    max: usize,
) -> Result<(), String> {
    if args.len() < min {
        return Err(format!(
            "{kind} '{name}' : missing arguments (got {}/{min}), type 'string' expected",
            args.len()
        ));
    }
    if args.len() > max {
        return Err(format!(
            "{kind} '{name}' : end of arguments expected at position {}, but got '{}'",
            max + 1,
            args[max]
        ));
    }
    Ok(())
}

/// Build the fetch named `name`. `acl_default` tells ACL keywords apart
/// (they share the fetch table).
pub(crate) fn make_fetch(name: &str, args: &[String]) -> Result<Fetch, String> {
    let n = |min, max| count_args("fetch method", name, args, min, max);
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    // The occurrence argument (second position) of `hdr` and `ssl_c_*_dn`.
    let occ = || -> Result<Option<i32>, String> {
        args.get(1)
            .map(|o| {
                o.parse::<i32>().map_err(|_| {
                    format!("fetch method '{name}' : failed to parse '{o}' as type 'signed integer' at position 2")
                })
            })
            .transpose()
    };
    Ok(match name {
        "str" => {
            n(1, 1)?;
            Fetch::Str(arg(0))
        }
        "path" => {
            n(0, 0)?;
            Fetch::Path
        }
        "base" => {
            n(0, 0)?;
            Fetch::Base
        }
        "url" => {
            n(0, 0)?;
            Fetch::Url
        }
        "query" => {
            n(0, 0)?;
            Fetch::Query
        }
        "hdr" | "req.hdr" => {
            n(1, 2)?;
            Fetch::ReqHdr {
                name: arg(0).to_ascii_lowercase(),
                occ: occ()?,
            }
        }
        "src" => {
            n(0, 0)?;
            Fetch::Src
        }
        "method" => {
            n(0, 0)?;
            Fetch::Method
        }
        "url_param" | "urlp" => {
            n(1, 2)?;
            Fetch::UrlParam(arg(0))
        }
        "req.cook" | "cook" => {
            n(1, 1)?;
            Fetch::Cookie(arg(0))
        }
        "dst_port" => {
            n(0, 0)?;
            Fetch::DstPort
        }
        "ssl_fc" => {
            n(0, 0)?;
            Fetch::SslFc
        }
        "ssl_c_used" => {
            n(0, 0)?;
            Fetch::SslCUsed
        }
        "ssl_c_verify" => {
            n(0, 0)?;
            Fetch::SslCVerify
        }
        "ssl_c_s_dn" | "ssl_c_i_dn" => {
            if args.len() > 2 {
                return Err(format!(
                    "fetch method '{name}' : the format argument is not supported by switchyard"
                ));
            }
            Fetch::SslCDn {
                issuer: name == "ssl_c_i_dn",
                entry: args.first().filter(|e| !e.is_empty()).cloned(),
                occ: occ()?.unwrap_or(1),
            }
        }
        "ssl_c_serial" => {
            n(0, 0)?;
            Fetch::SslCSerial
        }
        "ssl_c_notbefore" => {
            n(0, 0)?;
            Fetch::SslCNotBefore
        }
        "ssl_c_notafter" => {
            n(0, 0)?;
            Fetch::SslCNotAfter
        }
        "always_true" => {
            n(0, 0)?;
            Fetch::True
        }
        "always_false" => {
            n(0, 0)?;
            Fetch::False
        }
        other if HAPROXY_FETCHES.contains(&other) => {
            return Err(format!(
                "fetch method '{other}' is not supported by switchyard"
            ));
        }
        other => return Err(format!("unknown fetch method '{other}'")),
    })
}

fn map_kind(name: &str) -> Option<MapMatch> {
    Some(match name {
        "map" | "map_str" => MapMatch::Str,
        "map_beg" => MapMatch::Beg,
        "map_dom" => MapMatch::Dom,
        "map_end" => MapMatch::End,
        "map_reg" => MapMatch::Reg,
        "map_sub" => MapMatch::Sub,
        "map_ip" => MapMatch::Ip,
        "map_int" => MapMatch::Int,
        _ => return None,
    })
}

fn make_converter(
    ctx: &mut Ctx,
    loc: &Location,
    name: &str,
    args: Option<Vec<String>>,
) -> Result<Converter, String> {
    let args = args.unwrap_or_default();
    match name {
        "lower" | "upper" => {
            if !args.is_empty() {
                return Err(format!("converter '{name}' does not support any args"));
            }
            Ok(if name == "lower" {
                Converter::Lower
            } else {
                Converter::Upper
            })
        }
        "hex" => {
            if !args.is_empty() {
                return Err(format!("converter '{name}' does not support any args"));
            }
            Ok(Converter::Hex)
        }
        _ => {
            if let Some(kind) = map_kind(name) {
                if args.is_empty() || args[0].is_empty() {
                    return Err(format!(
                        "invalid arg 1 in converter '{name}' : missing arguments (got 0/1), type 'string' expected"
                    ));
                }
                if args.len() > 2 {
                    return Err(format!(
                        "invalid arg 3 in converter '{name}' : end of arguments expected at position 3, but got '{}'",
                        args[2]
                    ));
                }
                let file = args[0].clone();
                let paths = ctx.paths.clone();
                ctx.maps
                    .load(&file, kind, loc, &paths)
                    .map_err(|e| format!("invalid args in converter '{name}' : {e}"))?;
                return Ok(Converter::Map {
                    kind,
                    file,
                    default: args.get(1).cloned(),
                });
            }
            if HAPROXY_CONVERTERS.contains(&name) {
                Err(format!("converter '{name}' is not supported by switchyard"))
            } else {
                Err(format!("unknown converter '{name}'"))
            }
        }
    }
}

/// Parse a sample expression at the start of `text`. With `in_brackets` the
/// expression may stop at `]` (log-format `%[...]`); otherwise it must use
/// the whole text. Returns the expression and the index where it stopped.
pub(crate) fn parse_sample(
    ctx: &mut Ctx,
    loc: &Location,
    text: &str,
    in_brackets: bool,
) -> Result<(SampleExpr, usize), String> {
    let b = text.as_bytes();
    let name_end = b.iter().position(|&c| !is_idchar(c)).unwrap_or(b.len());
    if name_end == 0 {
        return Err("missing fetch method".to_string());
    }
    let fname = &text[..name_end];
    let (args, mut pos) =
        arg_list(text, name_end).map_err(|e| format!("fetch method '{fname}' : {e}"))?;
    let fetch = make_fetch(fname, &args.unwrap_or_default())?;
    let mut converters = Vec::new();
    let mut last_conv: Option<String> = None;
    loop {
        match b.get(pos) {
            None => break,
            Some(b']') if in_brackets => break,
            Some(b',') => {}
            Some(_) if in_brackets => break,
            Some(_) => {
                return Err(match &last_conv {
                    Some(c) => format!("missing comma after converter '{c}'"),
                    None => format!("missing comma after fetch keyword '{fname}'"),
                });
            }
        }
        while b.get(pos) == Some(&b',') {
            pos += 1;
        }
        let cstart = pos;
        let cend = cstart
            + b[cstart..]
                .iter()
                .position(|&c| !is_idchar(c))
                .unwrap_or(b.len() - cstart);
        if cend == cstart {
            if pos >= b.len() || (in_brackets && b.get(pos) == Some(&b']')) {
                break;
            }
            return Err(format!("unknown converter '{}'", &text[cstart..]));
        }
        let cname = &text[cstart..cend];
        let (cargs, next) = arg_list(text, cend)
            .map_err(|e| format!("invalid arg 1 in converter '{cname}' : {e}"))?;
        converters.push(make_converter(ctx, loc, cname, cargs)?);
        last_conv = Some(cname.to_string());
        pos = next;
    }
    Ok((SampleExpr { fetch, converters }, pos))
}

/// A whole word as a sample expression (ACL criterion, `balance hash`).
pub(crate) fn parse_sample_word(
    ctx: &mut Ctx,
    loc: &Location,
    text: &str,
) -> Result<SampleExpr, String> {
    parse_sample(ctx, loc, text, false).map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(SampleExpr, usize), String> {
        let mut ctx = Ctx::default();
        parse_sample(&mut ctx, &Location::default(), text, true)
    }

    #[test]
    fn fetches_and_converters() {
        let (e, end) = parse("req.hdr(Host),lower]").expect("ok");
        assert_eq!(end, 19);
        assert_eq!(
            e.fetch,
            Fetch::ReqHdr {
                name: "host".into(),
                occ: None
            }
        );
        assert_eq!(e.converters, vec![Converter::Lower]);
        let (e, _) = parse("str(a\\,b)").expect("ok");
        assert_eq!(e.fetch, Fetch::Str("a,b".into()));
        let (e, _) = parse("url_param(x)").expect("ok");
        assert_eq!(e.fetch, Fetch::UrlParam("x".into()));
    }

    #[test]
    fn client_certificate_fetches() {
        let (e, _) = parse("ssl_c_s_dn(cn)").expect("ok");
        assert_eq!(
            e.fetch,
            Fetch::SslCDn {
                issuer: false,
                entry: Some("cn".into()),
                occ: 1
            }
        );
        let (e, _) = parse("ssl_c_i_dn(O,-1)").expect("ok");
        assert_eq!(
            e.fetch,
            Fetch::SslCDn {
                issuer: true,
                entry: Some("O".into()),
                occ: -1
            }
        );
        let (e, _) = parse("ssl_c_s_dn").expect("ok");
        assert!(matches!(e.fetch, Fetch::SslCDn { entry: None, .. }));
        let (e, _) = parse("ssl_c_serial,hex").expect("ok");
        assert_eq!(e.fetch, Fetch::SslCSerial);
        assert_eq!(e.converters, vec![Converter::Hex]);
        for (text, f) in [
            ("ssl_c_used", Fetch::SslCUsed),
            ("ssl_c_verify", Fetch::SslCVerify),
            ("ssl_c_notbefore", Fetch::SslCNotBefore),
            ("ssl_c_notafter", Fetch::SslCNotAfter),
        ] {
            assert_eq!(parse(text).expect("ok").0.fetch, f);
        }
        assert!(parse("ssl_c_s_dn(cn,x)").is_err());
        assert!(parse("ssl_c_used(1)").is_err());
        assert!(parse("ssl_c_serial,hex(1)").is_err());
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("foo(a)").err(),
            Some("unknown fetch method 'foo'".into())
        );
        assert_eq!(
            parse("str(a),frob").err(),
            Some("unknown converter 'frob'".into())
        );
        assert!(parse("str(a").is_err());
        assert!(parse("").is_err());
        assert!(parse("str()").is_err());
        assert!(parse("lower(1)").is_err());
        assert_eq!(
            parse("str(a),map(/nonexistent/switchyard.map)").err(),
            Some("invalid args in converter 'map' : failed to open pattern file </nonexistent/switchyard.map>".into())
        );
        assert!(parse("req.fhdr(x)")
            .err()
            .is_some_and(|e| e.contains("not supported")));
    }
}
