//! The HTML report of a verbose check: one self-contained page (inline CSS and a little JS, no
//! network) that shows why a history is or is not linearizable.
//!
//! The page is drawn here, in Rust, rather than by shipping the data to a JavaScript renderer: the
//! layout is then testable, the page is readable with scripts off, and the script only switches
//! partitions, scrolls and adds hover details. What it shows:
//! - one partition at a time (a key of a kv store): the page opens on the first failing one, and a
//!   picker at the top switches to any other with one click. Partitions are independent, so
//!   drawing them together only tangles their lines;
//! - one row per client that has operations in the partition, time flowing right; each operation
//!   a box over its `[call, return]`;
//! - the partition's linearization (or, if there is none, the longest partial one the search
//!   found) as linearization points joined by a line. Each point lies strictly to the right of the
//!   one before it (as long as the boxes leave room), so the order is read off left to right and
//!   the line never crosses itself;
//! - where an illegal partition failed: the operations that could have come next after the longest
//!   partial linearization but could not be linearized (red, with a cross at the point they were
//!   tried), and a table of that partial linearization with the state after each step;
//! - on hover, an operation's times and the states before and after it, and the longest partial
//!   linearization that contains it. "Jump to first error" (and every link to an operation)
//!   scrolls its box fully into view, clear of the sticky client column.
//!
//! Time is drawn by rank, not to scale: each distinct timestamp of the partition gets a column, so
//! nanosecond timestamps with huge gaps stay readable. Boxes go from the middle of their call's
//! column to the middle of their return's, so back-to-back operations of one client touch without
//! overlapping.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::checker::{LinearizationInfo, PartitionInfo};
use crate::model::{CheckResult, Model, Operation};

/// Pixels per timestamp column (shrunk for very long histories) and per lane.
const UNIT: f64 = 28.0;
const MAX_WIDTH: f64 = 150_000.0;
/// The widest a box grows to fit its label.
const MAX_LABEL: f64 = 220.0;
const LANE: f64 = 26.0;
const ROW_GAP: f64 = 8.0;
/// At most this many alternative partial linearizations per partition are embedded for hover.
const MAX_PARTIALS: usize = 40;
/// The least horizontal distance between consecutive linearization points, where the boxes allow.
const POINT_STEP: f64 = 6.0;

/// Writes [`render_html`]'s page to `path`.
pub fn write_html<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    std::fs::write(path, render_html(model, info))
}

/// Writes the report to a new file in the system's temporary directory and returns its path: what
/// a failing test does before printing `info: wrote history visualization to <path>`.
pub fn write_html_temp<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
) -> std::io::Result<PathBuf> {
    let file = tempfile::Builder::new()
        .prefix("linearizability-")
        .suffix(".html")
        .tempfile()?;
    std::fs::write(file.path(), render_html(model, info))?;
    let (_, path) = file.keep().map_err(|e| e.error)?;
    Ok(path)
}

/// The report of a verbose check as a self-contained HTML page.
pub fn render_html<M: Model>(model: &M, info: &LinearizationInfo<M::Input, M::Output>) -> String {
    let wants: Vec<f64> = info
        .history
        .iter()
        .map(|op| label_width(&model.describe_operation(&op.input, &op.output)))
        .collect();
    let views: Vec<PartitionView> = (0..info.partitions.len())
        .map(|p| PartitionView::new(model, info, p, &wants))
        .collect();
    let order = display_order(info);
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n");
    page.push_str("<title>Linearizability report</title>\n<style>");
    page.push_str(CSS);
    page.push_str("</style></head><body>\n");
    render_summary(&mut page, info, &views, &order);
    for &p in &order {
        let partition = PartitionPage {
            model,
            info,
            p,
            part: &info.partitions[p],
            view: &views[p],
        };
        partition.render(&mut page);
    }
    render_script_data(&mut page, info, &views);
    page.push_str("<div id=\"tip\"></div>\n<script>");
    page.push_str(JS);
    page.push_str("</script></body></html>\n");
    page
}

/// Partitions in the order the page lists them: illegal ones first (the page opens on the first),
/// then unknown, then ok; by index within each group.
fn display_order<I, O>(info: &LinearizationInfo<I, O>) -> Vec<usize> {
    let rank = |r: CheckResult| match r {
        CheckResult::Illegal => 0,
        CheckResult::Unknown => 1,
        CheckResult::Ok => 2,
    };
    let mut order: Vec<usize> = (0..info.partitions.len()).collect();
    order.sort_by_key(|&p| (rank(info.partitions[p].result), p));
    order
}

