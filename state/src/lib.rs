//! The routing snapshot: everything a request needs, immutable, behind one
//! `ArcSwap` ([`Store`]). What changes many times a second (health, counters)
//! lives in per-object atomics ([`ServerLive`], [`ProxyLive`]) that snapshots
//! share by identity, so publishing never resets them.

mod admin_state;
mod bind_tls;
mod build;
pub mod clock;
mod compiled;
mod counters;
mod eval;
pub mod events;
mod ext;
mod ids;
mod live;
mod map;
mod map_ids;
mod matching;
mod observe;
mod peer_cert;
mod service;
mod snapshot;
mod sni;
mod store;
pub mod tls;

pub use admin_state::AdminState;
pub use bind_tls::BindTls;
pub use build::{build, BuildError, DEFAULT_MAXCONN};
pub use compiled::{
    CAclTest, CCondition, CConv, CFormat, CPart, CRedirect, CReqAction, CReqRule, CResAction,
    CResRule, CSample, CTarget, CTerm, CUseBackend,
};
pub use counters::{Counters, InQueue, RateCounter, SwRate};
pub use eval::{RequestView, SampleOut};
pub use ext::Ext;
pub use ids::{MapIdx, ProxyIdx, ServerIdx};
pub use live::{now_ms, CheckStatus, OpState, ProxyLive, ServerLive};
pub use map::{parse_reference, MapEntryRt, MapError, MapRt, MapVersion, ResolveBackend};
pub use map_ids::haproxy_map_ids;
pub use observe::ObserveEvent;
pub use peer_cert::{Dn, PeerCert};
/// The rustls the compiled TLS configs are built with.
pub use rustls;
pub use service::{NoServices, ServiceRequest, Services, SimpleResponse};
pub use snapshot::{
    slowstart_step, BackendRt, FrontendRt, ProxyRt, ServerRt, Snapshot, SLOWSTART_SCALE,
};
pub use store::Store;
