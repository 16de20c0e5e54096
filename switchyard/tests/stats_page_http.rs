//! The stats page, `monitor-uri` and the Prometheus exporter over HTTP,
//! against the real HAProxy 2.6 on the same config (when installed):
//! 401/200 headers, `;csv` equal to `show stat`, `;up`, `;norefresh`,
//! `;json`, the HTML page's markup (numbers aside), the admin form's
//! actions with their 303 redirects and resulting states, and the
//! exporter's metric names, labels, HELP and TYPE lines.

mod stats_page_lab;

use stats_page_lab::{csv_rows, have_haproxy, switchyard_kind, Lab, Upstreams, SETTLED};
use switchyard_testkit as tk;
use tk::{HttpResponse, ProxyKind};

const UNAUTHORIZED: &str = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";

fn labs(test: &str) -> (Upstreams, Lab, Option<Lab>) {
    let up = Upstreams::start();
    let ours = Lab::start(&switchyard_kind(), &up);
    let hap = have_haproxy(test).then(|| Lab::start(&ProxyKind::Haproxy, &up));
    (up, ours, hap)
}

/// Headers except the body framing (HAProxy streams the page chunked,
/// switchyard sends a length) and `connection` (switchyard echoes the
/// client's `Connection: close`, HAProxy does not: a proxy-side
/// difference, not the page's).
fn headers_sans_framing(r: &HttpResponse) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| n != "content-length" && n != "transfer-encoding" && n != "connection")
        .cloned()
        .collect()
}

/// All headers but `connection` (see [`headers_sans_framing`]).
fn headers_sans_connection(r: &HttpResponse) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| n != "connection")
        .cloned()
        .collect()
}

/// The HTML with every number replaced by `N` (and HAProxy's digit
/// grouping spans and human times folded), from the first proxy table on:
/// what must be equal between two proxies with the same states.
fn html_shape(html: &str) -> String {
    let start = html.find("<table class=\"tbl\"").unwrap_or(0);
    let text = html[start..]
        .replace("<span class=\"rls\">", "")
        .replace("</span>", "");
    let mut out = String::with_capacity(text.len());
    let mut in_num = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('N');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    for t in ["NdNh", "NhNm", "NmNs", "Nd", "Nh", "Nm", "Ns"] {
        out = out.replace(t, "T");
    }
    // The last session age is "?" until a server got one; "* " marks a
    // check running at that instant.
    out.replace(">?<", ">T<").replace("<u> * ", "<u> ")
}

/// `(pxname, svname, status, weight, act, bck, check_status, addr)` of each row.
fn csv_facts(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .skip(1)
        .map(|r| {
            [0, 1, 17, 18, 19, 20, 36, 73]
                .iter()
                .map(|&i| r[i].trim_start_matches("* ").to_string())
                .collect()
        })
        .collect()
}