/// Where everything goes on the timeline.
struct Layout {
    /// Timestamp → column.
    column: BTreeMap<i64, usize>,
    /// The x of the middle of each column.
    x: Vec<f64>,
    unit: f64,
    /// Client rows, in client order: (client id, top y, lanes).
    rows: Vec<(usize, f64, usize)>,
    /// Per operation: its lane's top y.
    top: Vec<f64>,
    width: f64,
    height: f64,
}

/// Roughly how wide a box must be to show its whole label (11 px monospace), within limits.
fn label_width(label: &str) -> f64 {
    (label.chars().count() as f64 * 7.2 + 12.0).min(MAX_LABEL)
}

impl Layout {
    /// The layout of the operations `ops` (indices into `history`) of one partition. `wants[i]`:
    /// the width operation `i`'s box would like, for its label.
    fn new<I, O>(history: &[Operation<I, O>], ops: &[usize], wants: &[f64]) -> Layout {
        let times: BTreeSet<i64> = ops
            .iter()
            .flat_map(|&i| [history[i].call, history[i].return_time])
            .collect();
        let column: BTreeMap<i64, usize> =
            times.into_iter().enumerate().map(|(i, t)| (t, i)).collect();
        let unit = UNIT.min(MAX_WIDTH / column.len().max(1) as f64).max(3.0);
        let mut x = column_positions(history, ops, &column, wants, unit);
        if x.last().is_some_and(|&last| last > MAX_WIDTH) {
            // Too long to give every label room: fall back to evenly spaced columns.
            x = (0..column.len()).map(|c| (c as f64 + 0.5) * unit).collect();
        }
        let mut layout = Layout {
            width: x.last().map_or(0.0, |&last| last + unit),
            column,
            x,
            unit,
            rows: Vec::new(),
            top: vec![0.0; history.len()],
            height: 0.0,
        };
        layout.place_rows(history, ops);
        layout
    }

    /// Stacks client rows; within a row, overlapping operations of one client get extra lanes.
    fn place_rows<I, O>(&mut self, history: &[Operation<I, O>], ops: &[usize]) {
        let mut by_client: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in ops {
            by_client.entry(history[i].client_id).or_default().push(i);
        }
        let mut y = 0.0;
        for (client, mut ops) in by_client {
            ops.sort_by_key(|&i| (history[i].call, history[i].return_time));
            // Each lane remembers when its last operation returns.
            let mut lanes: Vec<i64> = Vec::new();
            for i in ops {
                let op = &history[i];
                let lane = match lanes.iter().position(|&end| end <= op.call) {
                    Some(lane) => lane,
                    None => {
                        lanes.push(op.return_time);
                        lanes.len() - 1
                    }
                };
                lanes[lane] = op.return_time;
                self.top[i] = y + lane as f64 * LANE;
            }
            self.rows.push((client, y, lanes.len()));
            y += lanes.len() as f64 * LANE + ROW_GAP;
        }
        self.height = y;
    }

    /// The x of the middle of a timestamp's column.
    fn x(&self, time: i64) -> f64 {
        self.x[self.column[&time]]
    }

    /// The y of the middle of an operation's lane.
    fn mid(&self, op: usize) -> f64 {
        self.top[op] + LANE / 2.0
    }

    /// Left and right edges of an operation's box (zero-length ones get a minimum width).
    fn span<I, O>(&self, op: &Operation<I, O>) -> (f64, f64) {
        let (left, right) = (self.x(op.call), self.x(op.return_time));
        let min = 0.3 * self.unit;
        if right - left < 2.0 * min {
            let mid = (left + right) / 2.0;
            return (mid - min, mid + min);
        }
        (left, right)
    }

    /// Linearization points of a sequence: each as early as possible, but at least
    /// [`POINT_STEP`] after the previous one, kept inside the operation's box. For a valid
    /// sequence every box reaches past the previous point (an operation linearized later cannot
    /// have returned before an earlier one was called), so the points go strictly left to right
    /// unless a box is too short for the step.
    fn points<I, O>(&self, history: &[Operation<I, O>], seq: &[usize]) -> Vec<f64> {
        let mut at = f64::MIN;
        seq.iter()
            .map(|&i| {
                let (left, right) = self.span(&history[i]);
                at = (at + POINT_STEP).clamp(left + 2.0, (right - 2.0).max(left + 2.0));
                at
            })
            .collect()
    }
}

