use nix::sys::signal::kill;
use nix::unistd::Pid;
use std::process::Command;
use std::time::{Duration, Instant};
use switchyard_testkit::{eventually, ChildGuard, Signal};

const WAIT: Duration = Duration::from_secs(10);

fn alive(pid: u32) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
}

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(script);
    c
}

#[test]
fn kills_on_drop() {
    let guard = ChildGuard::spawn("sleeper", sh("echo up; exec sleep 100")).expect("spawn");
    let pid = guard.pid();
    guard.wait_for_line("up", WAIT);
    assert!(alive(pid));
    drop(guard);
    assert!(!alive(pid), "pid {pid} survived the guard");
}

#[test]
fn sigkills_a_child_that_ignores_sigterm_and_its_group() {
    let guard = ChildGuard::spawn(
        "stubborn",
        sh("trap '' TERM; sleep 100 & echo grandchild $!; wait"),
    )
    .expect("spawn")
    .with_stop_timeout(Duration::from_millis(300));
    let line = guard.wait_for_line("grandchild", WAIT);
    let grandchild: u32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    let pid = guard.pid();
    let start = Instant::now();
    drop(guard);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(!alive(pid));
    eventually(WAIT, Duration::from_millis(10), || !alive(grandchild));
}

#[test]
fn captures_both_streams_while_running() {
    let guard = ChildGuard::spawn(
        "talker",
        sh("echo out-1; echo err-1 >&2; sleep 0.2; echo out-2; exec sleep 100"),
    )
    .expect("spawn");
    guard.wait_for_line("out-2", WAIT);
    assert_eq!(guard.stdout_lines(), vec!["out-1", "out-2"]);
    assert_eq!(guard.stderr_lines(), vec!["err-1"]);
    assert_eq!(guard.lines().len(), 3);
    let re = regex::Regex::new(r"^err-\d$").expect("regex");
    assert_eq!(guard.wait_for_line(&re, WAIT), "err-1");
    let mark = guard.line_count();
    assert!(guard
        .output()
        .wait_for_line_from(mark, &"out-1", Duration::from_millis(50))
        .is_none());
}

#[test]
fn signal_reaches_the_child() {
    let mut guard = ChildGuard::spawn(
        "trapper",
        sh("trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.05; done"),
    )
    .expect("spawn");
    guard.wait_for_line("ready", WAIT);
    guard.signal(Signal::SIGUSR1).expect("signal");
    guard.wait_for_line("got-usr1", WAIT);
    assert!(guard.is_running());
    let status = guard.stop().expect("status");
    assert!(!status.success());
    assert!(
        guard.signal(Signal::SIGUSR1).is_err(),
        "reaped child must not be signalled"
    );
}

#[test]
fn wait_for_line_gives_up_when_the_process_exits() {
    let mut guard = ChildGuard::spawn("short", sh("echo bye")).expect("spawn");
    let start = Instant::now();
    assert!(guard.try_wait_for_line("never", WAIT).is_none());
    assert!(start.elapsed() < WAIT);
    let status = guard.wait_exit(WAIT).expect("exited");
    assert!(status.success());
}

#[test]
#[should_panic(expected = "no line matching \"never\"")]
fn wait_for_line_panics_with_output() {
    let guard = ChildGuard::spawn("quiet", sh("echo something; exec sleep 100")).expect("spawn");
    guard.wait_for_line("never", Duration::from_millis(100));
}
