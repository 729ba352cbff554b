//! A timeline of the run, drawn as an HTML page when a test fails.
//!
//! Test harnesses describe what happened to each peer as the run goes: its
//! state (`timeline::state("S1", "leader", Some(3))`), stretches when it was
//! crashed or cut off (`timeline::band_start("S1", Band::Crashed)` ...
//! `band_end`), and notable moments (`timeline::mark("S1", "snapshot at 120")`).
//! Recording is cheap (a push onto a list, only on changes), so it is always
//! on. When a simulated test fails, the runner draws one lane per peer over
//! virtual time, with each state as a coloured segment labelled with its term,
//! crashes and partitions as bands, marks as ticks, and the failed check as a
//! red line carrying its message, writes the page next to the logs, and prints
//! its path beside the replay command.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::sim::base::lock;
use crate::sim::context::Context;

/// Kinds of stretches drawn as bands behind a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    /// The peer's node was killed.
    Crashed,
    /// The peer was disconnected from the others.
    Disconnected,
}

impl Band {
    fn css(self) -> &'static str {
        match self {
            Band::Crashed => "crashed",
            Band::Disconnected => "disconnected",
        }
    }
}

#[derive(Clone, Debug)]
enum Entry {
    State { label: String, term: Option<u64> },
    BandStart(Band),
    BandEnd(Band),
    Mark(String),
}

/// Everything recorded in one run, by lane, in time order.
#[derive(Default)]
pub(crate) struct Timeline {
    lanes: Mutex<BTreeMap<String, Vec<(u64, Entry)>>>,
}

/// The timeline of a run, kept on its context as an extension (so the runtime
/// does not depend on this module).
pub(crate) trait ContextTimeline {
    fn timeline(&self) -> Arc<Timeline>;
}

impl ContextTimeline for Context {
    fn timeline(&self) -> Arc<Timeline> {
        self.extension::<Timeline>()
    }
}

fn record(lane: &str, entry: Entry) {
    if let Some(context) = Context::try_current() {
        let now = context.now_nanos();
        lock(&context.timeline().lanes)
            .entry(lane.to_string())
            .or_default()
            .push((now, entry));
    }
}

/// The lane's state from now on, e.g. ("leader", Some(term)). Repeating the
/// current state records nothing.
pub fn state(lane: &str, label: &str, term: Option<u64>) {
    let Some(context) = Context::try_current() else {
        return;
    };
    let timeline = context.timeline();
    let mut lanes = lock(&timeline.lanes);
    let entries = lanes.entry(lane.to_string()).or_default();
    let current = entries.iter().rev().find_map(|(_, e)| match e {
        Entry::State { label, term } => Some((label.as_str(), *term)),
        _ => None,
    });
    if current == Some((label, term)) {
        return;
    }
    entries.push((
        context.now_nanos(),
        Entry::State {
            label: label.to_string(),
            term,
        },
    ));
}

/// A band (crash, partition) starts on the lane.
pub fn band_start(lane: &str, band: Band) {
    record(lane, Entry::BandStart(band));
}

/// The band ends on the lane.
pub fn band_end(lane: &str, band: Band) {
    record(lane, Entry::BandEnd(band));
}

/// A node named `lane` starts: ends the lane's crash band, if one is open
/// (a restarted server is a new node with the old name).
pub(crate) fn node_started(lane: &str) {
    let Some(context) = Context::try_current() else {
        return;
    };
    let crashed = {
        let timeline = context.timeline();
        let lanes = lock(&timeline.lanes);
        lanes.get(lane).is_some_and(|entries| {
            let starts = entries
                .iter()
                .filter(|(_, e)| matches!(e, Entry::BandStart(Band::Crashed)))
                .count();
            let ends = entries
                .iter()
                .filter(|(_, e)| matches!(e, Entry::BandEnd(Band::Crashed)))
                .count();
            starts > ends
        })
    };
    if crashed {
        band_end(lane, Band::Crashed);
    }
}

/// A moment worth seeing (a restart, a snapshot, a client operation).
pub fn mark(lane: &str, text: &str) {
    record(lane, Entry::Mark(text.to_string()));
}

impl Timeline {
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.lanes).is_empty()
    }

    /// The whole page: one SVG lane per peer plus a legend.
    pub(crate) fn render(&self, title: &str, end_nanos: u64, failure: Option<&str>) -> String {
        let lanes = lock(&self.lanes);
        let end = end_nanos.max(1);
        let width_px = ((end as f64 / 1e9) * 200.0).clamp(800.0, 24000.0);
        let x = |t: u64| 120.0 + (t as f64 / end as f64) * width_px;
        let lane_height = 34.0;
        let height = 40.0 + lanes.len() as f64 * lane_height + 30.0;
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{height:.0}">"#,
            width_px + 160.0
        );
        draw_axis(&mut svg, end, &x, height);
        for (row, (lane, entries)) in lanes.iter().enumerate() {
            let top = 30.0 + row as f64 * lane_height;
            draw_lane(&mut svg, lane, entries, end, top, &x);
        }
        if let Some(message) = failure {
            let fx = x(end);
            let _ = write!(
                svg,
                r#"<line class="failure" x1="{fx:.1}" y1="20" x2="{fx:.1}" y2="{:.0}"><title>{}</title></line>"#,
                height - 20.0,
                escape(message)
            );
        }
        svg.push_str("</svg>");
        page(title, failure, &svg)
    }
}