fn check_page(lab: &Lab) {
    let who = lab.label;
    // No credentials, then wrong ones: 401 with HAProxy's exact reply.
    for auth in [None, Some("Basic YWRtaW46eA==")] {
        let url = format!("http://127.0.0.1:{}/admin", lab.fe);
        let h: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let r = tk::http_get(&url, &h).unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(r.status, 401, "{who}");
        assert_eq!(
            headers_sans_connection(&r),
            vec![
                ("content-length".to_string(), "112".to_string()),
                ("cache-control".into(), "no-cache".into()),
                ("content-type".into(), "text/html".into()),
                (
                    "www-authenticate".into(),
                    "Basic realm=\"HAProxy Statistics\"".into()
                ),
            ],
            "{who}: 401 headers"
        );
        assert_eq!(r.text(), UNAUTHORIZED, "{who}");
    }

    let page = lab.get("/admin", true);
    assert_eq!(page.status, 200, "{who}");
    assert_eq!(
        headers_sans_framing(&page),
        vec![
            ("cache-control".to_string(), "no-cache".to_string()),
            ("content-type".into(), "text/html".into()),
            ("refresh".into(), "5".into()),
        ],
        "{who}: page headers"
    );
    let html = page.text();
    for (px, sv, st) in SETTLED {
        assert!(
            html.contains(&format!("href=\"#{px}/{sv}\">{sv}</a>")),
            "{who}: row {px}/{sv}"
        );
        assert!(html.contains(&format!(" {st}</td>")), "{who}: status {st}");
    }
    assert!(html.contains("<tr class=\"maintain\">"), "{who}");
    assert!(html.contains("<tr class=\"active_draining\">"), "{who}");
    assert!(html.contains("<tr class=\"active_down\">"), "{who}");
    assert!(html.contains("<tr class=\"active_up\">"), "{who}");

    let nr = lab.get("/admin;norefresh", true);
    assert_eq!(nr.header("refresh"), None, "{who}: ;norefresh");
    assert!(nr.text().contains("Enable refresh</a>"), "{who}");

    // `;csv` is `show stat`: same header, rows and states; without
    // `stats show-legends` the page hides `addr` like a user-level socket.
    let csv = lab.get("/admin;csv;norefresh", true);
    assert_eq!(csv.header("content-type"), Some("text/plain"), "{who}");
    assert_eq!(csv.header("refresh"), None, "{who}");
    let web = csv_rows(&csv.text());
    let cli = lab.show_stat();
    assert_eq!(web[0], cli[0], "{who}: CSV header");
    assert_eq!(web.len(), cli.len(), "{who}: CSV rows");
    let mut cli_facts = csv_facts(&cli);
    for f in &mut cli_facts {
        f[7].clear();
    }
    assert_eq!(csv_facts(&web), cli_facts, "{who}: ;csv vs show stat");

    // `;up`: DOWN and MAINT servers hidden, `UP (n/m)` on backends.
    let up = csv_rows(&lab.get("/admin;csv;up", true).text());
    let names: Vec<String> = up
        .iter()
        .skip(1)
        .map(|r| format!("{}/{}", r[0], r[1]))
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("green/green")),
        "{who}: {names:?}"
    );
    let be: Vec<&str> = up
        .iter()
        .filter(|r| r[1] == "BACKEND")
        .map(|r| r[17].as_str())
        .collect();
    assert_eq!(
        be,
        ["UP (2/2)", "DOWN (0/2)", "UP (0/0)"],
        "{who}: ;up backend status"
    );

    let json = lab.get("/admin;json", true);
    assert_eq!(
        json.header("content-type"),
        Some("application/json"),
        "{who}"
    );
    let v = json
        .json()
        .unwrap_or_else(|e| panic!("{who}: ;json is not JSON: {e}"));
    let objs = v.as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(objs, cli.len() - 1, "{who}: one JSON object per row");
}

