//! The seed-004 cutover as one procedure, for a fleet: check every target, note every
//! previous value, switch every target, verify every target, smoke test, and on any
//! failure after the first change put every touched target back. Then persist the map
//! file and wait for the old backend to drain.
//!
//! Persisting comes before the drain wait (not after, as in the brief's step list): the
//! switch is final once the smoke test passes, and a reload during a long drain must
//! not read the old value back from disk.

use crate::error::CtlError;
use crate::fleet::{map_value, map_values, set_map};
use crate::ops::drain::{wait_drained, Watch};
use crate::ops::health::wait_backends_up;
use crate::ops::persist;
use crate::ops::smoke::{self, SmokeSpec};
use crate::ops::statefile::{self, SwitchRecord};
use crate::render::report::Report;
use crate::runtime::Client;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub struct Plan {
    /// `cutover` or `rollback` (recorded in the state file and messages).
    pub command: &'static str,
    pub map: String,
    pub key: String,
    /// The value each target must end with (the same for all in a cutover).
    pub desired: Vec<(Client, String)>,
    pub min_up: usize,
    pub wait_up_timeout: Duration,
    pub smoke: Option<SmokeSpec>,
    pub drain_timeout: Option<Duration>,
    pub persist: Option<PathBuf>,
    pub state_file: PathBuf,
    pub interval: Duration,
}

/// One target's part in the switch.
struct Leg {
    client: Client,
    previous: String,
    desired: String,
}

impl Leg {
    fn changes(&self) -> bool {
        self.previous != self.desired
    }
}

pub fn execute(plan: &Plan, report: &mut Report) -> Result<String, CtlError> {
    report.set("map", &plan.map);
    report.set("key", &plan.key);
    report.set("rolled_back", false);
    let to: BTreeMap<String, String> = plan
        .desired
        .iter()
        .map(|(c, v)| (c.target().to_string(), v.clone()))
        .collect();
    report.set("to", &to);
    let persist_path = preflight_persist(plan)?;

    check_up(plan, report)?;
    let legs = note(plan, report)?;
    report.set("previous", by_target(&legs, |l| &l.previous));

    if !legs.iter().any(Leg::changes) {
        report.step(
            "switch",
            None,
            true,
            "already set on every target; nothing to switch",
        );
        verify(plan, &legs, report).map_err(|(_, e)| e)?;
        if let Some(path) = &persist_path {
            persist_file(plan, &legs, path, report)?;
        }
        return Ok(format!(
            "{}: {} {:?} already {} on {} target(s); nothing changed",
            plan.command,
            plan.map,
            plan.key,
            describe_values(&legs, |l| &l.desired),
            legs.len()
        ));
    }

    let old_record = statefile::snapshot(&plan.state_file)?;
    let record = SwitchRecord::new(
        &plan.map,
        &plan.key,
        plan.command,
        by_target(&legs, |l| &l.previous),
        by_target(&legs, |l| &l.desired),
    );
    statefile::save(&plan.state_file, &record)?;
    report.step(
        "record",
        None,
        true,
        format!("previous values saved in {}", plan.state_file.display()),
    );

    let mut touched: Vec<&Leg> = Vec::new();
    for leg in legs.iter().filter(|l| l.changes()) {
        touched.push(leg);
        match set_map(&leg.client, &plan.map, &plan.key, &leg.desired) {
            Ok(()) => report.step(
                "switch",
                Some(leg.client.target()),
                true,
                format!("set map {} {} {}", plan.map, plan.key, leg.desired),
            ),
            Err(e) => {
                report.step("switch", Some(leg.client.target()), false, e.to_string());
                let why = format!("switch failed on {}: {e}", leg.client.target());
                return Err(abort(plan, &touched, old_record.as_deref(), why, report));
            }
        }
    }

    if let Err((_, e)) = verify(plan, &legs, report) {
        let why = format!("verification failed: {e}");
        return Err(abort(plan, &touched, old_record.as_deref(), why, report));
    }

    if let Some(spec) = &plan.smoke {
        let results = smoke::run(spec);
        for r in &results {
            report.step("smoke", None, r.ok, r.detail.clone());
        }
        report.set("smoke", &results);
        if let Some(bad) = results.iter().find(|r| !r.ok) {
            let why = format!("smoke test failed: {}", bad.detail);
            return Err(abort(plan, &touched, old_record.as_deref(), why, report));
        }
    }

    if let Some(path) = &persist_path {
        persist_file(plan, &legs, path, report)?;
    }

    let summary = format!(
        "{} done: {} {:?} {} -> {} on {} target(s)",
        plan.command,
        plan.map,
        plan.key,
        describe_values(&legs, |l| &l.previous),
        describe_values(&legs, |l| &l.desired),
        legs.len()
    );
    if let Some(deadline) = plan.drain_timeout {
        drain_old(plan, &legs, deadline, report, &summary)?;
    }
    Ok(summary)
}

