//! hey's output, byte for byte in layout: the summary template of hey 0.1.4 (the Debian
//! package) and its `-o csv` form. One deliberate difference: the `DNS+dialup` line
//! shows the fastest and slowest dial, as upstream hey fixed it, not 0.1.4's copy of
//! the total latencies. The bar is U+25A0 as the Debian build prints it.

use super::outcome::go_method_op;
use super::stats::HeyStats;
use std::fmt::Write as _;
use std::time::Duration;

const BAR: &str = "■";
const PCTLS: [usize; 7] = [10, 25, 50, 75, 90, 95, 99];

/// Go's `%4.4f`.
fn num(x: f64) -> String {
    format!("{x:4.4}")
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

fn min_max(v: &[f64]) -> (f64, f64) {
    let v = sorted(v);
    match (v.first(), v.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (0.0, 0.0),
    }
}

/// What the summary needs besides the statistics.
pub struct SummaryContext<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub total: Duration,
    /// Responses per backend label, shown after the status codes when attribution is on.
    pub backends: Option<Vec<(String, u64)>>,
}

/// The summary hey prints at the end of a run.
pub fn render(stats: &HeyStats, ctx: &SummaryContext<'_>) -> String {
    let n = stats.lats.len();
    let lats = sorted(&stats.lats);
    let avg = |sum: f64| sum / n as f64;
    let (fastest, slowest) = (
        lats.first().copied().unwrap_or(0.0),
        lats.last().copied().unwrap_or(0.0),
    );
    let mut out = String::new();
    out.push_str("\nSummary:\n");
    let _ = writeln!(out, "  Total:\t{} secs", num(ctx.total.as_secs_f64()));
    let _ = writeln!(out, "  Slowest:\t{} secs", num(slowest));
    let _ = writeln!(out, "  Fastest:\t{} secs", num(fastest));
    let _ = writeln!(out, "  Average:\t{} secs", num(avg(stats.sum_total)));
    let rps = stats.num_res as f64 / ctx.total.as_secs_f64();
    let _ = writeln!(out, "  Requests/sec:\t{}", num(rps));
    out.push_str("  ");
    if n > 0 && stats.size_total > 0 {
        let _ = write!(
            out,
            "\n  Total data:\t{} bytes\n  Size/request:\t{} bytes",
            stats.size_total,
            stats.size_total / n as u64
        );
    }
    out.push_str("\n\nResponse time histogram:\n");
    if n > 0 {
        out.push_str(&histogram(&lats));
    }
    out.push_str("\n\nLatency distribution:");
    if n > 0 {
        for (pct, lat) in latencies(&lats) {
            let _ = write!(out, "\n  {pct}% in {} secs", num(lat));
        }
    }
    out.push_str("\n\nDetails (average, fastest, slowest):");
    let sections = [
        ("DNS+dialup", stats.sum_conn, &stats.conn_lats),
        ("DNS-lookup", stats.sum_dns, &stats.dns_lats),
        ("req write", stats.sum_req, &stats.req_lats),
        ("resp wait", stats.sum_delay, &stats.delay_lats),
        ("resp read", stats.sum_res, &stats.res_lats),
    ];
    for (tag, sum, v) in sections {
        let (lo, hi) = min_max(v);
        let _ = write!(
            out,
            "\n  {tag}:\t{} secs, {} secs, {} secs",
            num(avg(sum)),
            num(lo),
            num(hi)
        );
    }
    out.push_str("\n\nStatus code distribution:");
    for (code, count) in &stats.status_dist {
        let _ = write!(out, "\n  [{code}]\t{count} responses");
    }
    if let Some(backends) = &ctx.backends {
        out.push_str("\n\nBackend distribution:");
        for (name, count) in backends {
            let _ = write!(out, "\n  [{name}]\t{count} responses");
        }
    }
    out.push_str("\n\n");
    if !stats.error_dist.is_empty() {
        out.push_str("Error distribution:");
        let op = go_method_op(ctx.method);
        let mut errors: Vec<_> = stats.error_dist.iter().collect();
        errors.sort();
        for (detail, count) in errors {
            let _ = write!(out, "\n  [{count}]\t{op} \"{}\": {detail}", ctx.url);
        }
    }
    out.push_str("\n\n");
    out
}

