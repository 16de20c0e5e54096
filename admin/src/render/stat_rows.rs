//! The rows of `show stat`: every field HAProxy 2.6.12 fills for each row
//! type (frontend, listener, server, backend), with its tags, computed from
//! a snapshot and the live counters. Field presence follows HAProxy's
//! `stats_fill_{fe,li,sv,be}_stats`.

use std::sync::atomic::Ordering::Relaxed;

use switchyard_config::{Mode, ProxyKind};
use switchyard_state::{
    CheckStatus, Counters, OpState, ProxyIdx, ProxyRt, ServerIdx, ServerRt, Snapshot,
};

use super::field::Field;
use crate::status::{self, ServerFacts};

/// Number of columns (static ones + the `-` marker is not a field).
pub const NFIELDS: usize = 127;
/// Index of the last static field; `-` is printed after it.
pub const LAST_STATIC: usize = 102;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Frontend,
    Backend,
    Server,
    Listener,
}

impl RowKind {
    /// HAProxy's STATS_TYPE_* number.
    pub fn type_num(self) -> u32 {
        match self {
            RowKind::Frontend => 0,
            RowKind::Backend => 1,
            RowKind::Server => 2,
            RowKind::Listener => 3,
        }
    }
    pub fn letter(self) -> char {
        match self {
            RowKind::Frontend => 'F',
            RowKind::Backend => 'B',
            RowKind::Server => 'S',
            RowKind::Listener => 'L',
        }
    }
    pub fn json_name(self) -> &'static str {
        match self {
            RowKind::Frontend => "Frontend",
            RowKind::Backend => "Backend",
            RowKind::Server => "Server",
            RowKind::Listener => "Listener",
        }
    }
}

/// One row: its kind, ids and the 127 fields.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RowKind,
    pub iid: u32,
    pub sid: u32,
    pub px: ProxyIdx,
    pub server: Option<ServerIdx>,
    pub fields: Vec<Field>,
}

impl Row {
    fn new(kind: RowKind, px: &ProxyRt, pi: ProxyIdx, sid: u32, server: Option<ServerIdx>) -> Row {
        let mut fields = vec![Field::default(); NFIELDS];
        fields[0] = Field::str("KNS", &*px.name);
        fields[26] = Field::u32("KGP", 1);
        fields[27] = Field::u32("KGS", px.id);
        fields[28] = Field::u32("KGS", sid);
        fields[32] = Field::u32("CGS", kind.type_num());
        fields[75] = Field::str("CGS", px.cfg.mode.as_str());
        Row {
            kind,
            iid: px.id,
            sid,
            px: pi,
            server,
            fields,
        }
    }
    fn set(&mut self, i: usize, f: Field) {
        self.fields[i] = f;
    }
    /// The value of a field as text (empty when unset), for HTML and tests.
    pub fn text(&self, i: usize) -> String {
        let mut s = String::new();
        if let Some(f) = self.fields.get(i) {
            super::field::csv_cell(&mut s, &f.val);
        }
        s
    }
}

/// Which rows to produce (`show stat` filters).
#[derive(Debug, Clone, Copy, Default)]
pub struct RowFilter {
    /// `(iid or -1, type mask, sid or -1)`.
    pub bound: Option<(i32, i32, i32)>,
    pub hide_down: bool,
    pub hide_maint: bool,
}

/// Facts about the reader that change the output.
#[derive(Debug, Clone, Copy)]
pub struct RowCtx {
    pub now_ms: u64,
    /// The socket is operator or admin: `addr`, `cookie` and `algo` shown.
    pub show_legends: bool,
}

fn secs(ms: u64) -> u64 {
    ms / 1000
}

fn age(now_ms: u64, then_ms: u64) -> u32 {
    secs(now_ms).saturating_sub(secs(then_ms)) as u32
}

fn lastsess(now_ms: u64, c: &Counters) -> i32 {
    match c.last_sess.load(Relaxed) {
        0 => -1,
        t => age(now_ms, t) as i32,
    }
}