fn preflight_persist(plan: &Plan) -> Result<Option<PathBuf>, CtlError> {
    let Some(path) = &plan.persist else {
        return Ok(None);
    };
    let first = plan.desired.first().map(|(_, v)| v);
    if plan.desired.iter().any(|(_, v)| Some(v) != first) {
        return Err(CtlError::Usage(
            "--persist needs one value for every target, but the targets get different values"
                .into(),
        ));
    }
    persist::preflight(path).map(Some)
}

/// Step 1: the new backend has enough servers exactly UP on every target.
fn check_up(plan: &Plan, report: &mut Report) -> Result<(), CtlError> {
    let mut progress = report.progress();
    let waited = wait_backends_up(
        &plan.desired,
        plan.min_up,
        plan.wait_up_timeout,
        plan.interval,
        &mut progress,
    )
    .inspect_err(|e| report.step("check", None, false, e.to_string()))?;
    for h in &waited.value {
        let ok = h.up >= plan.min_up;
        let detail = format!("{} (need {})", h.describe(), plan.min_up);
        report.step("check", Some(&h.target), ok, detail);
    }
    report.set("check", &waited.value);
    if waited.done {
        return Ok(());
    }
    let short: Vec<String> = waited
        .value
        .iter()
        .filter(|h| h.up < plan.min_up)
        .map(|h| format!("{} on {}", h.describe(), h.target))
        .collect();
    Err(CtlError::Precondition(format!(
        "need {} server(s) exactly UP, still not the case after {:.0?}: {}; nothing was changed",
        plan.min_up,
        waited.elapsed,
        short.join("; ")
    )))
}

/// Step 2: the current value on every target.
fn note(plan: &Plan, report: &mut Report) -> Result<Vec<Leg>, CtlError> {
    let mut legs = Vec::with_capacity(plan.desired.len());
    for (client, desired) in &plan.desired {
        let previous = map_value(client, &plan.map, &plan.key).inspect_err(|e| {
            report.step("note", Some(client.target()), false, e.to_string());
        })?;
        report.step(
            "note",
            Some(client.target()),
            true,
            format!("{} {} = {previous}", plan.map, plan.key),
        );
        legs.push(Leg {
            client: client.clone(),
            previous,
            desired: desired.clone(),
        });
    }
    Ok(legs)
}

/// Step 4: every target's map shows the desired value for every entry of the key.
fn verify(plan: &Plan, legs: &[Leg], report: &mut Report) -> Result<(), (usize, CtlError)> {
    for (i, leg) in legs.iter().enumerate() {
        let target = leg.client.target();
        let values = map_values(&leg.client, &plan.map, &plan.key).map_err(|e| (i, e))?;
        if !values.is_empty() && values.iter().all(|v| *v == leg.desired) {
            report.step(
                "verify",
                Some(target),
                true,
                format!("show map: {} {}", plan.key, leg.desired),
            );
            continue;
        }
        let found = if values.is_empty() {
            "no entry".to_owned()
        } else {
            values.join(", ")
        };
        let detail = format!(
            "show map has {} = {found}, expected {}",
            plan.key, leg.desired
        );
        report.step("verify", Some(target), false, detail.clone());
        return Err((i, leg.client.protocol("show map", detail)));
    }
    Ok(())
}

