//! The picture of a run (SVG): requests/s per backend over time, the total in grey,
//! failed requests as red crosses, events as dashed vertical lines. A clean cutover is
//! one coloured line falling as another rises, the grey total flat, and no red.

use super::ReportInput;
use crate::gen::timeline::FINE_BIN;
use plotters::prelude::*;
use plotters::style::FontTransform;
use std::path::Path;

/// At most this many points per series; longer runs use wider bins.
const MAX_POINTS: usize = 600;
/// Events beyond this many are labelled by number (their labels are in the text).
const MAX_EVENT_LABELS: usize = 12;

fn backend_color(name: &str, index: usize) -> RGBColor {
    let lower = name.to_ascii_lowercase();
    if lower.contains("blue") {
        return RGBColor(31, 119, 180);
    }
    if lower.contains("green") {
        return RGBColor(44, 160, 44);
    }
    const OTHERS: [RGBColor; 6] = [
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(23, 190, 207),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(188, 189, 34),
    ];
    OTHERS[index % OTHERS.len()]
}

struct Series {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Sums `values` over groups of `k` bins and turns counts into a per-second rate; the
/// last group is divided by the part of it the run covered (up to `end` seconds).
fn rates(values: impl Iterator<Item = u32>, k: usize, end: f64) -> Vec<(f64, f64)> {
    let bin_s = FINE_BIN.as_secs_f64() * k as f64;
    let values: Vec<u32> = values.collect();
    values
        .chunks(k)
        .enumerate()
        .map(|(i, chunk)| {
            let sum: u64 = chunk.iter().map(|v| u64::from(*v)).sum();
            let from = i as f64 * bin_s;
            let width = (end - from).clamp(bin_s / 10.0, bin_s);
            (from + width / 2.0, sum as f64 / width)
        })
        .collect()
}

pub fn draw(path: &Path, input: &ReportInput<'_>) -> Result<(), String> {
    draw_inner(path, input).map_err(|e| e.to_string())
}

fn draw_inner(
    path: &Path,
    input: &ReportInput<'_>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let run = input.run;
    let tl = &run.timeline;
    let k = tl.fine.len().div_ceil(MAX_POINTS).max(1);
    let end = run.total.as_secs_f64();
    let mut series: Vec<Series> = tl
        .backends
        .iter()
        .enumerate()
        .map(|(id, name)| Series {
            name: name.clone(),
            color: backend_color(name, id),
            points: rates(
                tl.fine
                    .iter()
                    .map(|b| b.by_backend.get(id).copied().unwrap_or(0)),
                k,
                end,
            ),
        })
        .collect();
    if tl.fine.iter().any(|b| b.unattributed > 0) {
        series.push(Series {
            name: if tl.backends.is_empty() {
                "responses".into()
            } else {
                "no backend label".into()
            },
            color: RGBColor(90, 90, 90),
            points: rates(tl.fine.iter().map(|b| b.unattributed), k, end),
        });
    }
    let total = rates(
        tl.fine
            .iter()
            .map(|b| b.by_backend.iter().sum::<u32>() + b.unattributed + b.errors),
        k,
        end,
    );
    let failed = rates(tl.fine.iter().map(|b| b.failed), k, end);

    let x_max = run.total.as_secs_f64().max(1.0);
    let y_top = total.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    // Headroom above the data for the event labels and the legend.
    let y_max = y_top * 1.45;

    let root = SVGBackend::new(path, (1280, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!(
        "{} — {} requests, {} failed",
        input.meta.title(),
        run.stats.num_res,
        run.failed()
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc(format!(
            "responses/s ({} ms bins)",
            FINE_BIN.as_millis() * k as u128
        ))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;

    let start = run.start_unix_ms;
    let many = input.events.len() > MAX_EVENT_LABELS;
    for (i, ev) in input.events.iter().enumerate() {
        let t = ev.offset_ms(start) as f64 / 1000.0;
        if !(0.0..=x_max).contains(&t) {
            continue;
        }
        let style = ShapeStyle::from(&RGBColor(80, 80, 80).mix(0.6)).stroke_width(1);
        chart.draw_series(DashedLineSeries::new(
            vec![(t, 0.0), (t, y_max)],
            6,
            4,
            style,
        ))?;
        let label = if many {
            format!("#{}", i + 1)
        } else {
            ev.label.chars().take(48).collect()
        };
        let font = ("sans-serif", 13)
            .into_font()
            .transform(FontTransform::Rotate90)
            .color(&RGBColor(60, 60, 60));
        // Just left of the line, so the dashes do not cross the text.
        let at = (t - x_max * 0.004, y_max * 0.985);
        chart.draw_series(std::iter::once(Text::new(label, at, font)))?;
    }

    chart
        .draw_series(LineSeries::new(
            total.iter().copied(),
            RGBColor(170, 170, 170).stroke_width(1),
        ))?
        .label("total")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(170, 170, 170)));
    for s in &series {
        let color = s.color;
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    let failed_total = run.failed();
    let red = RGBColor(214, 39, 40);
    chart
        .draw_series(
            failed
                .iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| Cross::new(*p, 6, red.stroke_width(2))),
        )?
        .label(format!("failed (errors + 5xx): {failed_total}"))
        .legend(move |(x, y)| Cross::new((x + 10, y), 5, red.stroke_width(2)));
    let plot_width = chart.plotting_area().dim_in_pixel().0 as i32;
    chart
        .configure_series_labels()
        // Below the event labels along the top edge.
        .position(SeriesLabelPosition::Coordinate(
            (plot_width - 260).max(0),
            40,
        ))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(120, 120, 120))
        .label_font(("sans-serif", 14))
        .draw()?;
    if many {
        root.draw(&Text::new(
            format!(
                "{} events, numbered; labels in timeline.txt",
                input.events.len()
            ),
            (95, 606),
            ("sans-serif", 12).into_font().color(&RGBColor(60, 60, 60)),
        ))?;
    }
    root.present()?;
    Ok(())
}