/// All rows in HAProxy's order: per proxy (config order), FRONTEND, its
/// listeners (with `option socket-stats`), its servers, BACKEND.
pub fn collect(snap: &Snapshot, ctx: RowCtx, filter: RowFilter) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, px) in snap.proxies.iter().enumerate() {
        if px.cfg.disabled {
            continue;
        }
        if let Some((iid, _, _)) = filter.bound {
            if iid != -1 && px.id as i32 != iid {
                continue;
            }
        }
        let pi = ProxyIdx(i as u32);
        let wants = |t: u32| {
            filter
                .bound
                .map(|(_, mask, _)| mask & (1 << t) != 0)
                .unwrap_or(true)
        };
        if px.kind.has_frontend() && px.frontend.is_some() {
            if wants(0) {
                rows.push(frontend_row(px, pi, ctx));
            }
            if px.cfg.options.socket_stats && wants(3) {
                rows.extend(listener_rows(px, pi, ctx, filter));
            }
        }
        if px.kind.has_backend() {
            if let Some(be) = &px.backend {
                if wants(2) {
                    for (si, sv) in be.servers.iter().enumerate() {
                        if let Some((_, _, sid)) = filter.bound {
                            if sid != -1 && sv.id as i32 != sid {
                                continue;
                            }
                        }
                        if hidden(snap, sv, filter) {
                            continue;
                        }
                        rows.push(server_row(snap, px, pi, sv, ServerIdx(si as u32), ctx));
                    }
                }
                if wants(1) {
                    rows.push(backend_row(px, pi, ctx, filter));
                }
            }
        }
    }
    rows
}

fn hidden(snap: &Snapshot, sv: &ServerRt, f: RowFilter) -> bool {
    let maint = sv.admin.is_maint();
    if f.hide_maint && maint {
        return true;
    }
    if f.hide_down {
        if maint {
            return true;
        }
        let svs = status::track_end(snap, sv).unwrap_or(sv);
        let checked = status::check_enabled(svs);
        let agent = svs.cfg.agent_check && svs.cfg.agent_port.is_some();
        if sv.live.op_state() == OpState::Stopped
            && (!(checked || agent) || (checked && svs.live.health.load(Relaxed) == 0))
        {
            return true;
        }
    }
    false
}

fn http(px: &ProxyRt) -> bool {
    px.cfg.mode == Mode::Http
}

fn hrsp(row: &mut Row, c: &Counters) {
    for k in 0..6 {
        row.set(39 + k, Field::u64("MCP", c.hrsp[k].load(Relaxed)));
    }
}

fn frontend_row(px: &ProxyRt, pi: ProxyIdx, ctx: RowCtx) -> Row {
    let mut r = Row::new(RowKind::Frontend, px, pi, 0, None);
    let c = &px.live.fe;
    let slim = px.fe_maxconn().unwrap_or(0);
    r.set(1, Field::str("KNS", "FRONTEND"));
    r.set(4, Field::u32("MGP", c.scur.load(Relaxed)));
    r.set(5, Field::u32("MMP", c.smax.load(Relaxed)));
    r.set(6, Field::u32("CLP", slim));
    r.set(7, Field::u64("MCP", c.stot.load(Relaxed)));
    r.set(8, Field::u64("MCP", c.bin.load(Relaxed)));
    r.set(9, Field::u64("MCP", c.bout.load(Relaxed)));
    r.set(10, Field::u64("MCP", c.dreq.load(Relaxed)));
    r.set(11, Field::u64("MCP", c.dresp.load(Relaxed)));
    r.set(12, Field::u64("MCP", c.ereq.load(Relaxed)));
    let st = status::frontend_status(
        px.live.fe_stopped.load(Relaxed),
        px.live.fe_paused.load(Relaxed),
    );
    r.set(17, Field::str("SGP", st));
    r.set(33, Field::u32("MRP", c.sess_rate.rate()));
    r.set(34, Field::u32("CLP", 0));
    r.set(35, Field::u32("MMP", c.sess_rate.max()));
    if http(px) {
        hrsp(&mut r, c);
        r.set(80, Field::u64("MCP", c.intercepted.load(Relaxed)));
        r.set(86, Field::u64("MCP", 0));
        r.set(87, Field::u64("MCP", 0));
    }
    r.set(46, Field::u32("MRP", c.req_rate.rate()));
    r.set(47, Field::u32("MMP", c.req_rate.max()));
    r.set(48, Field::u64("MCP", c.req_tot.load(Relaxed)));
    for i in 51..=54 {
        r.set(i, Field::u64("MCP", 0));
    }
    r.set(77, Field::u32("MRP", c.conn_rate.rate()));
    r.set(78, Field::u32("MMP", c.conn_rate.max()));
    r.set(79, Field::u64("MCP", c.conn_tot.load(Relaxed)));
    r.set(81, Field::u64("MCP", 0));
    r.set(82, Field::u64("MCP", 0));
    r.set(83, Field::u64("MCP", c.wrew.load(Relaxed)));
    r.set(94, Field::u64("MCP", c.eint.load(Relaxed)));
    let _ = ctx;
    modules_proxy(&mut r, c, true);
    r
}