/// Puts every touched target back to its previous value and checks it; returns the
/// error to end the command with (exit 4, or 6 if any target could not be restored).
fn abort(
    plan: &Plan,
    touched: &[&Leg],
    old_record: Option<&[u8]>,
    why: String,
    report: &mut Report,
) -> CtlError {
    let mut failures = Vec::new();
    for leg in touched {
        let target = leg.client.target();
        let result = set_map(&leg.client, &plan.map, &plan.key, &leg.previous).and_then(|()| {
            let values = map_values(&leg.client, &plan.map, &plan.key)?;
            if values.iter().all(|v| *v == leg.previous) && !values.is_empty() {
                Ok(())
            } else {
                Err(leg.client.protocol(
                    "show map",
                    format!("{} = {} after rollback", plan.key, values.join(", ")),
                ))
            }
        });
        match result {
            Ok(()) => report.step(
                "rollback",
                Some(target),
                true,
                format!("{} {} back to {}", plan.map, plan.key, leg.previous),
            ),
            Err(e) => {
                report.step("rollback", Some(target), false, e.to_string());
                failures.push(format!("{target} should be {} but: {e}", leg.previous));
            }
        }
    }
    if failures.is_empty() {
        report.set("rolled_back", true);
        // The cutover did not happen: the recorded "previous" must not change.
        if let Err(e) = statefile::restore(&plan.state_file, old_record) {
            report.step("record", None, false, e.to_string());
        }
        CtlError::RolledBack { detail: why }
    } else {
        CtlError::RollbackFailed {
            detail: why,
            rollback: failures.join("; "),
        }
    }
}

fn persist_file(
    plan: &Plan,
    legs: &[Leg],
    path: &std::path::Path,
    report: &mut Report,
) -> Result<(), CtlError> {
    let Some(value) = legs.first().map(|l| l.desired.as_str()) else {
        return Ok(());
    };
    match persist::persist(path, &plan.key, value) {
        Ok(done) => {
            let what = match (done.written, done.appended) {
                (false, _) => "already up to date".to_owned(),
                (true, true) => format!("appended {} {value} (atomic rename)", plan.key),
                (true, false) => format!("{} {value} (atomic rename)", plan.key),
            };
            report.step(
                "persist",
                None,
                true,
                format!("{}: {what}", done.path.display()),
            );
            report.set("persisted", &done);
            Ok(())
        }
        Err(e) => {
            report.step("persist", None, false, e.to_string());
            Err(CtlError::BadLocalFile {
                path: path.to_owned(),
                detail: format!("--persist failed ({e}); the runtime switch is done and kept"),
            })
        }
    }
}

/// Waits until nothing is in flight on the backends the targets were switched away from.
fn drain_old(
    plan: &Plan,
    legs: &[Leg],
    deadline: Duration,
    report: &mut Report,
    summary: &str,
) -> Result<(), CtlError> {
    let mut watches = Vec::new();
    for leg in legs.iter().filter(|l| l.changes()) {
        let watch = Watch {
            client: leg.client.clone(),
            backend: leg.previous.clone(),
            server: None,
        };
        // The old value may not name a backend at all (a map used for something else).
        match crate::fleet::in_flight(&watch.client, &watch.backend, None) {
            Ok(_) => watches.push(watch),
            Err(CtlError::UnknownObject { reply, .. }) => report.step(
                "drain",
                Some(leg.client.target()),
                true,
                format!(
                    "{} is not a backend here ({reply}); nothing to drain",
                    leg.previous
                ),
            ),
            Err(e) => return Err(e),
        }
    }
    if watches.is_empty() {
        return Ok(());
    }
    let mut progress = report.progress();
    let drained = wait_drained(&watches, deadline, plan.interval, &mut progress)?;
    report.step("drain", None, drained.complete, drained.describe());
    report.set("drain", &drained);
    if drained.complete {
        Ok(())
    } else {
        Err(CtlError::DrainDeadline(format!(
            "{summary}, but {} (the switch is kept)",
            drained.describe()
        )))
    }
}

fn by_target(legs: &[Leg], value: impl Fn(&Leg) -> &String) -> BTreeMap<String, String> {
    legs.iter()
        .map(|l| (l.client.target().to_string(), value(l).clone()))
        .collect()
}

/// `be_blue`, or `{a: x, b: y}` when targets differ.
fn describe_values(legs: &[Leg], value: impl Fn(&Leg) -> &String) -> String {
    let first = legs.first().map(&value);
    if legs.iter().all(|l| Some(value(l)) == first) {
        return first.cloned().unwrap_or_default();
    }
    let each: Vec<String> = legs
        .iter()
        .map(|l| format!("{}: {}", l.client.target(), value(l)))
        .collect();
    format!("{{{}}}", each.join(", "))
}
