use switchyard_testkit::{hey_available, parse_hey, run_hey, Behavior, FakeUpstream};

const SAMPLE_OK: &str =
    "\nSummary:\n  Total:\t0.0228 secs\n  Slowest:\t0.0045 secs\n  Requests/sec:\t878.1858\n  \n\
Status code distribution:\n  [200]\t20 responses\n  [503]\t2 responses\n\n\n";

const SAMPLE_ERR: &str = "\nSummary:\n  Total:\t0.0010 secs\n  Average:\t NaN secs\n  Requests/sec:\t4857.3022\n\n\
Status code distribution:\n\nError distribution:\n  [5]\tGet \"http://127.0.0.1:18556/\": dial tcp 127.0.0.1:18556: connect: connection refused\n";

#[test]
fn parses_statuses_and_errors() {
    let s = parse_hey(SAMPLE_OK);
    assert_eq!(s.total_requests, 22);
    assert_eq!(s.count(200), 20);
    assert_eq!(s.count(503), 2);
    assert_eq!(s.failed(), 2);
    assert_eq!(s.requests_per_sec, Some(878.1858));
    assert_eq!(s.total_secs, Some(0.0228));
    let e = parse_hey(SAMPLE_ERR);
    assert_eq!(e.total_requests, 5);
    assert_eq!(e.error_count(), 5);
    assert!(e.errors[0].1.contains("connection refused"));
}

#[test]
fn runs_real_hey_against_a_fake_upstream() {
    if !hey_available() {
        eprintln!("hey not installed; skipping");
        return;
    }
    let up = FakeUpstream::start("load");
    let s = run_hey(&["-n", "200", "-c", "4", &up.url("/")]);
    assert_eq!(s.total_requests, 200, "{}", s.raw);
    s.assert_no_failures();
    assert_eq!(up.requests(), 200);
    up.set_behavior(Behavior::Unavailable);
    let s = run_hey(&["-n", "10", "-c", "2", &up.url("/")]);
    assert_eq!(s.count(503), 10);
    assert_eq!(s.failed(), 10);
}
