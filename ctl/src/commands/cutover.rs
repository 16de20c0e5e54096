//! `ctl cutover`: point a map key at a new backend on every target.

use crate::cli::{CutoverArgs, ProcedureArgs};
use crate::commands::procedure::{execute, Plan};
use crate::commands::Ctx;
use crate::error::CtlError;
use crate::ops::smoke::SmokeSpec;
use crate::ops::statefile;
use crate::render::report::Report;
use crate::runtime::escape_word;

pub fn run(ctx: &Ctx, args: &CutoverArgs, report: &mut Report) -> Result<String, CtlError> {
    escape_word(&args.to).map_err(|e| CtlError::Usage(format!("--to: {e}")))?;
    let desired = ctx
        .fleet
        .clients()
        .iter()
        .map(|c| (c.clone(), args.to.clone()))
        .collect();
    let plan = plan_from(ctx, "cutover", &args.procedure, desired)?;
    execute(&plan, report)
}

/// The parts of a [`Plan`] that come straight from the shared options.
pub fn plan_from(
    ctx: &Ctx,
    command: &'static str,
    p: &ProcedureArgs,
    desired: Vec<(crate::runtime::Client, String)>,
) -> Result<Plan, CtlError> {
    escape_word(&p.map).map_err(|e| CtlError::Usage(format!("--map: {e}")))?;
    escape_word(&p.key).map_err(|e| CtlError::Usage(format!("--key: {e}")))?;
    let state_file = match &p.state_file {
        Some(path) => path.clone(),
        None => statefile::default_path(&p.map, &p.key)?,
    };
    let smoke = (!p.smoke_url.is_empty()).then(|| SmokeSpec {
        urls: p.smoke_url.clone(),
        expect_status: p.expect_status,
        expect_body: p.expect_body.clone(),
        timeout: p.smoke_timeout,
    });
    Ok(Plan {
        command,
        map: p.map.clone(),
        key: p.key.clone(),
        desired,
        min_up: p.min_up,
        wait_up_timeout: p.wait_up_timeout,
        smoke,
        drain_timeout: (!p.no_drain).then_some(p.drain_timeout),
        persist: p
            .persist
            .then(|| p.map_file.clone().unwrap_or_else(|| p.map.clone().into())),
        state_file,
        interval: ctx.interval,
    })
}
