//! A small line chart as a standalone SVG file: no dependencies, no
//! scripts, readable in any browser and embeddable in a README.

use std::fmt::Write as _;

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum XScale {
    Linear,
    /// x is a percentile 0..100 drawn on the HdrHistogram "1/(1-p)" log
    /// axis, ticks 0%, 90%, 99%, 99.9%, 99.99%, 99.999%
    Percentile,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: XScale,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
/// Plot area edges; the top moves down when the legend needs more rows.
/// The right margin fits half of a centred "99.999%" label.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 684.0;
const TOP: f64 = 62.0;
const BOTTOM: f64 = 360.0;
const LEGEND_Y: f64 = 46.0;
const LEGEND_ROW: f64 = 18.0;
/// Rough width of a 12 px sans-serif character, for laying out the legend.
const CHAR_W: f64 = 7.0;
/// At most this many ticks per axis; 1/2/5 steps then give 4 to 8.
const MAX_TICKS: usize = 8;
/// The Percentile axis stops at 99.999 % (5 decades).
const MAX_DECADES: f64 = 5.0;
/// Tick labels of the Percentile axis, one per decade.
const PERCENTILE_LABELS: [&str; 6] = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
/// Tableau's first six: distinct on white and for the common forms of
/// colour blindness. Series 7-12 reuse them dashed.
const PALETTE: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

impl Chart {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"system-ui, -apple-system, \
             'Segoe UI', Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#333\">\n\
             <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#fff\"/>\n"
        );
        text(&mut out, WIDTH / 2.0, 26.0, "middle", "font-size=\"16\" font-weight=\"600\"", &self.title);
        let top = self.legend(&mut out);

        // Only finite points count, for ranges as well as for drawing.
        let series: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| {
                let pts = s.points.iter().copied().filter(|&(x, y)| x.is_finite() && y.is_finite());
                match self.x_scale {
                    XScale::Linear => pts.collect(),
                    // p100 is infinitely far out on this axis; it is drawn
                    // at the right edge, wherever that falls.
                    XScale::Percentile => pts
                        .map(|(p, y)| (if p >= 100.0 { f64::INFINITY } else { percentile_decades(p) }, y))
                        .collect(),
                }
            })
            .collect();
        let all = || series.iter().flatten();
        if all().next().is_none() {
            frame(&mut out, top);
            text(
                &mut out,
                (LEFT + RIGHT) / 2.0,
                (top + BOTTOM) / 2.0,
                "middle",
                "fill=\"#999\" font-size=\"14\"",
                "no data",
            );
            self.axis_labels(&mut out, top);
            out.push_str("</svg>\n");
            return out;
        }

        // y always starts at 0 (or below): latency and rates are read from 0.
        let (y_lo, y_hi) = all().fold((0.0f64, 0.0f64), |(lo, hi), &(_, y)| (lo.min(y), hi.max(y)));
        let (y_ticks, y_step) = nice_ticks(y_lo, y_hi);
        let (x_ticks, x_labels): (Vec<f64>, Vec<String>) = match self.x_scale {
            XScale::Linear => {
                let (lo, hi) = all().fold((f64::MAX, f64::MIN), |(lo, hi), &(x, _)| (lo.min(x), hi.max(x)));
                let (ticks, step) = nice_ticks(lo, hi);
                let labels = ticks.iter().map(|&t| compact(t, step)).collect();
                (ticks, labels)
            }
            XScale::Percentile => {
                // Span the decades the data reach below p100, at least one.
                let reach = all().map(|&(x, _)| x).filter(|x| x.is_finite()).fold(0.0, f64::max);
                // (The slack keeps 2.0000000000000004 decades from adding one.)
                let decades = (reach - 1e-6).ceil().clamp(1.0, MAX_DECADES) as usize;
                let ticks = (0..=decades).map(|d| d as f64).collect();
                let labels = PERCENTILE_LABELS[..=decades].iter().map(|l| l.to_string()).collect();
                (ticks, labels)
            }
        };
        let (x_lo, x_hi) = (x_ticks[0], x_ticks[x_ticks.len() - 1]);
        let (y_lo, y_hi) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
        let px = |x: f64| LEFT + (x.clamp(x_lo, x_hi) - x_lo) / (x_hi - x_lo) * (RIGHT - LEFT);
        let py = |y: f64| BOTTOM - (y - y_lo) / (y_hi - y_lo) * (BOTTOM - top);

        // Grid and tick labels.
        out.push_str("<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
        for &t in &x_ticks {
            let _ = writeln!(
                out,
                "<line x1=\"{0:.1}\" y1=\"{top:.1}\" x2=\"{0:.1}\" y2=\"{BOTTOM:.1}\"/>",
                px(t)
            );
        }
        for &t in &y_ticks {
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT:.1}\" y1=\"{0:.1}\" x2=\"{RIGHT:.1}\" y2=\"{0:.1}\"/>",
                py(t)
            );
        }
        out.push_str("</g>\n");
        frame(&mut out, top);
        for (&t, label) in x_ticks.iter().zip(&x_labels) {
            text(&mut out, px(t), BOTTOM + 18.0, "middle", "", label);
        }
        for &t in &y_ticks {
            text(&mut out, LEFT - 8.0, py(t) + 4.0, "end", "", &compact(t, y_step));
        }
        self.axis_labels(&mut out, top);

        // Lines last, so they sit on top of the grid.
        for (i, pts) in series.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
            let color = PALETTE[i % PALETTE.len()];
            let dash = if i >= PALETTE.len() { " stroke-dasharray=\"6 3\"" } else { "" };
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" \
                 stroke-linejoin=\"round\" stroke-linecap=\"round\"{dash} points=\""
            );
            for (j, &(x, y)) in pts.iter().enumerate() {
                let sep = if j == 0 { "" } else { " " };
                let _ = write!(out, "{sep}{:.1},{:.1}", px(x), py(y));
            }
            out.push_str("\"/>\n");
            // A lone point draws no line; mark it.
            if let [(x, y)] = pts[..] {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                    px(x),
                    py(y)
                );
            }
        }
        out.push_str("</svg>\n");
        out
    }

    /// Legend rows under the title: a swatch and the name per series,
    /// wrapping to a new row when the width runs out. Returns the plot top.
    fn legend(&self, out: &mut String) -> f64 {
        let (mut x, mut y) = (LEFT, LEGEND_Y);
        for (i, s) in self.series.iter().enumerate() {
            let w = 22.0 + s.name.chars().count() as f64 * CHAR_W + 16.0;
            if x > LEFT && x + w > RIGHT {
                x = LEFT;
                y += LEGEND_ROW;
            }
            let color = PALETTE[i % PALETTE.len()];
            let dash = if i >= PALETTE.len() { " stroke-dasharray=\"4 2\"" } else { "" };
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"{color}\" stroke-width=\"3\"{dash}/>",
                y - 4.0,
                x + 16.0
            );
            text(out, x + 22.0, y, "start", "", &s.name);
            x += w;
        }
        TOP + (y - LEGEND_Y)
    }

    fn axis_labels(&self, out: &mut String, top: f64) {
        text(out, (LEFT + RIGHT) / 2.0, BOTTOM + 42.0, "middle", "", &self.x_label);
        let (x, y) = (18.0, (top + BOTTOM) / 2.0);
        let attrs = format!("transform=\"rotate(-90 {x} {y:.1})\"");
        text(out, x, y, "middle", &attrs, &self.y_label);
    }
}

