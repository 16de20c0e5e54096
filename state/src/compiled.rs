//! Routing rules compiled ahead of time: ACL names resolved to their tests,
//! regexes built, map files resolved to snapshot indices, static backend
//! names resolved to proxy indices.

use std::sync::Arc;

use regex::Regex;
use switchyard_config::{AclMatch, Fetch, IpNet, LogLevel, RedirectKind, ReturnBody};

use crate::ids::{MapIdx, ProxyIdx};

#[derive(Debug, Clone)]
pub enum CConv {
    Lower,
    Upper,
    Hex,
    Map {
        map: MapIdx,
        default: Option<Arc<str>>,
    },
}

#[derive(Debug, Clone)]
pub struct CSample {
    pub fetch: Fetch,
    pub convs: Vec<CConv>,
}

#[derive(Debug, Clone)]
pub struct CAclTest {
    pub fetch: Fetch,
    pub kind: AclMatch,
    pub icase: bool,
    pub patterns: Vec<String>,
    /// Built for `AclMatch::Reg`.
    pub regexes: Vec<Regex>,
    /// Built for `AclMatch::Ip`.
    pub nets: Vec<IpNet>,
}

/// One term: an ACL (all tests of that name, OR'ed), possibly negated.
#[derive(Debug, Clone)]
pub struct CTerm {
    pub negate: bool,
    pub tests: Vec<CAclTest>,
}

#[derive(Debug, Clone)]
pub struct CCondition {
    pub unless: bool,
    /// OR of AND groups.
    pub any_of: Vec<Vec<CTerm>>,
}

#[derive(Debug, Clone)]
pub enum CPart {
    Lit(Arc<str>),
    Sample(CSample),
    Var(Arc<str>),
}

#[derive(Debug, Clone)]
pub struct CFormat {
    pub parts: Vec<CPart>,
}

#[derive(Debug, Clone)]
pub enum CTarget {
    Static(ProxyIdx),
    Dynamic(CFormat),
}

#[derive(Debug, Clone)]
pub struct CUseBackend {
    pub target: CTarget,
    pub cond: Option<CCondition>,
}

#[derive(Debug, Clone)]
pub enum CReqAction {
    Return {
        status: u16,
        content_type: Option<String>,
        body: ReturnBody,
        headers: Vec<(String, CFormat)>,
    },
    Deny {
        status: u16,
    },
    Allow,
    SetHeader {
        name: http_name::HeaderNameText,
        value: CFormat,
    },
    AddHeader {
        name: http_name::HeaderNameText,
        value: CFormat,
    },
    DelHeader {
        name: http_name::HeaderNameText,
    },
    SetLogLevel(LogLevel),
    Redirect {
        kind: CRedirect,
        code: u16,
        drop_query: bool,
    },
    UseService(String),
    DisableL7Retry,
}

#[derive(Debug, Clone)]
pub enum CRedirect {
    Location(CFormat),
    Prefix(CFormat),
    Scheme(CFormat),
}

impl CRedirect {
    pub(crate) fn kind_of(k: &RedirectKind) -> fn(CFormat) -> CRedirect {
        match k {
            RedirectKind::Location(_) => CRedirect::Location,
            RedirectKind::Prefix(_) => CRedirect::Prefix,
            RedirectKind::Scheme(_) => CRedirect::Scheme,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CReqRule {
    pub action: CReqAction,
    pub cond: Option<CCondition>,
}

#[derive(Debug, Clone)]
pub enum CResAction {
    SetHeader {
        name: http_name::HeaderNameText,
        value: CFormat,
    },
    AddHeader {
        name: http_name::HeaderNameText,
        value: CFormat,
    },
    DelHeader {
        name: http_name::HeaderNameText,
    },
    SetLogLevel(LogLevel),
}

#[derive(Debug, Clone)]
pub struct CResRule {
    pub action: CResAction,
    pub cond: Option<CCondition>,
}

pub mod http_name {
    /// A header name lowercased once at compile time (HTTP/1 names are
    /// case-insensitive; HAProxy emits them lowercase).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HeaderNameText(pub String);

    impl HeaderNameText {
        pub fn new(s: &str) -> Self {
            HeaderNameText(s.to_ascii_lowercase())
        }
        pub fn as_str(&self) -> &str {
            &self.0
        }
    }
}