/// The ssl, h2 and h1 module columns of a frontend or backend row: the
/// ssl ones counted at each handshake; H2 ones stay 0; the H1 ones are
/// derived from the proxy's own counters.
fn modules_proxy(r: &mut Row, c: &Counters, frontend: bool) {
    for i in 103..=126 {
        let tags = if matches!(i, 115 | 116 | 119 | 120) {
            "MGP"
        } else {
            "MCP"
        };
        r.set(i, Field::u64(tags, 0));
    }
    let (open, conns, streams, bin, bout) = if frontend {
        (
            c.scur.load(Relaxed),
            c.conn_tot.load(Relaxed),
            c.req_tot.load(Relaxed),
            c.bin.load(Relaxed),
            c.bout.load(Relaxed),
        )
    } else {
        // Backend side: bytes in are responses, bytes out are requests.
        (
            0,
            c.connect.load(Relaxed),
            c.req_tot.load(Relaxed),
            c.bout.load(Relaxed),
            c.bin.load(Relaxed),
        )
    };
    ssl_module(r, c);
    r.set(119, Field::u64("MGP", u64::from(open)));
    r.set(121, Field::u64("MCP", conns));
    r.set(122, Field::u64("MCP", streams));
    r.set(123, Field::u64("MCP", bin));
    r.set(124, Field::u64("MCP", bout));
}

/// `ssl_sess`, `ssl_reused_sess`, `ssl_failed_handshake`.
fn ssl_module(r: &mut Row, c: &Counters) {
    r.set(103, Field::u64("MCP", c.ssl_sess.load(Relaxed)));
    r.set(104, Field::u64("MCP", c.ssl_reused_sess.load(Relaxed)));
    r.set(105, Field::u64("MCP", c.ssl_failed_handshake.load(Relaxed)));
}

fn listener_rows(px: &ProxyRt, pi: ProxyIdx, ctx: RowCtx, filter: RowFilter) -> Vec<Row> {
    let Some(fe) = px.cfg.frontend.as_ref() else {
        return Vec::new();
    };
    let paused = px.live.fe_paused.load(Relaxed);
    let mut out = Vec::new();
    for (i, b) in fe.binds.iter().enumerate() {
        let luid = i as u32 + 1;
        if let Some((_, _, sid)) = filter.bound {
            if sid != -1 && luid as i32 != sid {
                continue;
            }
        }
        let mut r = Row::new(RowKind::Listener, px, pi, luid, None);
        r.set(
            1,
            Field::str(
                "KNS",
                b.name.clone().unwrap_or_else(|| format!("sock-{luid}")),
            ),
        );
        r.set(4, Field::u32("MGP", 0));
        r.set(5, Field::u32("MMP", 0));
        r.set(6, Field::u32("CLP", 0));
        for i in 7..=12 {
            r.set(i, Field::u64("MCP", 0));
        }
        r.set(
            17,
            Field::str("SGP", if paused { "PAUSED" } else { "OPEN" }),
        );
        for i in [81, 82, 83, 94] {
            r.set(i, Field::u64("MCP", 0));
        }
        if ctx.show_legends {
            let a = match &b.addr {
                switchyard_config::ListenAddr::Tcp(std::net::SocketAddr::V4(a)) => a.to_string(),
                switchyard_config::ListenAddr::Tcp(std::net::SocketAddr::V6(a)) => {
                    format!("[{}]:{}", a.ip(), a.port())
                }
                switchyard_config::ListenAddr::Unix(_) => "unix".to_string(),
            };
            r.set(73, Field::str("CGS", a));
        }
        // Per-listener counts are not kept (HAProxy keeps them for
        // `option socket-stats`): its rows show 0.
        for i in 103..=105 {
            r.set(i, Field::u64("MCP", 0));
        }
        out.push(r);
    }
    out
}