fn draw_axis(svg: &mut String, end: u64, x: &dyn Fn(u64) -> f64, height: f64) {
    let seconds = end as f64 / 1e9;
    let step = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
        .into_iter()
        .find(|s| seconds / s <= 40.0)
        .unwrap_or(50.0);
    let mut t = 0.0;
    while t <= seconds {
        let px = x((t * 1e9) as u64);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{px:.1}" y1="22" x2="{px:.1}" y2="{:.0}"/><text class="tick" x="{px:.1}" y="16">{t:.1}s</text>"#,
            height - 20.0
        );
        t += step;
    }
}

fn draw_lane(
    svg: &mut String,
    lane: &str,
    entries: &[(u64, Entry)],
    end: u64,
    top: f64,
    x: &dyn Fn(u64) -> f64,
) {
    let _ = write!(
        svg,
        r#"<text class="lane" x="8" y="{:.1}">{}</text>"#,
        top + 19.0,
        escape(lane)
    );
    let states: Vec<(u64, &str, Option<u64>)> = entries
        .iter()
        .filter_map(|(t, e)| match e {
            Entry::State { label, term } => Some((*t, label.as_str(), *term)),
            _ => None,
        })
        .collect();
    for (i, (start, label, term)) in states.iter().enumerate() {
        let stop = states.get(i + 1).map_or(end, |next| next.0);
        let (x0, x1) = (x(*start), x(stop));
        let term_text = term.map(|t| format!(" T{t}")).unwrap_or_default();
        let _ = write!(
            svg,
            r#"<rect class="state {}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="18"><title>{}{} {:.3}s – {:.3}s</title></rect>"#,
            css_class(label),
            top + 6.0,
            (x1 - x0).max(1.0),
            escape(label),
            term_text,
            *start as f64 / 1e9,
            stop as f64 / 1e9
        );
        if x1 - x0 > 28.0 {
            let _ = write!(
                svg,
                r#"<text class="label" x="{:.1}" y="{:.1}">{}{}</text>"#,
                x0 + 3.0,
                top + 19.0,
                escape(label),
                term_text
            );
        }
    }
    // Bands go over the states, translucent, so both stay visible.
    let mut open: BTreeMap<Band, u64> = BTreeMap::new();
    let mut bands = Vec::new();
    for (t, entry) in entries {
        match entry {
            Entry::BandStart(band) => {
                open.entry(*band).or_insert(*t);
            }
            Entry::BandEnd(band) => {
                if let Some(start) = open.remove(band) {
                    bands.push((*band, start, *t));
                }
            }
            _ => {}
        }
    }
    bands.extend(open.into_iter().map(|(band, start)| (band, start, end)));
    for (band, start, stop) in bands {
        let _ = write!(
            svg,
            r#"<rect class="band {}" x="{:.1}" y="{:.1}" width="{:.1}" height="30"><title>{} {:.3}s – {:.3}s</title></rect>"#,
            band.css(),
            x(start),
            top,
            (x(stop) - x(start)).max(1.0),
            band.css(),
            start as f64 / 1e9,
            stop as f64 / 1e9
        );
    }
    for (t, entry) in entries {
        if let Entry::Mark(text) = entry {
            let px = x(*t);
            let _ = write!(
                svg,
                r#"<line class="mark" x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}"><title>{:.3}s {}</title></line>"#,
                top + 2.0,
                top + 28.0,
                *t as f64 / 1e9,
                escape(text)
            );
        }
    }
}

fn css_class(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, failure: Option<&str>, svg: &str) -> String {
    let failure_html = failure
        .map(|m| format!(r#"<p class="failed">Failed: {}</p>"#, escape(m)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 16px; }}
.failed {{ color: #b00020; font-family: monospace; white-space: pre-wrap; }}
.legend span {{ display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 3px; }}
.scroll {{ overflow-x: auto; border: 1px solid #ddd; }}
svg text {{ font-size: 11px; }}
.lane {{ font-weight: bold; font-size: 13px; }}
.tick {{ fill: #666; text-anchor: middle; }}
.grid {{ stroke: #eee; }}
.state {{ fill: #c9d6e3; stroke: #fff; }}
.state.leader, .legend .leader {{ fill: #e4572e; background: #e4572e; color: #fff; }}
.state.candidate, .legend .candidate {{ fill: #f3a712; background: #f3a712; }}
.state.follower, .legend .follower {{ fill: #a8c5da; background: #a8c5da; }}
.state.dead, .state.crashed {{ fill: #555; }}
.label {{ fill: #111; pointer-events: none; }}
.band.crashed {{ fill: #222; opacity: 0.55; }}
.band.disconnected {{ fill: #7b2cbf; opacity: 0.35; }}
.legend .crashed {{ background: #555; color: #fff; }}
.legend .disconnected {{ background: #a77bd6; color: #fff; }}
.mark {{ stroke: #2a9d8f; stroke-width: 2; }}
.failure {{ stroke: #b00020; stroke-width: 3; }}
</style></head>
<body>
<h2>{title}</h2>
{failure_html}
<p class="legend"><span class="leader">leader</span><span class="candidate">candidate</span><span class="follower">follower</span><span class="crashed">crashed</span><span class="disconnected">disconnected</span> Hover over any shape for details; marks are green ticks; the red line is the failure.</p>
<div class="scroll">{svg}</div>
</body></html>
"#
    )
}