#[test]
fn stats_page_matches_haproxy() {
    let (_up, ours, hap) = labs("stats_page_matches_haproxy");
    check_page(&ours);
    let Some(hap) = hap else { return };
    check_page(&hap);
    for lab in [&ours, &hap] {
        lab.traffic();
    }
    for path in [
        "/admin",
        "/admin;up",
        "/admin;norefresh",
        "/admin;st=DONE;up",
        "/admin?scope=gre",
    ] {
        let (s, h) = (ours.get(path, true), hap.get(path, true));
        assert_eq!(
            headers_sans_framing(&s),
            headers_sans_framing(&h),
            "{path}: headers"
        );
        let (ss, hs) = (html_shape(&s.text()), html_shape(&h.text()));
        if ss != hs {
            let at = ss
                .bytes()
                .zip(hs.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{path}: page differs from HAProxy's at byte {at}:\nswitchyard: {}\nhaproxy:    {}",
                &ss[at.saturating_sub(200)..(at + 200).min(ss.len())],
                &hs[at.saturating_sub(200)..(at + 200).min(hs.len())]
            );
        }
    }
    // The read-only page: no admin form, no refresh, same markup.
    let url = |lab: &Lab| format!("http://127.0.0.1:{}/stats", lab.ro);
    let s = tk::http_get(&url(&ours), &[]).unwrap_or_else(|e| panic!("{e}"));
    let h = tk::http_get(&url(&hap), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(headers_sans_framing(&s), headers_sans_framing(&h));
    assert!(!s.text().contains("<form method=\"post\">"));
    assert_eq!(
        html_shape(&s.text()),
        html_shape(&h.text()),
        "read-only page"
    );
    for (a, b) in [
        ("/admin;csv", "csv"),
        ("/admin;json", "json"),
        ("/admin;typed", "typed"),
    ] {
        let (s, h) = (ours.get(a, true), hap.get(a, true));
        assert_eq!(
            headers_sans_framing(&s),
            headers_sans_framing(&h),
            "{b}: headers"
        );
    }
    let (s, h) = (
        ours.get("/admin;json-schema", true),
        hap.get("/admin;json-schema", true),
    );
    assert_eq!(s.text(), h.text(), ";json-schema");
}

/// POST one form to both; the redirect and the resulting states must agree.
fn post_both(labs: &[&Lab], path: &str, form: &str, location: &str, port_of: fn(&Lab) -> u16) {
    for lab in labs {
        let r = lab.post(port_of(lab), path, form);
        assert_eq!(r.status, 303, "{}: POST {form}", lab.label);
        assert_eq!(
            headers_sans_framing(&r),
            vec![
                ("cache-control".to_string(), "no-cache".to_string()),
                ("content-type".into(), "text/plain".into()),
                ("location".into(), location.into()),
            ],
            "{}: POST {path} {form}",
            lab.label
        );
        assert_eq!(r.header("content-length"), Some("0"), "{}", lab.label);
    }
}

#[test]
fn admin_form_actions_match_haproxy() {
    let (_up, ours, hap) = labs("admin_form_actions_match_haproxy");
    let mut all = vec![&ours];
    if let Some(h) = &hap {
        all.push(h);
    }
    // The page's form posts `s=<server>...&action=<a>&b=#<iid>`.
    let html = ours.get("/admin", true).text();
    let blue_iid = ours
        .show_stat()
        .iter()
        .find(|r| r[0] == "blue")
        .map(|r| r[27].clone());
    let blue_iid = blue_iid.unwrap_or_default();
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"b\" value=\"#{blue_iid}\">"
    )));
    assert!(
        html.contains("<input class='blue-checkbox' type=\"checkbox\" name=\"s\" value=\"blue2\">")
    );
    assert!(html.contains("<option value=\"drain\">Set state to DRAIN</option>"));

    let fe = |l: &Lab| l.fe;
    let steps: [(&str, String, &str); 8] = [
        (
            "/admin",
            format!("s=blue2&action=ready&b=%23{blue_iid}"),
            "/admin;st=DONE",
        ),
        (
            "/admin",
            "s=blue1&action=drain&b=blue".into(),
            "/admin;st=DONE",
        ),
        (
            "/admin",
            "s=green2&action=maint&b=green".into(),
            "/admin;st=DONE",
        ),
        (
            "/admin",
            "s=nosuch&action=drain&b=blue".into(),
            "/admin;st=ERRP",
        ),
        (
            "/admin",
            "s=blue1&action=bogus&b=blue".into(),
            "/admin;st=ERRP",
        ),
        (
            "/admin",
            "s=blue1&action=drain&b=nosuch".into(),
            "/admin;st=ERRP",
        ),
        ("/admin", "action=drain&b=blue".into(), "/admin;st=NONE"),
        (
            "/admin;up;norefresh",
            "s=blue1&s=nosuch&action=ready&b=blue".into(),
            "/admin;st=PART;up;norefresh",
        ),
    ];
    for (path, form, loc) in &steps {
        post_both(&all, path, form, loc, fe);
    }
    for lab in &all {
        lab.wait_statuses(&[
            ("blue", "blue1", "UP"),
            ("blue", "blue2", "UP"),
            ("green", "green1", "MAINT"),
            ("green", "green2", "MAINT"),
        ]);
        let page = lab.get("/admin;st=DONE", true).text();
        assert!(
            page.contains("Action processed successfully.</div>"),
            "{}",
            lab.label
        );
        let page = lab.get("/admin;st=ERRP", true).text();
        assert!(
            page.contains("Action not processed because of invalid parameters."),
            "{}",
            lab.label
        );
    }
    // Leaving MAINT from the page: UP at once with health = rise.
    post_both(
        &all,
        "/admin",
        "s=green1&action=ready&b=green",
        "/admin;st=DONE",
        fe,
    );
    for lab in &all {
        let (st, _) = lab.status("green", "green1").unwrap_or_default();
        assert!(st.starts_with("UP"), "{}: green1 {st}", lab.label);
    }
    // A page without `stats admin` refuses the form.
    post_both(
        &all,
        "/stats",
        "s=blue1&action=maint&b=blue",
        "/stats;st=DENY",
        |l| l.ro,
    );
    for lab in &all {
        let (st, _) = lab.status("blue", "blue1").unwrap_or_default();
        assert_eq!(st, "UP", "{}: DENY changed nothing", lab.label);
    }
}

