//! Per-server commands: `drain`, `ready`, `wait-up`, each on every target.

use crate::cli::{DrainArgs, ServerArg, WaitUpArgs};
use crate::commands::Ctx;
use crate::error::CtlError;
use crate::fleet::set_server_state;
use crate::ops::drain::{wait_drained, Watch};
use crate::ops::health::{server_status, wait_backends_up, wait_server_up};
use crate::render::report::Report;

/// `set server B/S state drain` everywhere, wait for zero connections, then `maint`.
pub fn drain(ctx: &Ctx, args: &DrainArgs, report: &mut Report) -> Result<String, CtlError> {
    let (backend, server) = &args.server;
    let name = format!("{backend}/{server}");
    for client in ctx.fleet.clients() {
        set_state(client, &name, "drain", report)?;
    }
    let watches: Vec<Watch> = ctx
        .fleet
        .clients()
        .iter()
        .map(|c| Watch {
            client: c.clone(),
            backend: backend.clone(),
            server: Some(server.clone()),
        })
        .collect();
    let mut progress = report.progress();
    let drained = wait_drained(&watches, args.timeout, ctx.interval, &mut progress)?;
    report.step("drain", None, drained.complete, drained.describe());
    report.set("drain", &drained);
    if !drained.complete {
        return Err(CtlError::DrainDeadline(format!(
            "{name}: {}; it is left in DRAIN",
            drained.describe()
        )));
    }
    if args.keep_drain {
        return Ok(format!(
            "{name} drained on {} target(s), left in DRAIN",
            ctx.fleet.len()
        ));
    }
    for client in ctx.fleet.clients() {
        set_state(client, &name, "maint", report)?;
    }
    Ok(format!(
        "{name} drained and in MAINT on {} target(s)",
        ctx.fleet.len()
    ))
}

/// `set server B/S state ready` everywhere, then show the resulting status.
pub fn ready(ctx: &Ctx, args: &ServerArg, report: &mut Report) -> Result<String, CtlError> {
    let (backend, server) = &args.server;
    let name = format!("{backend}/{server}");
    let mut statuses = Vec::new();
    for client in ctx.fleet.clients() {
        set_state(client, &name, "ready", report)?;
        let status = server_status(client, backend, server)?;
        report.step(
            "status",
            Some(client.target()),
            true,
            format!("{name} {status}"),
        );
        statuses.push((client.target().to_string(), status));
    }
    report.set(
        "status",
        statuses
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    Ok(format!("{name} ready on {} target(s)", ctx.fleet.len()))
}

fn set_state(
    client: &crate::runtime::Client,
    name: &str,
    state: &str,
    report: &mut Report,
) -> Result<(), CtlError> {
    match set_server_state(client, name, state) {
        Ok(()) => {
            report.step(
                state_phase(state),
                Some(client.target()),
                true,
                format!("set server {name} state {state}"),
            );
            Ok(())
        }
        Err(e) => {
            report.step(
                state_phase(state),
                Some(client.target()),
                false,
                e.to_string(),
            );
            Err(e)
        }
    }
}

fn state_phase(state: &str) -> &'static str {
    match state {
        "drain" => "drain",
        "maint" => "maint",
        _ => "ready",
    }
}

/// Waits for B/S exactly UP, or for --min-up servers of backend B.
pub fn wait_up(ctx: &Ctx, args: &WaitUpArgs, report: &mut Report) -> Result<String, CtlError> {
    let mut progress = report.progress();
    let clients = ctx.fleet.clients();
    if let Some((backend, server)) = args.what.split_once('/') {
        if backend.is_empty() || server.is_empty() {
            return Err(CtlError::Usage(format!(
                "{:?}: expected backend/server",
                args.what
            )));
        }
        let waited = wait_server_up(
            clients,
            backend,
            server,
            args.timeout,
            ctx.interval,
            &mut progress,
        )?;
        for (target, status) in &waited.value {
            report.step(
                "status",
                Some(target),
                status == "UP",
                format!("{}: {status}", args.what),
            );
        }
        report.set(
            "servers",
            waited
                .value
                .iter()
                .map(|(t, s)| (t.to_string(), s.clone()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        );
        if !waited.done {
            return Err(CtlError::Precondition(format!(
                "{} not UP on every target after {:.0?}",
                args.what, waited.elapsed
            )));
        }
        return Ok(format!(
            "{} is UP on {} target(s)",
            args.what,
            clients.len()
        ));
    }
    let wanted: Vec<_> = clients
        .iter()
        .map(|c| (c.clone(), args.what.clone()))
        .collect();
    let waited = wait_backends_up(
        &wanted,
        args.min_up,
        args.timeout,
        ctx.interval,
        &mut progress,
    )?;
    for h in &waited.value {
        report.step("status", Some(&h.target), h.up >= args.min_up, h.describe());
    }
    report.set("backends", &waited.value);
    if !waited.done {
        return Err(CtlError::Precondition(format!(
            "backend {} has fewer than {} server(s) UP on some target after {:.0?}",
            args.what, args.min_up, waited.elapsed
        )));
    }
    Ok(format!(
        "backend {} has at least {} server(s) UP on {} target(s)",
        args.what,
        args.min_up,
        clients.len()
    ))
}