/// Places the columns left to right, each at least `unit` after the previous one and far enough
/// from the call column of every operation returning there for that operation's label.
fn column_positions<I, O>(
    history: &[Operation<I, O>],
    ops: &[usize],
    column: &BTreeMap<i64, usize>,
    wants: &[f64],
    unit: f64,
) -> Vec<f64> {
    let mut ending: Vec<Vec<(usize, f64)>> = vec![Vec::new(); column.len()];
    for &i in ops {
        let (op, want) = (&history[i], wants[i]);
        let (call, ret) = (column[&op.call], column[&op.return_time]);
        if ret > call {
            ending[ret].push((call, want));
        }
    }
    let mut x: Vec<f64> = Vec::with_capacity(column.len());
    for ops in &ending {
        let mut at = x.last().map_or(unit / 2.0, |&prev| prev + unit);
        for &(call, want) in ops {
            at = at.max(x[call] + want);
        }
        x.push(at);
    }
    x
}

/// What the page shows for one partition.
struct PartitionView {
    /// The picker's name for it (`key "x"`, or `partition 3`).
    name: String,
    layout: Layout,
    /// The linearization, or the longest partial one.
    seq: Vec<usize>,
    /// `states[k]` is the state before `seq[k]`; the last one is the state after the sequence.
    states: Vec<String>,
    points: Vec<f64>,
    /// Operations that could have come next after `seq` but could not be linearized, with why.
    failures: Vec<(usize, String)>,
    /// Where each failed operation was tried: after the last point, inside its box.
    fail_at: Vec<f64>,
}

impl PartitionView {
    fn new<M: Model>(
        model: &M,
        info: &LinearizationInfo<M::Input, M::Output>,
        index: usize,
        wants: &[f64],
    ) -> Self {
        let part = &info.partitions[index];
        let layout = Layout::new(&info.history, &part.ops, wants);
        let name = model
            .describe_partition(&info.history, &part.ops)
            .unwrap_or_else(|| format!("partition {index}"));
        let seq = part
            .partial_linearizations
            .first()
            .cloned()
            .unwrap_or_default();
        let (states, last) = replay(model, &info.history, &seq);
        let points = layout.points(&info.history, &seq);
        let failures = match part.result {
            CheckResult::Illegal => failures(model, &info.history, part, &seq, &last),
            _ => Vec::new(),
        };
        let after = points.last().copied().unwrap_or(f64::MIN);
        let fail_at = failures
            .iter()
            .map(|&(i, _)| {
                let (left, right) = layout.span(&info.history[i]);
                after.clamp(left + 4.0, (right - 4.0).max(left + 4.0))
            })
            .collect();
        PartitionView {
            name,
            layout,
            seq,
            states,
            points,
            failures,
            fail_at,
        }
    }
}

/// Replays a sequence from the initial state: the described states before each step and after the
/// last, and the final state itself.
fn replay<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    seq: &[usize],
) -> (Vec<String>, M::State) {
    let mut state = model.init();
    let mut states = vec![model.describe_state(&state)];
    for &i in seq {
        // A partial linearization only contains legal steps; stop if the model disagrees (impure).
        let Some(next) = model.step(&state, &history[i].input, &history[i].output) else {
            break;
        };
        state = next;
        states.push(model.describe_state(&state));
    }
    (states, state)
}

/// The operations that could have been linearized right after `seq` (called before every remaining
/// operation returned), each with the reason it was not.
fn failures<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &PartitionInfo,
    seq: &[usize],
    state: &M::State,
) -> Vec<(usize, String)> {
    let done: BTreeSet<usize> = seq.iter().copied().collect();
    let rest: Vec<usize> = part
        .ops
        .iter()
        .copied()
        .filter(|i| !done.contains(i))
        .collect();
    let Some(deadline) = rest.iter().map(|&i| history[i].return_time).min() else {
        return Vec::new();
    };
    let before = model.describe_state(state);
    rest.into_iter()
        .filter(|&i| history[i].call <= deadline)
        .map(|i| {
            let op = &history[i];
            let why = match model.step(state, &op.input, &op.output) {
                None => format!("impossible from state {before}"),
                Some(next) => format!(
                    "possible from state {before} (giving {}), but then the rest cannot be linearized",
                    model.describe_state(&next)
                ),
            };
            (i, why)
        })
        .collect()
}