/// HAProxy's `HCHK_STATUS_CHECKED`: durations are shown from here on.
fn shows_duration(s: CheckStatus) -> bool {
    !matches!(s, CheckStatus::Unk | CheckStatus::Ini | CheckStatus::Start)
}

/// HAProxy's `HCHK_STATUS_L57DATA`: codes are shown from L7OK on.
fn shows_code(s: CheckStatus) -> bool {
    matches!(
        s,
        CheckStatus::L7Ok
            | CheckStatus::L7OkC
            | CheckStatus::L7Sts
            | CheckStatus::ProcErr
            | CheckStatus::ProcTout
            | CheckStatus::ProcOk
    )
}

/// `ip:port` (IPv6 in brackets), or `None` while unresolved.
pub fn server_addr(sv: &ServerRt) -> Option<String> {
    let a = sv.addr?;
    Some(match a {
        std::net::SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        std::net::SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    })
}

fn server_row(
    snap: &Snapshot,
    px: &ProxyRt,
    pi: ProxyIdx,
    sv: &ServerRt,
    si: ServerIdx,
    ctx: RowCtx,
) -> Row {
    let now = ctx.now_ms;
    let mut r = Row::new(RowKind::Server, px, pi, sv.id, Some(si));
    let c = &sv.live.counters;
    let live = &sv.live;
    let checked = status::check_enabled(sv);
    let paused = sv.admin.is_maint();
    let reference = status::track_end(snap, sv).unwrap_or(sv);
    r.set(1, Field::str("KNS", &*sv.name));
    r.set(2, Field::u32("MGP", c.qcur.load(Relaxed)));
    r.set(3, Field::u32("MMP", c.qmax.load(Relaxed)));
    r.set(4, Field::u32("MGP", c.scur.load(Relaxed)));
    r.set(5, Field::u32("MMP", c.smax.load(Relaxed)));
    if let Some(m) = sv.effective_maxconn() {
        r.set(6, Field::u32("CLP", m));
    }
    r.set(88, Field::u32("MGP", live.idle_conns.load(Relaxed)));
    r.set(7, Field::u64("MCP", c.stot.load(Relaxed)));
    r.set(8, Field::u64("MCP", c.bin.load(Relaxed)));
    r.set(9, Field::u64("MCP", c.bout.load(Relaxed)));
    r.set(11, Field::u64("MCP", c.dresp.load(Relaxed)));
    r.set(13, Field::u64("MCP", c.econ.load(Relaxed)));
    r.set(14, Field::u64("MCP", c.eresp.load(Relaxed)));
    r.set(15, Field::u64("MCP", c.wretr.load(Relaxed)));
    r.set(16, Field::u64("MCP", c.wredis.load(Relaxed)));
    r.set(83, Field::u64("MCP", c.wrew.load(Relaxed)));
    r.set(94, Field::u64("MCP", c.eint.load(Relaxed)));
    r.set(84, Field::u64("MCP", c.connect.load(Relaxed)));
    r.set(85, Field::u64("MCP", c.reuse.load(Relaxed)));
    let (used_cur, used_max, need) = conn_usage(sv);
    r.set(95, Field::u32("MGP", live.idle_conns.load(Relaxed)));
    r.set(96, Field::u32("MGP", 0));
    r.set(97, Field::u32("MGP", used_cur));
    r.set(98, Field::u32("MGP", need.max(used_max)));
    r.set(
        17,
        Field::str("SGP", status::server_status(&ServerFacts::of(snap, sv))),
    );
    r.set(
        23,
        Field::u32("MAP", age(now, live.last_change_ms.load(Relaxed))),
    );
    r.set(18, Field::u32("MaP", sv.shown_weight(now)));
    r.set(99, Field::u32("MaP", sv.uweight));
    r.set(19, Field::u32("SGP", u32::from(!sv.cfg.backup)));
    r.set(20, Field::u32("SGP", u32::from(sv.cfg.backup)));
    if checked {
        r.set(21, Field::u64("MCP", live.chkfail.load(Relaxed)));
        r.set(22, Field::u64("MCP", live.chkdown.load(Relaxed)));
        r.set(24, Field::u32("MCP", live.downtime_secs(now) as u32));
    }
    if let Some(q) = sv.cfg.maxqueue.filter(|q| *q > 0) {
        r.set(25, Field::u32("CGS", q));
    }
    if live.op_state() == OpState::Starting && !sv.admin.is_drain() {
        if let Some(t) = sv.throttle_pct(now) {
            r.set(29, Field::u32("MaP", t));
        }
    }
    r.set(30, Field::u64("MCP", c.lbtot.load(Relaxed)));
    if let Some(t) = &sv.cfg.track {
        let via = ServerFacts::of(snap, sv)
            .track_via
            .unwrap_or_else(|| t.clone());
        r.set(31, Field::str("CNS", via));
    }
    r.set(33, Field::u32("MRP", c.sess_rate.rate()));
    r.set(35, Field::u32("MMP", c.sess_rate.max()));
    if checked && !paused {
        let st = live.check_status();
        let prefix = if live.check_running.load(Relaxed) {
            "* "
        } else {
            ""
        };
        r.set(36, Field::str("MOP", format!("{prefix}{}", st.name())));
        if shows_code(st) {
            r.set(
                37,
                Field::u32("MOP", u32::from(live.check_code.load(Relaxed))),
            );
        }
        if shows_duration(st) {
            r.set(
                38,
                Field::u64("MDP", live.check_duration_ms.load(Relaxed).max(0) as u64),
            );
        }
        r.set(65, Field::str("MOP", st.desc()));
        let last = live
            .last_check_text
            .load_full()
            .map(|s| s.to_string())
            .unwrap_or_default();
        r.set(56, Field::str("MOP", last));
        r.set(67, Field::u32("CGS", reference.cfg.rise));
        r.set(68, Field::u32("CGS", reference.cfg.fall));
        r.set(69, Field::u32("CGS", reference.live.health.load(Relaxed)));
    }
    if sv.cfg.agent_check && sv.cfg.agent_port.is_some() && !paused {
        r.set(62, Field::str("MOP", "INI"));
        r.set(64, Field::u64("MDP", 0));
        r.set(66, Field::str("MOP", "Initializing"));
        r.set(57, Field::str("MOP", ""));
        r.set(70, Field::u32("CGS", 1));
        r.set(71, Field::u32("CGS", 1));
        r.set(72, Field::u32("CGS", 1));
    }
    if http(px) {
        r.set(48, Field::u64("MCP", c.req_tot.load(Relaxed)));
        hrsp(&mut r, c);
    }
    if reference.cfg.observe.is_some() {
        r.set(45, Field::u64("MCP", live.hanafail.load(Relaxed)));
    }
    r.set(49, Field::u64("MCP", c.cli_abrt.load(Relaxed)));
    r.set(50, Field::u64("MCP", c.srv_abrt.load(Relaxed)));
    r.set(55, Field::s32("MAP", lastsess(now, c)));
    times(
        &mut r,
        c,
        if http(px) {
            c.req_tot.load(Relaxed)
        } else {
            c.lbtot.load(Relaxed)
        },
    );
    if ctx.show_legends {
        if let Some(a) = server_addr(sv) {
            r.set(73, Field::str("CGS", a));
        }
        if let Some(ck) = &sv.cfg.cookie {
            r.set(74, Field::str("CNS", ck.as_str()));
        }
    }
    ssl_module(&mut r, c);
    r
}

