use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use switchyard_testkit::{eventually, eventually_async, eventually_named};

const SEC: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(5);

#[test]
fn returns_the_value_once_some() {
    let mut n = 0;
    let v = eventually(SEC, TICK, || {
        n += 1;
        (n >= 3).then_some(n * 10)
    });
    assert_eq!(v, 30);
}

#[test]
fn accepts_bool_and_result() {
    let mut n = 0;
    eventually(SEC, TICK, || {
        n += 1;
        n == 2
    });
    let mut m = 0;
    let v: u32 = eventually(SEC, TICK, || {
        m += 1;
        if m < 3 {
            Err("not yet")
        } else {
            Ok(m)
        }
    });
    assert_eq!(v, 3);
}

#[test]
#[should_panic(expected = "did not happen within")]
fn panics_on_timeout() {
    eventually(Duration::from_millis(50), TICK, || false);
}

#[test]
#[should_panic(expected = "last error: \"still down\"")]
fn timeout_message_quotes_last_error() {
    eventually_named("blue is UP", Duration::from_millis(30), TICK, || {
        Err::<(), _>("still down")
    });
}

#[test]
fn timeout_names_the_condition() {
    let caught = std::panic::catch_unwind(|| {
        eventually_named("blue is UP", Duration::from_millis(20), TICK, || false)
    });
    let msg = caught
        .err()
        .and_then(|e| e.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("blue is UP"), "{msg}");
}

#[tokio::test]
async fn async_variant_waits_on_futures() {
    let counter = AtomicU32::new(0);
    let v = eventually_async(SEC, TICK, || async {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        (n >= 4).then_some(n)
    })
    .await;
    assert_eq!(v, 4);
}

#[tokio::test(start_paused = true)]
async fn async_variant_follows_paused_time() {
    let start = tokio::time::Instant::now();
    let v = eventually_async(
        Duration::from_secs(3600),
        Duration::from_secs(60),
        || async {
            (tokio::time::Instant::now() - start >= Duration::from_secs(600)).then_some(())
        },
    )
    .await;
    assert_eq!(v, ());
}

#[tokio::test]
#[should_panic(expected = "did not happen within")]
async fn async_variant_panics_on_timeout() {
    eventually_async(Duration::from_millis(30), TICK, || async { false }).await;
}