fn render_summary<I, O>(
    page: &mut String,
    info: &LinearizationInfo<I, O>,
    views: &[PartitionView],
    order: &[usize],
) {
    let count = |r: CheckResult| info.partitions.iter().filter(|p| p.result == r).count();
    let verdict = if count(CheckResult::Illegal) > 0 {
        CheckResult::Illegal
    } else if count(CheckResult::Unknown) > 0 {
        CheckResult::Unknown
    } else {
        CheckResult::Ok
    };
    let _ = write!(
        page,
        "<header><h1>Linearizability: <span class=\"verdict {v}\">{verdict}</span></h1>\
         <p>{ops} operations in {parts} partitions: {ok} Ok, {bad} Illegal, {unknown} Unknown.",
        v = verdict.to_string().to_lowercase(),
        ops = info.history.len(),
        parts = info.partitions.len(),
        ok = count(CheckResult::Ok),
        bad = count(CheckResult::Illegal),
        unknown = count(CheckResult::Unknown),
    );
    if count(CheckResult::Unknown) > 0 {
        page.push_str(
            " (Unknown: search stopped by the timeout, by its step budget, or after another \
             partition failed.)",
        );
    }
    let out_of_steps = info.out_of_steps();
    if out_of_steps > 0 {
        let _ = write!(
            page,
            " {out_of_steps} partitions used their whole budget of search steps (the largest \
             search took {} steps).",
            info.max_partition_steps()
        );
    }
    // The first error: the first failed operation of the first partition the page lists.
    let first_failure = order.iter().flat_map(|&p| views[p].failures.first()).next();
    if let Some((op, _)) = first_failure {
        let _ = write!(
            page,
            " <a href=\"#op{op}\" class=\"jump\" id=\"first-error\">[ jump to first error ]</a>"
        );
    }
    page.push_str("</p>\n");
    if !order.is_empty() {
        page.push_str(
            "<nav class=\"picker\">Partitions (each checked on its own; click to show): ",
        );
        for &p in order {
            let part = &info.partitions[p];
            let _ = write!(
                page,
                "<a href=\"#part{p}\" class=\"pick {r}\" data-p=\"{p}\" title=\"{r}, {n} operations\">{name}</a> ",
                r = part.result.to_string().to_lowercase(),
                n = part.ops.len(),
                name = escape(&views[p].name),
            );
        }
        page.push_str("</nav>\n");
    }
    page.push_str(LEGEND);
    page.push_str("</header>\n");
}

/// One partition's share of the page, with what all its parts are drawn from.
struct PartitionPage<'a, M: Model> {
    model: &'a M,
    info: &'a LinearizationInfo<M::Input, M::Output>,
    /// The partition's index.
    p: usize,
    part: &'a PartitionInfo,
    view: &'a PartitionView,
}

impl<M: Model> PartitionPage<'_, M> {
    /// One partition: its heading, its timeline and its step-by-step table. The script shows one
    /// partition at a time; without scripts they are all shown, one under the other.
    fn render(&self, page: &mut String) {
        let (p, part, view) = (self.p, self.part, self.view);
        let what = match part.result {
            CheckResult::Ok => "linearization",
            _ => "longest partial linearization",
        };
        let _ = writeln!(
            page,
            "<section class=\"pview\" id=\"part{p}\" data-p=\"{p}\"><h2 style=\"--h:{h}\">{name}: \
         <span class=\"verdict {v}\">{r}</span>, {n} operations, {what} of {len}, {steps} search \
         steps</h2>",
            h = hue(p),
            name = escape(&view.name),
            v = part.result.to_string().to_lowercase(),
            r = part.result,
            n = part.ops.len(),
            len = view.seq.len(),
            steps = part.steps,
        );
        self.timeline(page);
        self.details(page);
        page.push_str("</section>\n");
    }

    fn timeline(&self, page: &mut String) {
        let (p, view) = (self.p, self.view);
        let layout = &view.layout;
        let height = layout.height.max(LANE);
        page.push_str("<div class=\"scroll\"><div class=\"labels\">");
        for &(client, top, lanes) in &layout.rows {
            let h = lanes as f64 * LANE;
            let _ = write!(
                page,
                "<div class=\"client\" style=\"top:{top}px;height:{h}px\">client {client}</div>"
            );
        }
        let _ = write!(
            page,
            "</div><div class=\"timeline\" style=\"width:{w:.0}px;height:{height}px\">",
            w = layout.width
        );
        render_line(page, p, view, height);
        self.boxes(page);
        render_marks(page, p, view, height);
        page.push_str("</div></div>\n");
    }

    fn boxes(&self, page: &mut String) {
        let (model, info, p, part, view) = (self.model, self.info, self.p, self.part, self.view);
        let layout = &view.layout;
        for &i in &part.ops {
            let op = &info.history[i];
            let (left, right) = layout.span(op);
            let (class, status) = op_status(part, view, i);
            let description = model.describe_operation(&op.input, &op.output);
            let tip = format!(
                "{description}\nclient {}, called {}, returned {}\n{} ({})\n{status}",
                op.client_id, op.call, op.return_time, view.name, part.result
            );
            let _ = write!(
                page,
                "<div id=\"op{i}\" class=\"op {class}\" data-i=\"{i}\" data-p=\"{p}\" data-tip=\"{tip}\" \
             style=\"left:{left:.1}px;width:{w:.1}px;top:{top}px\">{label}</div>",
                tip = escape(&tip),
                w = right - left,
                top = layout.top[i],
                label = escape(&description)
            );
        }
    }

    /// The partition's (longest partial) linearization step by step, and what failed after it; open
    /// for a partition that is not Ok.
    fn details(&self, page: &mut String) {
        let (model, info, part, view) = (self.model, self.info, self.part, self.view);
        let open = if part.result == CheckResult::Ok {
            ""
        } else {
            " open"
        };
        let what = match part.result {
            CheckResult::Ok => "the linearization",
            _ => "the longest partial linearization, then the operations that could not come next",
        };
        let _ = write!(
            page,
            "<details{open}><summary>Step by step: {what}</summary><table><tr><th>#</th>\
         <th>operation</th><th>client</th><th>state after</th></tr>",
        );
        let describe = |i: usize| {
            let op = &info.history[i];
            (
                escape(&model.describe_operation(&op.input, &op.output)),
                op.client_id,
            )
        };
        for (k, &i) in view.seq.iter().enumerate() {
            let after = escape(view.states.get(k + 1).map_or("?", String::as_str));
            detail_row(page, "", &(k + 1).to_string(), i, describe(i), &after);
        }
        for (i, why) in &view.failures {
            detail_row(
                page,
                " class=\"failrow\"",
                "✗",
                *i,
                describe(*i),
                &escape(why),
            );
        }
        page.push_str("</table></details>\n");
    }
}