/// `(used_cur, used_max, need_est)` of `show servers conn` and the
/// `used_conn_cur`/`need_conn_est` columns. HAProxy's maxima also count the
/// connections its health checks used, so a checked server that has been
/// checked shows at least 1.
pub fn conn_usage(sv: &ServerRt) -> (u32, u32, u32) {
    let cur = sv
        .live
        .cur_conns
        .load(Relaxed)
        .max(sv.live.counters.scur.load(Relaxed));
    let checked = sv.cfg.check
        && !matches!(
            sv.live.check_status(),
            CheckStatus::Unk | CheckStatus::Ini | CheckStatus::Start
        );
    let max = sv
        .live
        .counters
        .smax
        .load(Relaxed)
        .max(cur)
        .max(u32::from(checked));
    (cur, max, max)
}

fn times(r: &mut Row, c: &Counters, samples: u64) {
    r.set(58, Field::u32("MaP", c.qtime.avg(samples) as u32));
    r.set(59, Field::u32("MaP", c.ctime.avg(samples) as u32));
    r.set(60, Field::u32("MaP", c.rtime.avg(samples) as u32));
    r.set(61, Field::u32("MaP", c.ttime.avg(samples) as u32));
    r.set(90, Field::u32("MMP", c.qtime.max() as u32));
    r.set(91, Field::u32("MMP", c.ctime.max() as u32));
    r.set(92, Field::u32("MMP", c.rtime.max() as u32));
    r.set(93, Field::u32("MMP", c.ttime.max() as u32));
}

