//! `ctl rollback`: the cutover procedure back to the value recorded before the last
//! change of this map key (or `--to`). Rolling back records the change too, so a
//! second rollback goes forward again.

use crate::cli::RollbackArgs;
use crate::commands::cutover::plan_from;
use crate::commands::procedure::execute;
use crate::commands::Ctx;
use crate::error::CtlError;
use crate::ops::statefile::{self, SwitchRecord};
use crate::render::report::Report;
use crate::runtime::escape_word;

/// Where the value to roll back to comes from.
enum Source {
    Given(String),
    Recorded(SwitchRecord),
}

pub fn run(ctx: &Ctx, args: &RollbackArgs, report: &mut Report) -> Result<String, CtlError> {
    let p = &args.procedure;
    let mut plan = plan_from(ctx, "rollback", p, Vec::new())?;
    let source = match &args.to {
        Some(to) => {
            escape_word(to).map_err(|e| CtlError::Usage(format!("--to: {e}")))?;
            Source::Given(to.clone())
        }
        None => match statefile::load(&plan.state_file, &p.map, &p.key)? {
            Some(record) => Source::Recorded(record),
            None => {
                return Err(CtlError::Precondition(format!(
                    "nothing recorded for map {} key {:?} in {}: no cutover to roll back \
                     (give --to BACKEND to choose the value)",
                    p.map,
                    p.key,
                    plan.state_file.display()
                )))
            }
        },
    };
    for client in ctx.fleet.clients() {
        let target = client.target().to_string();
        let value = match &source {
            Source::Given(to) => to.clone(),
            Source::Recorded(rec) => {
                let Some(value) = rec.previous_for(&target) else {
                    return Err(CtlError::Precondition(format!(
                        "{target} took no part in the recorded change and the recorded \
                         targets had different values: give --to BACKEND"
                    )));
                };
                report.step(
                    "recorded",
                    Some(client.target()),
                    true,
                    format!(
                        "last {} set {} to {}; rolling back to {value}",
                        rec.command,
                        p.key,
                        rec.current.get(&target).map_or("?", String::as_str)
                    ),
                );
                value.to_owned()
            }
        };
        plan.desired.push((client.clone(), value));
    }
    execute(&plan, report)
}