/// The hue of a partition's linearization line.
fn hue(partition: usize) -> usize {
    (partition * 137 + 200) % 360
}

/// The partition's (partial) linearization as a line through its points. Drawn under the boxes,
/// so it shows between them without crossing out labels.
fn render_line(page: &mut String, p: usize, view: &PartitionView, height: f64) {
    let layout = &view.layout;
    svg_open(page, "lines", layout, height);
    let points: Vec<String> = (0..view.seq.len())
        .map(|k| format!("{:.1},{:.1}", view.points[k], layout.mid(view.seq[k])))
        .collect();
    let _ = write!(
        page,
        "<g class=\"part\" style=\"--h:{h}\"><polyline points=\"{pts}\"/></g></svg>",
        h = hue(p),
        pts = points.join(" ")
    );
}

/// Over the boxes: the linearization points, red crosses where the failed operations were tried,
/// and the `hl` group the script fills on hover.
fn render_marks(page: &mut String, p: usize, view: &PartitionView, height: f64) {
    let layout = &view.layout;
    svg_open(page, "marks", layout, height);
    let _ = write!(page, "<g class=\"part\" style=\"--h:{h}\">", h = hue(p));
    for (&op, &x) in view.seq.iter().zip(&view.points) {
        let _ = write!(
            page,
            "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3.5\"/>",
            layout.mid(op)
        );
    }
    for (&(op, _), &x) in view.failures.iter().zip(&view.fail_at) {
        let y = layout.mid(op);
        let _ = write!(
            page,
            "<path class=\"cross\" d=\"M{a:.1},{b:.1}L{c:.1},{d:.1}M{a:.1},{d:.1}L{c:.1},{b:.1}\"/>",
            a = x - 5.0,
            b = y - 5.0,
            c = x + 5.0,
            d = y + 5.0
        );
    }
    page.push_str("</g><g class=\"hl\"></g></svg>");
}

fn svg_open(page: &mut String, class: &str, layout: &Layout, height: f64) {
    let _ = write!(
        page,
        "<svg class=\"{class}\" width=\"{w:.0}\" height=\"{height}\">",
        w = layout.width
    );
}

/// An operation's CSS class and the line of its tooltip that says what the search made of it.
fn op_status(part: &PartitionInfo, view: &PartitionView, op: usize) -> (&'static str, String) {
    if let Some(k) = view.seq.iter().position(|&o| o == op) {
        let class = if part.result == CheckResult::Ok {
            "ok"
        } else {
            "partial"
        };
        let after = view.states.get(k + 1).map_or("?", String::as_str);
        let status = format!(
            "step {} of {}: state {} → {after}",
            k + 1,
            view.seq.len(),
            view.states[k]
        );
        return (class, status);
    }
    match view.failures.iter().find(|(o, _)| *o == op) {
        Some((_, why)) => ("fail", format!("could not be linearized next: {why}")),
        None => ("rest", not_reached(part.result).to_string()),
    }
}