/// A backend's load-balancing totals: usable active/backup counts, the
/// usable weight (user units), the summed user weight (`uweight`), and the
/// servers not stopped / all servers (for `UP (n/m)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendTotals {
    pub act: u32,
    pub bck: u32,
    pub weight: u64,
    pub uweight: u64,
    pub nbup: usize,
    pub nbsrv: usize,
}

pub fn backend_totals(px: &ProxyRt, now: u64) -> BackendTotals {
    let mut t = BackendTotals::default();
    let Some(be) = &px.backend else { return t };
    let allbackups = px.cfg.options.allbackups;
    let mut act_w = 0u64;
    let mut bck_w = 0u64;
    let mut first_bck: Option<&ServerRt> = None;
    for sv in &be.servers {
        t.nbsrv += 1;
        let stopped = sv.admin.is_maint() || sv.live.op_state() == OpState::Stopped;
        if !stopped {
            t.nbup += 1;
        }
        if sv.is_usable() {
            if sv.cfg.backup {
                t.bck += 1;
                bck_w += u64::from(sv.effective_weight(now));
                first_bck.get_or_insert(sv);
            } else {
                t.act += 1;
                act_w += u64::from(sv.effective_weight(now));
            }
        }
    }
    if t.act > 0 {
        t.weight = act_w;
        t.uweight = be
            .servers
            .iter()
            .filter(|s| s.is_usable() && !s.cfg.backup)
            .map(|s| u64::from(s.uweight))
            .sum();
    } else if allbackups {
        t.weight = bck_w;
        t.uweight = be
            .servers
            .iter()
            .filter(|s| s.is_usable() && s.cfg.backup)
            .map(|s| u64::from(s.uweight))
            .sum();
    } else if let Some(f) = first_bck {
        t.weight = u64::from(f.effective_weight(now));
        t.uweight = u64::from(f.uweight);
    }
    t
}