/// hey's percentile pick: the first latency whose rank reaches each percentage; a
/// percentage never reached prints as `0% in 0.0000 secs`, as hey does.
fn latencies(lats: &[f64]) -> Vec<(usize, f64)> {
    let mut data = [0.0f64; PCTLS.len()];
    let mut j = 0;
    for (i, lat) in lats.iter().enumerate() {
        if j >= PCTLS.len() {
            break;
        }
        if i * 100 / lats.len() >= PCTLS[j] {
            data[j] = *lat;
            j += 1;
        }
    }
    PCTLS
        .iter()
        .zip(data)
        .map(|(p, d)| if d > 0.0 { (*p, d) } else { (0, 0.0) })
        .collect()
}

/// hey's 11-bucket histogram with bars scaled to 40 characters.
fn histogram(lats: &[f64]) -> String {
    const BC: usize = 10;
    let (fastest, slowest) = (lats[0], lats[lats.len() - 1]);
    let bs = (slowest - fastest) / BC as f64;
    let mut marks = [0.0f64; BC + 1];
    for (i, mark) in marks.iter_mut().enumerate().take(BC) {
        *mark = fastest + bs * i as f64;
    }
    marks[BC] = slowest;
    let mut counts = [0usize; BC + 1];
    let (mut bi, mut i) = (0, 0);
    while i < lats.len() {
        if lats[i] <= marks[bi] {
            i += 1;
            counts[bi] += 1;
        } else if bi < BC {
            bi += 1;
        } else {
            // Unreachable for sorted input (the last mark is the maximum); stay total.
            counts[BC] += lats.len() - i;
            break;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    let mut out = String::new();
    for (mark, count) in marks.iter().zip(counts) {
        let bar = (count * 40 + max / 2).checked_div(max).unwrap_or(0);
        let _ = writeln!(out, "  {mark:4.3} [{count}]\t|{}", BAR.repeat(bar));
    }
    out
}

/// hey's `-o csv`: one row per successful request, in completion order.
pub fn render_csv(stats: &HeyStats) -> String {
    let mut out = String::from(
        "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset",
    );
    for i in 0..stats.lats.len() {
        let _ = write!(
            out,
            "\n{},{},{},{},{},{},{},{}",
            num(stats.lats[i]),
            num(stats.conn_lats[i]),
            num(stats.dns_lats[i]),
            num(stats.req_lats[i]),
            num(stats.delay_lats[i]),
            num(stats.res_lats[i]),
            stats.codes[i],
            num(stats.offsets[i]),
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_hey_for_small_runs() {
        let l = latencies(&[0.1, 0.2, 0.3]);
        assert_eq!(l[0], (10, 0.2));
        assert_eq!(l[1], (25, 0.3));
        assert_eq!(l[2], (0, 0.0));
    }

    #[test]
    fn histogram_puts_everything_in_first_bucket_when_flat() {
        let h = histogram(&[0.002, 0.002]);
        let first = h.lines().next().expect("a line");
        assert!(first.starts_with("  0.002 [2]\t|■■■■"), "{first}");
        assert_eq!(h.lines().count(), 11);
    }

    #[test]
    fn empty_run_layout() {
        let stats = HeyStats {
            num_res: 20,
            error_dist: [(
                "dial tcp 127.0.0.1:1: connect: connection refused".into(),
                20,
            )]
            .into_iter()
            .collect(),
            ..HeyStats::default()
        };
        let ctx = SummaryContext {
            method: "GET",
            url: "http://127.0.0.1:1/",
            total: Duration::from_millis(2),
            backends: None,
        };
        let text = render(&stats, &ctx);
        let want = "\nSummary:\n  Total:\t0.0020 secs\n  Slowest:\t0.0000 secs\n  Fastest:\t0.0000 secs\n  Average:\t NaN secs\n  Requests/sec:\t10000.0000\n  \n\nResponse time histogram:\n\n\nLatency distribution:\n\nDetails (average, fastest, slowest):\n  DNS+dialup:\t NaN secs, 0.0000 secs, 0.0000 secs\n  DNS-lookup:\t NaN secs, 0.0000 secs, 0.0000 secs\n  req write:\t NaN secs, 0.0000 secs, 0.0000 secs\n  resp wait:\t NaN secs, 0.0000 secs, 0.0000 secs\n  resp read:\t NaN secs, 0.0000 secs, 0.0000 secs\n\nStatus code distribution:\n\nError distribution:\n  [20]\tGet \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused\n\n";
        assert_eq!(text, want);
    }
}