fn not_reached(result: CheckResult) -> &'static str {
    match result {
        CheckResult::Unknown => "not linearized when the search was stopped",
        _ => "not reached by the longest partial linearization",
    }
}

/// One table row: number, operation (linking to its box), client, and the last column.
fn detail_row(
    page: &mut String,
    class: &str,
    number: &str,
    op: usize,
    (label, client): (String, usize),
    last: &str,
) {
    let _ = write!(
        page,
        "<tr{class}><td>{number}</td><td><a href=\"#op{op}\">{label}</a></td><td>{client}</td><td>{last}</td></tr>"
    );
}

/// For the hover script: per partition, some partial linearizations as (op, x, y) triples in that
/// partition's layout, and per operation the index of the longest one containing it. Plain
/// numbers, so no JSON library.
fn render_script_data<I, O>(
    page: &mut String,
    info: &LinearizationInfo<I, O>,
    views: &[PartitionView],
) {
    page.push_str("<script>const PARTIALS=[");
    for (part, view) in info.partitions.iter().zip(views) {
        page.push('[');
        for seq in part.partial_linearizations.iter().take(MAX_PARTIALS) {
            page.push('[');
            for (&op, x) in seq.iter().zip(view.layout.points(&info.history, seq)) {
                let _ = write!(page, "[{op},{x:.1},{:.1}],", view.layout.mid(op));
            }
            page.push_str("],");
        }
        page.push_str("],");
    }
    page.push_str("];\nconst LARGEST=[");
    for part in &info.partitions {
        page.push('{');
        for (op, k) in part.largest.iter().filter(|(_, k)| **k < MAX_PARTIALS) {
            let _ = write!(page, "{op}:{k},");
        }
        page.push_str("},");
    }
    page.push_str("];</script>\n");
}

/// Escapes text for HTML content and double-quoted attributes (newlines survive in attributes).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

const LEGEND: &str = "<div class=\"legend\">Clients ↓ &nbsp; Time → (by order of timestamps, not to scale) \
    <span class=\"op ok key\">linearized</span> <span class=\"op partial key\">in the longest partial \
    linearization</span> <span class=\"op fail key\">could not be linearized next</span> \
    <span class=\"op rest key\">not reached</span> • linearization point (the order is left to right), \
    ✗ failed attempt. Hover an operation for details; click to pin.</div>";