fn backend_row(px: &ProxyRt, pi: ProxyIdx, ctx: RowCtx, filter: RowFilter) -> Row {
    let now = ctx.now_ms;
    let mut r = Row::new(RowKind::Backend, px, pi, 0, None);
    let c = &px.live.be;
    let be = px.backend.as_ref();
    let nsrv = be.map(|b| b.servers.len()).unwrap_or(0);
    let t = backend_totals(px, now);
    r.set(1, Field::str("KNS", "BACKEND"));
    r.set(2, Field::u32("MGP", c.qcur.load(Relaxed)));
    r.set(3, Field::u32("MMP", c.qmax.load(Relaxed)));
    r.set(4, Field::u32("MGP", c.scur.load(Relaxed)));
    r.set(5, Field::u32("MMP", c.smax.load(Relaxed)));
    r.set(6, Field::u32("CLP", be.map(|b| b.fullconn).unwrap_or(1)));
    r.set(7, Field::u64("MCP", c.stot.load(Relaxed)));
    r.set(8, Field::u64("MCP", c.bin.load(Relaxed)));
    r.set(9, Field::u64("MCP", c.bout.load(Relaxed)));
    r.set(10, Field::u64("MCP", c.dreq.load(Relaxed)));
    r.set(11, Field::u64("MCP", c.dresp.load(Relaxed)));
    r.set(13, Field::u64("MCP", c.econ.load(Relaxed)));
    r.set(14, Field::u64("MCP", c.eresp.load(Relaxed)));
    r.set(15, Field::u64("MCP", c.wretr.load(Relaxed)));
    r.set(16, Field::u64("MCP", c.wredis.load(Relaxed)));
    r.set(83, Field::u64("MCP", c.wrew.load(Relaxed)));
    r.set(94, Field::u64("MCP", c.eint.load(Relaxed)));
    r.set(84, Field::u64("MCP", c.connect.load(Relaxed)));
    r.set(85, Field::u64("MCP", c.reuse.load(Relaxed)));
    let filtered = (filter.hide_down || filter.hide_maint).then_some((t.nbup, t.nbsrv));
    r.set(
        17,
        Field::str("SGP", status::backend_status(t.weight, nsrv, filtered)),
    );
    for i in 100..=102 {
        r.set(i, Field::u32("MGP", 0));
    }
    r.set(18, Field::u32("MaP", t.weight as u32));
    r.set(99, Field::u32("MaP", t.uweight as u32));
    r.set(19, Field::u32("MGP", t.act));
    r.set(20, Field::u32("MGP", t.bck));
    r.set(22, Field::u64("MCP", px.live.be_chkdown.load(Relaxed)));
    r.set(
        23,
        Field::u32("MAP", age(now, px.live.be_last_change_ms.load(Relaxed))),
    );
    if nsrv > 0 {
        let mut down = px.live.be_downtime_ms.load(Relaxed);
        let since = px.live.be_down_since_ms.load(Relaxed);
        if since != 0 {
            down += now.saturating_sub(since);
        }
        r.set(24, Field::u32("MCP", (down / 1000) as u32));
    }
    r.set(30, Field::u64("MCP", c.lbtot.load(Relaxed)));
    r.set(33, Field::u32("MGP", c.sess_rate.rate()));
    r.set(35, Field::u32("MGP", c.sess_rate.max()));
    if ctx.show_legends {
        if let Some(ck) = px
            .backend
            .as_ref()
            .and(px.cfg.backend.as_ref())
            .and_then(|b| b.cookie.as_ref())
        {
            r.set(74, Field::str("CNS", ck.name.as_str()));
        }
        if let Some(b) = &px.cfg.backend {
            r.set(76, Field::str("CGS", b.balance.name()));
        }
    }
    if http(px) {
        r.set(48, Field::u64("MCP", c.req_tot.load(Relaxed)));
        hrsp(&mut r, c);
        r.set(86, Field::u64("MCP", 0));
        r.set(87, Field::u64("MCP", 0));
    }
    r.set(49, Field::u64("MCP", c.cli_abrt.load(Relaxed)));
    r.set(50, Field::u64("MCP", c.srv_abrt.load(Relaxed)));
    for i in 51..=54 {
        r.set(i, Field::u64("MCP", 0));
    }
    r.set(55, Field::s32("MAP", lastsess(now, c)));
    times(
        &mut r,
        c,
        if http(px) {
            c.req_tot.load(Relaxed)
        } else {
            c.lbtot.load(Relaxed)
        },
    );
    modules_proxy(&mut r, c, false);
    r
}

/// Whether a proxy has a FRONTEND row.
pub fn has_frontend(px: &ProxyRt) -> bool {
    px.kind.has_frontend() && px.frontend.is_some()
}

/// Whether a proxy has a BACKEND row.
pub fn has_backend(px: &ProxyRt) -> bool {
    matches!(px.kind, ProxyKind::Backend | ProxyKind::Listen) && px.backend.is_some()
}
