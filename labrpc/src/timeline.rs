//! A timeline of the run, drawn as an HTML page when a test fails.
//!
//! Test harnesses (and the peers themselves, through a lab's observer hook)
//! describe what happened to each peer as the run goes: its state
//! (`timeline::state("S1", "candidate", Some(3))`), numbers worth following
//! over time (`timeline::value("S1", "commit", 12)`, `"log"` for the log's
//! length), stretches when it was crashed or cut off
//! (`timeline::band_start("S1", Band::Crashed)` ... `band_end`), notable
//! moments (`timeline::mark("S1", "snapshot up to 120")`), and what a failed
//! check found (`timeline::alert("S1", "applied 102 (T2) at index 5; S0 applied 101 (T1)")`).
//! Recording is cheap (a push onto a list, only on changes), so it is always
//! on, and it draws no randomness: it never changes a run.
//!
//! When a simulated test fails, the runner draws one lane per peer over
//! virtual time and writes the page next to the logs. The page is
//! self-contained (its data and a small script inline, nothing fetched):
//! * it opens zoomed to fit the window, so the red failure line is in view;
//!   `+`/`−`, "fit", "last second" and Ctrl+wheel zoom, and the lane names
//!   and the last recorded state of every peer stay put while the lanes
//!   scroll;
//! * each lane shows the peer's role and term as coloured segments (the state
//!   current at the failure is drawn even if it began at that very moment),
//!   under them its log length (grey) and commit index (blue) as steps on one
//!   scale for all lanes, crashes and partitions as bands, marks as ticks and
//!   alerts as red ticks, also listed at the top;
//! * time labels are spaced by what fits, never overlapping;
//! * hovering anywhere on a lane reads out that peer's state at that time.

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
    Value { series: String, value: u64 },
    BandStart(Band),
    BandEnd(Band),
    Mark { text: String, alert: bool },
}