const CSS: &str = r#"
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fff; }
header { padding: 10px 16px; border-bottom: 1px solid #ddd; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 10px 16px 4px; }
h2 { border-left: 6px solid hsl(var(--h) 60% 45%); padding-left: 6px; }
.verdict.ok { color: #1a7f37; } .verdict.illegal { color: #c62828; } .verdict.unknown { color: #9a6700; }
.jump { color: #c62828; font-weight: bold; }
.picker { margin: 4px 0 6px; line-height: 2; }
.pick { display: inline-block; padding: 0 7px; margin-right: 2px; border-radius: 3px; text-decoration: none;
        font: 12px/20px monospace; border: 1px solid transparent; }
.pick.illegal { background: #ffd9d6; color: #8e1b1b; } .pick.unknown { background: #fff4cf; color: #6b4f00; }
.pick.ok { background: #e3f4e6; color: #1a5c2b; }
.pick.active { border-color: #000; font-weight: bold; }
.hidden { display: none; }
.legend .key { position: static; display: inline-block; padding: 0 6px; height: auto; }
.scroll { position: relative; overflow: auto; display: flex; border-top: 1px solid #eee; border-bottom: 1px solid #ddd; padding: 12px 0; }
.labels { position: sticky; left: 0; z-index: 3; background: #fafafa; min-width: 84px; border-right: 1px solid #ddd; }
.client { position: absolute; left: 0; width: 80px; padding-left: 6px; line-height: 26px; color: #555; }
.timeline { position: relative; flex: none; margin-right: 24px; }
.op { position: absolute; box-sizing: border-box; height: 22px; margin-top: 2px; padding: 0 4px;
      border: 1px solid #7a8fa6; border-radius: 3px; background: #e6eef7; font: 11px/20px monospace;
      white-space: nowrap; overflow: hidden; text-overflow: ellipsis; z-index: 1; }
.op.partial { background: #fff4cf; border-color: #b38f00; }
.op.fail { background: #ffd9d6; border: 2px solid #c62828; }
.op.rest { background: #f2f2f2; border-style: dashed; color: #777; }
.op.hot { outline: 2px solid #000; z-index: 2; }
.op.flash { animation: flash 0.6s 3; }
@keyframes flash { 50% { box-shadow: 0 0 0 5px #c62828; } }
svg.lines, svg.marks { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; }
svg.lines { z-index: 0; } svg.marks { z-index: 2; }
.part polyline { fill: none; stroke: hsl(var(--h) 60% 45%); stroke-width: 1.5; }
.part circle { fill: hsl(var(--h) 60% 40%); }
.cross { stroke: #c62828; stroke-width: 2.5; }
.hl polyline { fill: none; stroke: #000; stroke-width: 2; stroke-dasharray: 4 3; }
.hl circle { fill: #000; }
#tip { position: fixed; display: none; z-index: 10; max-width: 520px; padding: 6px 8px; background: #222;
       color: #fff; border-radius: 4px; font: 12px/1.4 monospace; white-space: pre-wrap; pointer-events: none; }
details { margin: 6px 16px 24px; } summary { cursor: pointer; }
table { border-collapse: collapse; margin: 6px 0 6px 12px; font: 12px monospace; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
.failrow td { background: #ffe9e7; }
"#;

/// One partition shown at a time (the first listed, i.e. the first failing one, on open, with its
/// first failed operation scrolled into view); links to a partition or an operation switch to it
/// and scroll the box fully into view. Hover: tooltip, and the longest partial linearization
/// containing the operation. Click pins the highlight; clicking the background releases it.
const JS: &str = r##"
(function () {
  const tip = document.getElementById('tip');
  const svgNs = 'http://www.w3.org/2000/svg';
  const sections = Array.from(document.querySelectorAll('section.pview'));
  const picks = Array.from(document.querySelectorAll('a.pick'));
  let pinned = null;
  function select(p) {
    p = String(p);
    sections.forEach(s => s.classList.toggle('hidden', s.dataset.p !== p));
    picks.forEach(a => a.classList.toggle('active', a.dataset.p === p));
  }
  function clear() {
    document.querySelectorAll('.hl').forEach(g => { g.innerHTML = ''; });
    document.querySelectorAll('.hot').forEach(e => e.classList.remove('hot'));
  }
  function show(op) {
    clear();
    const p = op.dataset.p, i = op.dataset.i;
    op.classList.add('hot');
    const k = LARGEST[p][i];
    if (k === undefined) return;
    const hl = op.parentElement.querySelector('.hl');
    const seq = PARTIALS[p][k];
    const line = document.createElementNS(svgNs, 'polyline');
    line.setAttribute('points', seq.map(s => s[1] + ',' + s[2]).join(' '));
    hl.appendChild(line);
    for (const s of seq) {
      const c = document.createElementNS(svgNs, 'circle');
      c.setAttribute('cx', s[1]); c.setAttribute('cy', s[2]); c.setAttribute('r', 3);
      hl.appendChild(c);
    }
  }
  // Shows op's partition and scrolls op's box fully into view: inside its timeline, clear of the
  // sticky client column (centred if it fits, else its left end); and, if asked, in the window.
  function reveal(op, inWindow, flash) {
    const sec = op.closest('section.pview');
    select(sec.dataset.p);
    const scroll = sec.querySelector('.scroll');
    const labels = scroll.querySelector('.labels').offsetWidth;
    const visible = scroll.clientWidth - labels;
    const left = op.offsetLeft, width = op.offsetWidth;
    scroll.scrollLeft = Math.max(0, width + 40 <= visible ? left - (visible - width) / 2 : left - 20);
    if (inWindow) {
      const r = op.getBoundingClientRect();
      if (r.top < 20 || r.bottom > innerHeight - 20) window.scrollBy(0, r.top - innerHeight / 2);
    }
    if (flash) {
      op.classList.add('flash');
      setTimeout(() => op.classList.remove('flash'), 2000);
    }
  }
  function openSection(sec) {
    select(sec.dataset.p);
    const fail = sec.querySelector('.op.fail');
    if (fail) reveal(fail, false, false);
  }
  function go(hash) {
    const m = /^#(op|part)(\d+)$/.exec(hash || '');
    if (!m) return false;
    const el = document.getElementById(m[1] + m[2]);
    if (!el) return false;
    if (m[1] === 'op') reveal(el, true, true); else openSection(el);
    return true;
  }
  document.querySelectorAll('.timeline .op').forEach(op => {
    op.addEventListener('mouseenter', () => {
      tip.textContent = op.dataset.tip; tip.style.display = 'block';
      if (!pinned) show(op);
    });
    op.addEventListener('mousemove', e => {
      tip.style.left = Math.min(e.clientX + 14, innerWidth - 540) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    });
    op.addEventListener('mouseleave', () => { tip.style.display = 'none'; if (!pinned) clear(); });
    op.addEventListener('click', e => { pinned = op; show(op); e.stopPropagation(); });
  });
  document.addEventListener('click', e => {
    const a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (a && go(a.getAttribute('href'))) {
      e.preventDefault();
      history.replaceState(null, '', a.getAttribute('href'));
      return;
    }
    pinned = null; clear();
  });
  window.addEventListener('hashchange', () => go(location.hash));
  if (!go(location.hash) && sections.length) openSection(sections[0]);
  // The browser's own scroll to a #op fragment comes after this script; redo ours after it.
  window.addEventListener('load', () => setTimeout(() => go(location.hash), 0));
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client_id: usize, call: i64, return_time: i64) -> Operation<(), ()> {
        Operation {
            client_id,
            input: (),
            call,
            output: (),
            return_time,
        }
    }

    #[test]
    fn boxes_get_room_for_labels_and_back_to_back_ops_touch() {
        // Client 0: [0, 10] then [10, 20]; client 1 overlaps both, with a short label.
        let history = [op(0, 0, 10), op(0, 10, 20), op(1, 5, 15)];
        let layout = Layout::new(&history, &[0, 1, 2], &[100.0, 50.0, 10.0]);
        let (a, b, c) = (
            layout.span(&history[0]),
            layout.span(&history[1]),
            layout.span(&history[2]),
        );
        assert!(a.1 - a.0 >= 100.0 && b.1 - b.0 >= 50.0, "{a:?} {b:?}");
        assert_eq!(a.1, b.0, "touching, not overlapping");
        assert!(
            a.0 < c.0 && c.0 < a.1 && c.1 < b.1,
            "time order kept: {c:?}"
        );
        assert_eq!(layout.top[0], layout.top[1], "one lane for client 0");
        assert!(layout.top[2] > layout.top[0]);
    }

    #[test]
    fn concurrent_ops_of_one_client_get_lanes() {
        let history = [op(0, 0, 10), op(0, 5, 15), op(0, 20, 30)];
        let layout = Layout::new(&history, &[0, 1, 2], &[0.0; 3]);
        assert_eq!(layout.rows, vec![(0, 0.0, 2)]);
        assert_eq!(
            (layout.top[0], layout.top[1], layout.top[2]),
            (0.0, LANE, 0.0)
        );
    }

    #[test]
    fn linearization_points_go_strictly_left_to_right() {
        // Four concurrent operations of four clients, linearized in an order that is not the
        // order of their calls: the points still go strictly right, so the line cannot cross itself.
        let history = [op(0, 0, 50), op(1, 1, 51), op(2, 2, 52), op(3, 3, 53)];
        let layout = Layout::new(&history, &[0, 1, 2, 3], &[100.0; 4]);
        let points = layout.points(&history, &[3, 0, 2, 1]);
        assert!(
            points.windows(2).all(|w| w[1] >= w[0] + POINT_STEP),
            "{points:?}"
        );
        for (&x, &i) in points.iter().zip(&[3, 0, 2, 1]) {
            let (left, right) = layout.span(&history[i]);
            assert!(
                left < x && x < right,
                "point {x} inside box {left}..{right}"
            );
        }
    }

    #[test]
    fn a_partition_is_laid_out_alone() {
        // Client 1's operation belongs to another partition: no row, no column for it.
        let history = [op(0, 0, 10), op(1, 5, 15), op(0, 20, 30)];
        let layout = Layout::new(&history, &[0, 2], &[0.0; 3]);
        assert_eq!(layout.rows, vec![(0, 0.0, 1)]);
        assert_eq!(layout.column.len(), 4);
    }

    #[test]
    fn partitions_are_listed_failing_first() {
        use crate::checker::{LinearizationInfo, PartitionInfo};
        let part = |result| PartitionInfo {
            ops: Vec::new(),
            result,
            steps: 0,
            out_of_steps: false,
            partial_linearizations: Vec::new(),
            largest: BTreeMap::new(),
        };
        let info: LinearizationInfo<(), ()> = LinearizationInfo {
            history: Vec::new(),
            partitions: vec![
                part(CheckResult::Ok),
                part(CheckResult::Unknown),
                part(CheckResult::Illegal),
                part(CheckResult::Ok),
                part(CheckResult::Illegal),
            ],
        };
        assert_eq!(display_order(&info), [2, 4, 1, 0, 3]);
    }

    #[test]
    fn escape_covers_html_and_attributes() {
        assert_eq!(
            escape("<a href=\"x\">&\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#10;"
        );
    }
}
