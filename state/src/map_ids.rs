//! The `#<id>` HAProxy 2.6 gives each map: pattern references (ACLs and
//! maps) are numbered from 0 in the order they are created. While the
//! config is parsed, every `acl` line, inline `{ ... }` ACL, first use of a
//! predefined ACL in a proxy, `-f` pattern file and map used by an
//! `http-request`/`http-response` rule gets the next id; then the
//! HTTP client adds 2 ACLs; maps named only by a dynamic `use_backend` are
//! resolved last. (Captured from the real binary: a config whose only
//! pattern is one `use_backend %[...,map(f)]` shows `2 (f)`.)

use std::collections::{HashMap, HashSet};

use switchyard_config::{
    AclRef, AclTest, BackendTarget, Condition, Config, Converter, FmtPart, HttpRequestAction,
    HttpResponseAction, LogFormat, Proxy,
};

struct Alloc {
    next: u32,
    ids: HashMap<String, u32>,
    files: HashSet<String>,
}

impl Alloc {
    fn bump(&mut self) {
        self.next += 1;
    }
    fn map(&mut self, name: &str) {
        if !self.ids.contains_key(name) {
            self.ids.insert(name.to_string(), self.next);
            self.next += 1;
        }
    }
    fn convs(&mut self, convs: &[Converter]) {
        for c in convs {
            if let Converter::Map { file, .. } = c {
                self.map(file);
            }
        }
    }
    fn format(&mut self, f: &LogFormat) {
        for p in &f.parts {
            if let FmtPart::Sample(s) = p {
                self.convs(&s.converters);
            }
        }
    }
    fn test(&mut self, t: &AclTest) {
        for f in &t.pattern_files {
            if self.files.insert(f.clone()) {
                self.bump();
            }
        }
        self.convs(&t.converters);
        self.bump();
    }
    fn cond(&mut self, c: &Condition, px: &Proxy, builtins: &mut HashSet<String>) {
        for group in &c.any_of {
            for term in group {
                match &term.acl {
                    AclRef::Inline(t) => self.test(t),
                    AclRef::Named(n) => {
                        let defined = px.acls.iter().any(|a| a.name == *n);
                        if !defined && builtins.insert(n.clone()) {
                            self.bump();
                        }
                    }
                }
            }
        }
    }
}

/// What a proxy creates while it is parsed, by line.
enum Item<'a> {
    Acl(&'a AclTest),
    Req(&'a HttpRequestAction, Option<&'a Condition>),
    Res(&'a HttpResponseAction, Option<&'a Condition>),
    UseBackend(Option<&'a Condition>),
    Cond(&'a Condition),
}

/// Map name → HAProxy's id, for every map in `config`.
pub fn haproxy_map_ids(config: &Config) -> HashMap<String, u32> {
    let mut a = Alloc {
        next: 0,
        ids: HashMap::new(),
        files: HashSet::new(),
    };
    let mut deferred: Vec<&LogFormat> = Vec::new();
    for px in &config.proxies {
        let mut items: Vec<(usize, Item<'_>)> = Vec::new();
        for acl in &px.acls {
            items.push((acl.location.line, Item::Acl(&acl.test)));
        }
        for r in &px.http_request {
            items.push((r.location.line, Item::Req(&r.action, r.cond.as_ref())));
        }
        for r in &px.http_response {
            items.push((r.location.line, Item::Res(&r.action, r.cond.as_ref())));
        }
        if let Some(fe) = &px.frontend {
            for ub in &fe.use_backends {
                items.push((ub.location.line, Item::UseBackend(ub.cond.as_ref())));
                if let BackendTarget::Dynamic(f) = &ub.target {
                    deferred.push(f);
                }
            }
            if let Some(c) = &fe.monitor_fail {
                items.push((usize::MAX, Item::Cond(c)));
            }
            if let Some(c) = fe.stats.as_ref().and_then(|s| s.admin.as_ref()) {
                items.push((usize::MAX, Item::Cond(&c.0)));
            }
        }
        items.sort_by_key(|(line, _)| *line);
        let mut builtins = HashSet::new();
        for (_, item) in items {
            match item {
                Item::Acl(t) => a.test(t),
                Item::Req(action, cond) => {
                    match action {
                        HttpRequestAction::SetHeader { value, .. }
                        | HttpRequestAction::AddHeader { value, .. } => a.format(value),
                        HttpRequestAction::Return { headers, .. } => {
                            headers.iter().for_each(|(_, v)| a.format(v))
                        }
                        _ => {}
                    }
                    if let Some(c) = cond {
                        a.cond(c, px, &mut builtins);
                    }
                }
                Item::Res(action, cond) => {
                    if let HttpResponseAction::SetHeader { value, .. }
                    | HttpResponseAction::AddHeader { value, .. } = action
                    {
                        a.format(value);
                    }
                    if let Some(c) = cond {
                        a.cond(c, px, &mut builtins);
                    }
                }
                Item::UseBackend(cond) => {
                    if let Some(c) = cond {
                        a.cond(c, px, &mut builtins);
                    }
                }
                Item::Cond(c) => a.cond(c, px, &mut builtins),
            }
        }
    }
    // The HTTP client's two internal ACLs.
    a.next += 2;
    for f in deferred {
        a.format(f);
    }
    for name in config.maps.keys() {
        a.map(name);
    }
    a.ids
}