/// The plot area's border: left and bottom axes in a darker grey.
fn frame(out: &mut String, top: f64) {
    let _ = writeln!(
        out,
        "<path d=\"M{LEFT:.1} {top:.1}V{BOTTOM:.1}H{RIGHT:.1}\" fill=\"none\" stroke=\"#888\" stroke-width=\"1\"/>"
    );
}

/// One `<text>` element; `body` is escaped, `attrs` is trusted markup.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, attrs: &str, body: &str) {
    if body.is_empty() {
        return;
    }
    let sep = if attrs.is_empty() { "" } else { " " };
    let _ = write!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\"{sep}{attrs}>");
    push_escaped(out, body);
    out.push_str("</text>\n");
}

/// Appends `s` with the XML special characters escaped (XML 1.0 §2.4: "&"
/// and "<" must be; ">" and the quotes are, so text is safe in attributes
/// too).
pub fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot hold most control characters at all.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Ticks covering `lo..=hi` at a 1/2/5 × 10^k step: the smallest such step
/// that needs at most [`MAX_TICKS`] ticks. The first and last tick are at or
/// beyond the data, so the axis ends on a tick. Returns (ticks, step).
pub fn nice_ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        // One value: show it mid-axis (or the axis from 0 for y).
        let pad = lo.abs() / 2.0;
        (lo - pad, lo + pad)
    };
    let range = hi - lo;
    if !range.is_finite() {
        // Points near ±f64::MAX: no 1/2/5 step fits; just the two ends.
        return (vec![lo, hi], range);
    }
    let mut exp = (range / MAX_TICKS as f64).log10().floor() as i32;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * 10f64.powi(exp);
            // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from adding a tick.
            let first = (lo / step + 1e-9).floor();
            let last = (hi / step - 1e-9).ceil();
            let n = (last - first) as usize + 1;
            if n <= MAX_TICKS {
                let ticks = (0..n).map(|i| (first + i as f64) * step).collect();
                return (ticks, step);
            }
        }
        exp += 1;
    }
}