/// `# HELP`/`# TYPE` lines and each sample's name and labels, in order.
fn prom_shape(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            if l.starts_with('#') {
                l.to_string()
            } else if l.starts_with("haproxy_process_build_info") {
                "haproxy_process_build_info{version}".to_string()
            } else {
                l.rsplit_once(' ')
                    .map(|(k, _)| k.to_string())
                    .unwrap_or_default()
            }
        })
        .collect()
}

#[test]
fn monitor_uri_and_prometheus_match_haproxy() {
    let (_up, ours, hap) = labs("monitor_uri_and_prometheus_match_haproxy");
    let mon = ours.get("/haproxy-status", false);
    assert_eq!(mon.status, 200);
    assert_eq!(
        mon.text(),
        "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"
    );
    let prom = ours.get("/metrics", false);
    assert_eq!(prom.status, 200);
    assert_eq!(
        prom.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    // Every metric family of HAProxy 2.6.12's full dump, in its order.
    let capture = include_str!("../../admin/tests/data/prometheus-metrics.txt");
    let families = |t: &str| -> Vec<String> {
        t.lines()
            .filter_map(|l| l.strip_prefix("# HELP "))
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(families(&prom.text()), families(capture), "metric families");
    let Some(hap) = hap else { return };
    for lab in [&ours, &hap] {
        lab.traffic();
    }
    let (s, h) = (
        ours.get("/haproxy-status", false),
        hap.get("/haproxy-status", false),
    );
    assert_eq!(
        (s.status, headers_sans_connection(&s), &s.body),
        (h.status, headers_sans_connection(&h), &h.body),
        "monitor-uri"
    );
    // With a query string the URI no longer matches: both forward it.
    let (s, h) = (
        ours.get("/haproxy-status?x=1", false),
        hap.get("/haproxy-status?x=1", false),
    );
    assert_eq!(
        (s.status, s.header("x-served-by")),
        (h.status, h.header("x-served-by"))
    );
    for path in [
        "/metrics",
        "/metrics?scope=backend&scope=server",
        "/metrics?no-maint",
    ] {
        let (s, h) = (ours.get(path, false), hap.get(path, false));
        assert_eq!(
            headers_sans_framing(&s),
            headers_sans_framing(&h),
            "{path}: headers"
        );
        let (ss, hs) = (prom_shape(&s.text()), prom_shape(&h.text()));
        if let Some(i) = (0..ss.len().max(hs.len())).find(|&i| ss.get(i) != hs.get(i)) {
            panic!(
                "{path}: line {i} differs: switchyard {:?}, haproxy {:?}",
                ss.get(i),
                hs.get(i)
            );
        }
    }
}