/// Everything recorded in one run, by lane, in time order.
#[derive(Default)]
pub(crate) struct Timeline {
    lanes: Mutex<BTreeMap<String, Vec<(u64, Entry)>>>,
    /// Lanes whose peer reports its own state ([`reported_state`]).
    reporting: Mutex<std::collections::BTreeSet<String>>,
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

/// The lane's state from now on, e.g. ("leader", Some(term)), as a harness
/// sees it from outside (a poll of `get_state()`). Repeating the current
/// state records nothing, and so does a lane whose peer reports its own
/// state with [`reported_state`]: what the peer says is more precise.
pub fn state(lane: &str, label: &str, term: Option<u64>) {
    let Some(context) = Context::try_current() else {
        return;
    };
    if lock(&context.timeline().reporting).contains(lane) {
        return;
    }
    set_state(&context, lane, label, term);
}

/// The lane's state from now on, as its peer reported it (through a lab's
/// observer hook, e.g. `raft::Raft::set_observer`). From then on the lane
/// ignores [`state`].
pub fn reported_state(lane: &str, label: &str, term: Option<u64>) {
    let Some(context) = Context::try_current() else {
        return;
    };
    {
        let timeline = context.timeline();
        let mut reporting = lock(&timeline.reporting);
        if !reporting.contains(lane) {
            reporting.insert(lane.to_string());
        }
    }
    set_state(&context, lane, label, term);
}

fn set_state(context: &Context, lane: &str, label: &str, term: Option<u64>) {
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

/// The lane's value of `series` from now on, e.g. ("commit", 12) or ("log",
/// 15): drawn as steps under the lane's states, all series of all lanes on
/// one scale. Repeating the current value records nothing.
pub fn value(lane: &str, series: &str, value: u64) {
    let Some(context) = Context::try_current() else {
        return;
    };
    let timeline = context.timeline();
    let mut lanes = lock(&timeline.lanes);
    let entries = lanes.entry(lane.to_string()).or_default();
    let current = entries.iter().rev().find_map(|(_, e)| match e {
        Entry::Value { series: s, value } if s == series => Some(*value),
        _ => None,
    });
    if current == Some(value) {
        return;
    }
    entries.push((
        context.now_nanos(),
        Entry::Value {
            series: series.to_string(),
            value,
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
    record(
        lane,
        Entry::Mark {
            text: text.to_string(),
            alert: false,
        },
    );
}

/// What a failed check found on this lane (the entry that conflicts, the
/// value that went back): a red tick, also listed at the top of the page.
pub fn alert(lane: &str, text: &str) {
    record(
        lane,
        Entry::Mark {
            text: text.to_string(),
            alert: true,
        },
    );
}

impl Timeline {
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.lanes).is_empty()
    }

    /// The whole page: the failure, the lanes' data, and the script that
    /// draws them.
    pub(crate) fn render(&self, title: &str, end_nanos: u64, failure: Option<&str>) -> String {
        let lanes = lock(&self.lanes);
        let end = end_nanos.max(1);
        let mut data = String::new();
        let _ = write!(data, "{{\"end\":{},\"lanes\":[", ms(end));
        let mut alerts = Vec::new();
        for (name, entries) in lanes.iter() {
            lane_json(&mut data, name, entries, end);
            data.push(',');
            alerts.extend(entries.iter().filter_map(|(t, e)| match e {
                Entry::Mark { text, alert: true } => Some((*t, name.as_str(), text.as_str())),
                _ => None,
            }));
        }
        data.push_str("]}");
        alerts.sort_by_key(|(t, _, _)| *t);
        page(title, failure, &alerts, &data)
    }
}

/// Nanoseconds as milliseconds, for the page.
fn ms(nanos: u64) -> String {
    format!("{:.3}", nanos as f64 / 1e6)
}

/// One lane as JSON: its states as [start, stop, label, text], its bands as
/// [kind, start, stop], its marks as [time, text, alert], its series as
/// name -> [[time, value]...]. Times in milliseconds.
fn lane_json(out: &mut String, name: &str, entries: &[(u64, Entry)], end: u64) {
    let _ = write!(out, "{{\"name\":{},\"states\":[", json_str(name));
    let states: Vec<(u64, &str, Option<u64>)> = entries
        .iter()
        .filter_map(|(t, e)| match e {
            Entry::State { label, term } => Some((*t, label.as_str(), *term)),
            _ => None,
        })
        .collect();
    for (i, (start, label, term)) in states.iter().enumerate() {
        let stop = states.get(i + 1).map_or(end, |next| next.0).max(*start);
        let text = match term {
            Some(t) => format!("{label} T{t}"),
            None => label.to_string(),
        };
        let _ = write!(
            out,
            "[{},{},{},{}],",
            ms(*start),
            ms(stop),
            json_str(label),
            json_str(&text)
        );
    }
    out.push_str("],\"bands\":[");
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
            out,
            "[\"{}\",{},{}],",
            band.css(),
            ms(start),
            ms(stop.max(start))
        );
    }
    out.push_str("],\"marks\":[");
    for (t, entry) in entries {
        if let Entry::Mark { text, alert } = entry {
            let _ = write!(out, "[{},{},{alert}],", ms(*t), json_str(text));
        }
    }
    out.push_str("],\"series\":{");
    let mut series: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for (t, entry) in entries {
        if let Entry::Value {
            series: name,
            value,
        } = entry
        {
            series.entry(name.as_str()).or_default().push((*t, *value));
        }
    }
    for (name, points) in series {
        let _ = write!(out, "{}:[", json_str(name));
        for (t, v) in points {
            let _ = write!(out, "[{},{v}],", ms(t));
        }
        out.push_str("],");
    }
    out.push_str("}}");
}

/// A JSON string literal, safe inside a `<script>` element.
fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, failure: Option<&str>, alerts: &[(u64, &str, &str)], data: &str) -> String {
    let title = escape(title);
    let failure_html = failure
        .map(|m| format!(r#"<p class="failed">Failed: {}</p>"#, escape(m)))
        .unwrap_or_default();
    let mut alerts_html = String::new();
    if !alerts.is_empty() {
        // One line per alert, with every lane it was put on.
        let mut grouped: Vec<(u64, &str, Vec<&str>)> = Vec::new();
        for &(t, lane, text) in alerts {
            match grouped
                .iter_mut()
                .find(|(gt, gtext, _)| *gt == t && *gtext == text)
            {
                Some((_, _, lanes)) => lanes.push(lane),
                None => grouped.push((t, text, vec![lane])),
            }
        }
        alerts_html.push_str(r#"<ul class="alerts">"#);
        for (t, text, lanes) in grouped {
            let _ = write!(
                alerts_html,
                "<li><b>{}</b> at {:.3} s: {}</li>",
                escape(&lanes.join(", ")),
                t as f64 / 1e9,
                escape(text)
            );
        }
        alerts_html.push_str("</ul>");
    }
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>{CSS}</style></head>
<body>
<h2>{title}</h2>
{failure_html}
{alerts_html}
<div class="bar"><span class="legend"><span class="leader">leader</span><span class="candidate">candidate</span><span class="follower">follower</span><span class="crashed">crashed</span><span class="disconnected">disconnected</span><span class="logkey">log length</span><span class="commitkey">commit index</span></span>
<span class="zoom"><button id="zout" title="zoom out">−</button><button id="zfit" title="the whole run">fit</button><button id="zin" title="zoom in">+</button><button id="zlast" title="the last second before the failure">last second</button> <span id="scale"></span></span></div>
<p class="hint">Hover over a lane to read the peer's state at that time; Ctrl+wheel zooms. Green ticks are marks, red ticks what a failed check found; the red line is the failure.</p>
<div id="tl" class="tl"><div id="names" class="names"></div><div id="view" class="view"><svg id="svg"></svg></div><div id="last" class="lastcol"></div></div>
<div id="tip"></div>
<noscript><p>The timeline is drawn by a script; enable JavaScript to see it.</p></noscript>
<script>const DATA={data};</script>
<script>{JS}</script>
</body></html>
"#
    )
}

const CSS: &str = r#"
body { font-family: system-ui, sans-serif; margin: 16px; }
h2 { margin: 0 0 8px; }
.failed { color: #b00020; font-family: monospace; white-space: pre-wrap; margin: 4px 0; }
.alerts { color: #b00020; font-family: monospace; margin: 4px 0; padding-left: 20px; }
.bar { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 8px; margin: 8px 0 2px; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 3px; font-size: 13px; }
.legend .leader { background: #e4572e; color: #fff; } .legend .candidate { background: #f3a712; }
.legend .follower { background: #a8c5da; } .legend .crashed { background: #555; color: #fff; }
.legend .disconnected { background: #a77bd6; color: #fff; }
.legend .logkey { background: #ddd; } .legend .commitkey { background: #fff; color: #1f5fa8; border: 2px solid #1f5fa8; padding: 0 6px; }
.zoom button { font-size: 14px; min-width: 32px; margin-left: 2px; }
#scale { color: #666; font-size: 12px; }
.hint { color: #666; font-size: 12px; margin: 2px 0 6px; }
.tl { display: flex; border: 1px solid #ddd; }
.names, .lastcol { flex: none; background: #fafafa; font-size: 13px; }
.names { border-right: 1px solid #ddd; } .lastcol { border-left: 1px solid #ddd; font-family: monospace; font-size: 11px; }
.names div, .lastcol div { box-sizing: border-box; padding: 0 8px; white-space: nowrap; overflow: hidden; }
.names div { font-weight: bold; }
.view { flex: 1 1 auto; overflow-x: auto; overflow-y: hidden; position: relative; }
svg text { font-size: 11px; }
.tick { fill: #666; text-anchor: middle; }
.grid { stroke: #eee; }
.state { stroke: #fff; stroke-width: 0.5; }
.label { fill: #111; pointer-events: none; }
.label.light { fill: #fff; }
.band.crashed { fill: #222; opacity: 0.55; }
.band.disconnected { fill: #7b2cbf; opacity: 0.3; }
.mark { stroke: #2a9d8f; stroke-width: 2; }
.mark.alert { stroke: #d00000; stroke-width: 3; }
.logarea { fill: #ddd; }
.value { font-size: 9px; fill: #777; } .value.commit { fill: #1f5fa8; }
.commitline { fill: none; stroke: #1f5fa8; stroke-width: 1.5; }
.failure { stroke: #b00020; stroke-width: 3; }
.cursor { stroke: #000; stroke-dasharray: 3 3; }
#tip { position: fixed; display: none; z-index: 10; max-width: 560px; padding: 6px 8px; background: #222;
       color: #fff; border-radius: 4px; font: 12px/1.4 monospace; white-space: pre-wrap; pointer-events: none; }
"#;

/// Draws DATA: lanes of states, series, bands and marks over a time axis
/// whose scale (pixels per millisecond) the zoom controls change.
const JS: &str = r#"
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const LANE = 62, TOP = 26, PAD_RIGHT = 96;
  const view = document.getElementById('view'), svg = document.getElementById('svg');
  const names = document.getElementById('names'), last = document.getElementById('last');
  const tip = document.getElementById('tip');
  const end = Math.max(DATA.end, 0.001);
  const lanes = DATA.lanes;
  const colors = { leader: '#e4572e', candidate: '#f3a712', follower: '#a8c5da', dead: '#555', crashed: '#555' };
  const dark = { leader: true, dead: true, crashed: true };
  function color(label) {
    const word = label.split(' ')[0];
    if (colors[word]) return colors[word];
    let h = 0; for (const c of word) h = (h * 31 + c.charCodeAt(0)) % 360;
    return 'hsl(' + h + ' 45% 72%)';
  }
  let maxValue = 1;
  for (const l of lanes) for (const k in l.series) for (const p of l.series[k]) maxValue = Math.max(maxValue, p[1]);
  // The state and values of a lane at time t (ms), for the hover readout.
  function at(l, t) {
    let s = null; for (const st of l.states) if (st[0] <= t) s = st;
    const vals = [];
    for (const k of Object.keys(l.series).sort()) {
      let v = null; for (const p of l.series[k]) if (p[0] <= t) v = p[1];
      if (v !== null) vals.push(k + ' ' + v);
    }
    const bands = l.bands.filter(b => b[1] <= t && t < b[2]).map(b => b[0]);
    return [s ? s[3] : '', ...vals, ...bands].filter(x => x).join(' · ');
  }
  // The lane's last state and values, shown in the right-hand column.
  for (const l of lanes) {
    const n = document.createElement('div'); n.textContent = l.name; n.style.height = LANE + 'px';
    n.style.lineHeight = '22px'; n.style.paddingTop = '6px'; names.appendChild(n);
    const d = document.createElement('div'); d.textContent = at(l, end); d.title = 'at the failure: ' + d.textContent;
    d.style.height = LANE + 'px'; d.style.lineHeight = '22px'; d.style.paddingTop = '6px'; last.appendChild(d);
  }
  const head = document.createElement('div'); head.style.height = TOP + 'px';
  names.insertBefore(head, names.firstChild);
  const head2 = document.createElement('div'); head2.style.height = TOP + 'px'; head2.style.lineHeight = TOP + 'px';
  head2.textContent = 'at the failure'; head2.style.fontFamily = 'system-ui'; last.insertBefore(head2, last.firstChild);
  last.style.maxWidth = '30%';
  let scale = 1;  // pixels per millisecond
  // A label clipped to `room` pixels (cut with an ellipsis), or nothing if
  // not even a few characters fit.
  function label(text, x0, y0, room, light) {
    const CHAR = 6.3, fits = Math.floor(room / CHAR);
    if (fits < 3) return;
    const shown = text.length <= fits ? text : text.slice(0, fits - 1) + '…';
    el('text', { class: 'label' + (light ? ' light' : ''), x: x0, y: y0 }, svg, shown);
  }
  function el(name, attrs, parent, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    (parent || svg).appendChild(e); return e;
  }
  function fmt(t, step) {
    if (step >= 1000) return (t / 1000).toFixed(step % 1000 === 0 ? 0 : 1) + ' s';
    if (step >= 1) return t >= 1000 ? (t / 1000).toFixed(step >= 100 ? 1 : step >= 10 ? 2 : 3) + ' s' : t.toFixed(0) + ' ms';
    return t.toFixed(3) + ' ms';
  }
  function draw() {
    svg.innerHTML = '';
    const width = Math.ceil(end * scale) + PAD_RIGHT, height = TOP + lanes.length * LANE + 6;
    svg.setAttribute('width', width); svg.setAttribute('height', height);
    const x = t => t * scale;
    // Ticks at least 80 px apart, on a 1-2-5 grid: labels never overlap.
    let step = 1e-3;
    for (;;) { let done = false; for (const m of [1, 2, 5]) { if (step * m * scale >= 80) { step *= m; done = true; break; } } if (done) break; step *= 10; }
    for (let t = 0; t <= end + 1e-9; t += step) {
      el('line', { class: 'grid', x1: x(t), y1: TOP - 6, x2: x(t), y2: height });
      el('text', { class: 'tick', x: Math.max(x(t), 18), y: 14 }, svg, fmt(t, step));
    }
    lanes.forEach((l, row) => {
      const top = TOP + row * LANE;
      // States that began at the failure (zero width) are drawn as one
      // block just after the red line, labelled with the last of them.
      const atEnd = l.states.filter(s => s[0] >= end);
      for (const s of l.states) {
        if (s[0] >= end) continue;
        const x0 = x(s[0]), w = Math.max(x(s[1]) - x0, 3);
        const r = el('rect', { class: 'state', x: x0, y: top + 6, width: w, height: 20, fill: color(s[2]) });
        el('title', {}, r, s[3] + ' ' + (s[0] / 1000).toFixed(3) + ' s – ' + (s[1] / 1000).toFixed(3) + ' s');
        // Labels stay in view while their segment is: at its left end, or
        // at the view's left edge if the segment starts before it.
        const lx = Math.max(x0, view.scrollLeft);
        label(s[3], lx + 3, top + 20, x0 + w - lx - 5, dark[s[2]]);
      }
      if (atEnd.length) {
        const s = atEnd[atEnd.length - 1];
        const r = el('rect', { class: 'state', x: x(end) + 2, y: top + 6, width: 8, height: 20, fill: color(s[2]) });
        el('title', {}, r, atEnd.map(a => a[3]).join(' → ') + ' at the failure, ' + (end / 1000).toFixed(3) + ' s');
        label(s[3], x(end) + 13, top + 20, PAD_RIGHT - 15, false);
      }
      const base = top + LANE - 6, h = LANE - 36;
      const y = v => base - (v / maxValue) * h;
      const stepPath = pts => {
        let d = '';
        pts.forEach((p, i) => {
          const next = i + 1 < pts.length ? pts[i + 1][0] : end;
          d += (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1) + 'L' + x(next).toFixed(1) + ',' + y(p[1]).toFixed(1);
        });
        return d;
      };
      const logPts = l.series.log || [];
      if (logPts.length) el('path', { class: 'logarea', d: 'M' + x(logPts[0][0]) + ',' + base + stepPath(logPts).replace(/^M/, 'L') + 'L' + x(end) + ',' + base + 'Z' });
      for (const k of Object.keys(l.series)) {
        if (k === 'log') continue;
        el('path', { class: k === 'commit' ? 'commitline' : 'commitline other', d: stepPath(l.series[k]) });
      }
      // The values at their steps, where there is room (at least 40 px
      // from the last label of the lane, whichever series): log lengths
      // above the grey area, commit indices under the blue line.
      const steps = [];
      for (const k of Object.keys(l.series)) for (const p of l.series[k]) steps.push([p[0], p[1], k]);
      steps.sort((a, b) => a[0] - b[0]);
      let lastX = -1e9;
      for (const [t, v, k] of steps) {
        const px = x(t);
        if (px - lastX < 40) continue;
        lastX = px;
        const ty = k === 'log' ? y(v) - 2 : Math.min(y(v) + 10, base + 9);
        el('text', { class: 'value ' + k, x: px + 2, y: ty }, svg, String(v));
      }
      for (const b of l.bands) {
        const r = el('rect', { class: 'band ' + b[0], x: x(b[1]), y: top + 2, width: Math.max(x(b[2]) - x(b[1]), 2), height: LANE - 4 });
        el('title', {}, r, b[0] + ' ' + (b[1] / 1000).toFixed(3) + ' s – ' + (b[2] / 1000).toFixed(3) + ' s');
      }
      for (const m of l.marks) {
        const line = el('line', { class: 'mark' + (m[2] ? ' alert' : ''), x1: x(m[0]), y1: top + 2, x2: x(m[0]), y2: top + LANE - 4 });
        el('title', {}, line, (m[0] / 1000).toFixed(3) + ' s ' + m[1]);
      }
      el('line', { x1: 0, y1: top + LANE, x2: width, y2: top + LANE, stroke: '#eee' });
    });
    el('line', { class: 'failure', x1: x(end), y1: TOP - 8, x2: x(end), y2: height });
    el('line', { class: 'cursor', id: 'cursor', x1: -10, y1: TOP, x2: -10, y2: height });
    document.getElementById('scale').textContent = (1000 / scale >= 1000 ? (1000 / scale / 1000).toFixed(1) + ' s' : (1000 / scale).toFixed(0) + ' ms') + ' per 1000 px';
  }
  // Zoom keeping the time under `px` (a viewport x) where it is.
  function zoom(newScale, px) {
    const fitScale = Math.max((view.clientWidth - PAD_RIGHT) / end, 1e-6);
    newScale = Math.min(Math.max(newScale, fitScale), 2000);
    if (px === undefined) px = view.clientWidth / 2;
    const t = (view.scrollLeft + px) / scale;
    scale = newScale; draw();
    view.scrollLeft = t * scale - px;
  }
  function fit() { scale = Math.max((view.clientWidth - PAD_RIGHT) / end, 1e-6); draw(); view.scrollLeft = 0; }
  function lastSecond() {
    const span = Math.min(1000, end);
    scale = Math.max((view.clientWidth - PAD_RIGHT) / span, 1e-6); draw();
    view.scrollLeft = view.scrollWidth;
  }
  document.getElementById('zin').onclick = () => zoom(scale * 2);
  document.getElementById('zout').onclick = () => zoom(scale / 2);
  document.getElementById('zfit').onclick = fit;
  document.getElementById('zlast').onclick = lastSecond;
  view.addEventListener('wheel', e => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    const r = view.getBoundingClientRect();
    zoom(scale * (e.deltaY < 0 ? 1.25 : 0.8), e.clientX - r.left);
  }, { passive: false });
  view.addEventListener('mousemove', e => {
    const r = svg.getBoundingClientRect();
    const t = (e.clientX - r.left) / scale, row = Math.floor((e.clientY - r.top - TOP) / LANE);
    const c = document.getElementById('cursor');
    if (!c) return;
    c.setAttribute('x1', e.clientX - r.left); c.setAttribute('x2', e.clientX - r.left);
    if (row < 0 || row >= lanes.length || t < 0) { tip.style.display = 'none'; return; }
    tip.textContent = lanes[row].name + ' at ' + (Math.min(t, end) / 1000).toFixed(3) + ' s: ' + at(lanes[row], Math.min(t, end));
    tip.style.display = 'block';
    tip.style.left = Math.min(e.clientX + 14, innerWidth - 580) + 'px'; tip.style.top = (e.clientY + 16) + 'px';
  });
  view.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  let pending = false;
  view.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  window.addEventListener('resize', () => { if (scale <= (view.clientWidth - PAD_RIGHT) / end * 1.01) fit(); });
  fit();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_for_a_script_element() {
        assert_eq!(
            json_str("a\"b\\c\n</script>&"),
            r#""a\"b\\c\n\u003c/script\u003e\u0026""#
        );
    }

    #[test]
    fn a_state_that_begins_at_the_failure_is_kept() {
        let entries = vec![
            (
                0,
                Entry::State {
                    label: "follower".into(),
                    term: Some(1),
                },
            ),
            (
                2_000_000,
                Entry::State {
                    label: "leader".into(),
                    term: Some(6),
                },
            ),
            (
                1_000_000,
                Entry::Value {
                    series: "log".into(),
                    value: 5,
                },
            ),
        ];
        let mut out = String::new();
        lane_json(&mut out, "S1", &entries, 2_000_000);
        assert!(
            out.contains(r#"[2.000,2.000,"leader","leader T6"]"#),
            "{out}"
        );
        assert!(out.contains(r#""log":[[1.000,5],]"#), "{out}");
    }
}
