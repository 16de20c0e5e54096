//! `ctl status`: the `show stat` of every target as a table (or JSON).

use crate::cli::StatusArgs;
use crate::commands::Ctx;
use crate::error::CtlError;
use crate::fleet::show_stat;
use crate::parse::StatRow;
use crate::render::report::{print_line, Report};
use crate::render::table;
use crate::target::Target;
use serde::Serialize;

#[derive(Serialize)]
struct TargetStatus {
    target: Target,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    rows: Vec<StatRow>,
}

pub fn run(ctx: &Ctx, args: &StatusArgs, report: &mut Report) -> Result<String, CtlError> {
    let mut all = Vec::new();
    let mut first_error = None;
    let palette = report.palette();
    for (i, client) in ctx.fleet.clients().iter().enumerate() {
        let result = show_stat(client).map(|rows| {
            rows.into_iter()
                .filter(|r| args.proxies.is_empty() || args.proxies.contains(&r.proxy))
                .collect::<Vec<_>>()
        });
        if !report.is_json() {
            if i > 0 {
                print_line("");
            }
            print_line(&palette.bold(&format!("== {} ==", client.target())));
        }
        match result {
            Ok(rows) => {
                if !report.is_json() {
                    print_line(table::render(&rows, palette).trim_end());
                }
                all.push(TargetStatus {
                    target: client.target().clone(),
                    ok: true,
                    error: None,
                    rows,
                });
            }
            Err(e) => {
                if !report.is_json() {
                    print_line(&palette.red(&format!("error: {e}")));
                }
                all.push(TargetStatus {
                    target: client.target().clone(),
                    ok: false,
                    error: Some(e.to_string()),
                    rows: Vec::new(),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    report.set("targets", &all);
    match first_error {
        Some(e) => Err(e),
        None => Ok(String::new()),
    }
}