/// `v` compactly, with as many decimals as `step` needs: 1500 → "1.5k",
/// 2000000 → "2M", 0.25 → "0.25".
pub fn compact(v: f64, step: f64) -> String {
    let a = v.abs();
    let (scale, suffix) = match a {
        a if a >= 1e12 => (1e12, "T"),
        a if a >= 1e9 => (1e9, "G"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let decimals = (-(step / scale).log10().floor()).clamp(0.0, 6.0) as usize;
    let mut s = format!("{:.*}", decimals, v / scale);
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s + suffix
}

/// Where percentile `p` sits on the "1/(1-p)" axis, in decades: 0 → 0,
/// 90 → 1, 99 → 2, 99.9 → 3. p = 100 is infinitely far; it is capped at
/// [`MAX_DECADES`], as is anything beyond 99.999.
pub fn percentile_decades(p: f64) -> f64 {
    let tail = (1.0 - p.clamp(0.0, 100.0) / 100.0).max(10f64.powf(-MAX_DECADES));
    (-tail.log10()).clamp(0.0, MAX_DECADES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(scale: XScale, series: Vec<Series>) -> Chart {
        Chart {
            title: "Latency <p99> & \"friends\"".into(),
            x_label: "percentile".into(),
            y_label: "µs".into(),
            x_scale: scale,
            series,
        }
    }

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        Series { name: name.into(), points: points.to_vec() }
    }

    #[test]
    fn escaping() {
        let mut out = String::new();
        push_escaped(&mut out, "a<b & c>\"d\" 'e'\u{1}");
        assert_eq!(out, "a&lt;b &amp; c&gt;&quot;d&quot; &apos;e&apos;\u{fffd}");
        let svg = chart(XScale::Linear, vec![series("x&y", &[(0.0, 1.0), (1.0, 2.0)])]).render();
        assert!(svg.contains(">Latency &lt;p99&gt; &amp; &quot;friends&quot;</text>"));
        assert!(svg.contains(">x&amp;y</text>"));
        assert!(!svg.contains("x&y"));
    }

    #[test]
    fn nice_tick_ranges() {
        let t = |lo, hi| nice_ticks(lo, hi);
        assert_eq!(t(0.0, 1.0), (vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0], 0.2));
        assert_eq!(t(0.0, 100.0), (vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0], 20.0));
        assert_eq!(t(0.0, 93.0).0, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(t(0.0, 700.0).0, vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0]);
        assert_eq!(t(0.0, 800.0).0, vec![0.0, 200.0, 400.0, 600.0, 800.0]);
        assert_eq!(t(0.0, 1_234_567.0), ((0..=7).map(|i| i as f64 * 200_000.0).collect(), 200_000.0));
        assert_eq!(t(3.0, 57.0), ((0..=6).map(|i| i as f64 * 10.0).collect(), 10.0));
        assert_eq!(t(-3.0, 4.0), ((-3..=4).map(|i| i as f64).collect(), 1.0));
        // A single value sits mid-axis, ±50 %.
        let (ticks, step) = t(0.3, 0.3);
        assert_eq!((ticks.len(), step), (7, 0.05));
        assert!((ticks[0] - 0.15).abs() < 1e-12 && (ticks[6] - 0.45).abs() < 1e-12);
        assert_eq!(t(0.0, 0.0).1, 0.2);
        assert_eq!(t(-f64::MAX, f64::MAX).0, vec![-f64::MAX, f64::MAX]);
        // 1/2/5 steps can jump 2.5×: the one range shape that yields 4 ticks.
        assert_eq!(t(0.0, 1.45).0, vec![0.0, 0.5, 1.0, 1.5]);
        for hi in [0.7, 3.0, 9.9, 42.0, 1e3, 3.3e4, 6.1e6, 9e9] {
            let n = t(0.0, hi).0.len();
            assert!((4..=8).contains(&n), "{hi}: {n}");
        }
    }

    #[test]
    fn compact_labels() {
        for (v, step, want) in [
            (0.0, 2000.0, "0"),
            (10_000.0, 2000.0, "10k"),
            (1_500_000.0, 500_000.0, "1.5M"),
            (2_000_000.0, 500_000.0, "2M"),
            (800.0, 200.0, "800"),
            (0.25, 0.05, "0.25"),
            (2.5, 0.5, "2.5"),
            (0.6000000000000001, 0.2, "0.6"),
            (-1500.0, 500.0, "-1.5k"),
            (3e9, 1e9, "3G"),
        ] {
            assert_eq!(compact(v, step), want, "{v}");
        }
    }

    #[test]
    fn percentile_axis_mapping() {
        assert_eq!(percentile_decades(0.0), 0.0);
        assert!((percentile_decades(90.0) - 1.0).abs() < 1e-9);
        assert!((percentile_decades(99.0) - 2.0).abs() < 1e-9);
        assert!((percentile_decades(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(percentile_decades(100.0), MAX_DECADES);
        assert_eq!(percentile_decades(-3.0), 0.0);
        // Data reaching p99.999 get all six ticks.
        let pts = [(0.0, 1.0), (99.99, 2.0), (99.999, 3.0), (100.0, 4.0)];
        let svg = chart(XScale::Percentile, vec![series("all", &pts)]).render();
        let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
        for l in labels {
            assert!(svg.contains(&format!(">{l}</text>")), "{l}");
        }
    }

    #[test]
    fn percentile_chart_spans_the_reached_decades() {
        let pts = [(0.0, 1.0), (50.0, 2.0), (90.0, 3.0), (99.0, 5.0), (100.0, 9.0)];
        let svg = chart(XScale::Percentile, vec![series("ws", &pts)]).render();
        assert!(svg.contains(">99%</text>") && !svg.contains(">99.9%</text>"));
        // 90 % is half-way along (1 of 2 decades); p100 lands on the right edge.
        let mid = (LEFT + RIGHT) / 2.0;
        assert!(svg.contains(&format!(" {mid:.1},")), "{svg}");
        assert!(svg.contains(&format!(" {RIGHT:.1},")));
    }

    #[test]
    fn well_formed_with_one_polyline_per_non_empty_series() {
        let c = chart(
            XScale::Linear,
            vec![
                series("sse", &[(0.0, 10.0), (1.0, 12.5), (2.0, f64::NAN), (3.0, 9.0)]),
                series("empty", &[]),
                series("ws", &[(0.0, 20_000.0), (f64::INFINITY, 1.0), (3.0, 30_000.0)]),
                series("only-nan", &[(f64::NAN, 1.0)]),
            ],
        );
        let svg = c.render();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>\n"));
        for name in ["sse", "empty", "ws", "only-nan"] {
            assert!(svg.contains(&format!(">{name}</text>")), "{name}");
        }
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains(PALETTE[0]) && svg.contains(PALETTE[2]));
        // y axis: 0..30k in 5k steps; the top tick is the plot's top edge.
        assert!(svg.contains(&format!("y=\"{:.1}\" text-anchor=\"end\">30k</text>", TOP + 4.0)));
        assert!(svg.contains(">5k</text>"));
        // The sse line's finite points only.
        let sse = svg.split("<polyline").nth(1).expect("first polyline");
        let points = sse.split("points=\"").nth(1).and_then(|p| p.split('"').next()).expect("points");
        assert_eq!(points.split(' ').count(), 3);
        assert!(!svg.contains("no data"));
    }

    #[test]
    fn empty_charts_say_no_data() {
        for c in [
            chart(XScale::Linear, vec![]),
            chart(XScale::Percentile, vec![series("a", &[]), series("b", &[(f64::NAN, f64::NAN)])]),
        ] {
            let svg = c.render();
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
            assert!(svg.contains(">no data</text>"));
            assert_eq!(svg.matches("<polyline").count(), 0);
        }
    }

    #[test]
    fn single_point_gets_a_marker() {
        let svg = chart(XScale::Linear, vec![series("one", &[(5.0, 5.0)])]).render();
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
    }

    #[test]
    fn many_series_wrap_the_legend_and_reuse_colours_dashed() {
        let many: Vec<Series> = (0..8)
            .map(|i| series(&format!("a rather long series name {i}"), &[(0.0, i as f64), (1.0, 1.0)]))
            .collect();
        let svg = chart(XScale::Linear, many).render();
        assert_eq!(svg.matches("<polyline").count(), 8);
        assert_eq!(svg.matches("stroke-dasharray=\"6 3\"").count(), 2);
        // Four legend rows of two: the plot starts three rows lower.
        let top = TOP + 3.0 * LEGEND_ROW;
        assert!(svg.contains(&format!("M{LEFT:.1} {top:.1}V")), "{svg}");
    }
}
