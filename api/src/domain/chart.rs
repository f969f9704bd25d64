//! Charts drawn on the server as SVG (DESIGN §5): they print, work offline and need no
//! script. Pure functions from numbers to markup; every text that goes in is escaped here,
//! so a page may insert the result as it is.

use std::fmt::Write;

/// Size of the whole drawing and of the plot area inside it, in SVG units (pixels on screen).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 220.0;
pub const PLOT_LEFT: f64 = 48.0;
pub const PLOT_RIGHT: f64 = 628.0;
pub const PLOT_TOP: f64 = 36.0;
pub const PLOT_BOTTOM: f64 = 186.0;

/// Colours and dashes told apart on screen and on a black-and-white printout alike.
const STYLES: [(&str, &str); 4] = [
    ("#b3261e", ""),
    ("#0b57d0", "7 4"),
    ("#1b6e3a", "2 3"),
    ("#8a5a00", "10 3 2 3"),
];

/// One line of a chart: its name in the legend and a rate (0..=1) per point on the x axis,
/// `None` where there was nothing to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(String, Option<f64>)>,
}

/// A rate as people read it: `87.5%`, or `—` when there was nothing to measure.
pub fn percent(rate: Option<f64>) -> String {
    match rate.filter(|r| r.is_finite()) {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_string(),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The x of the `i`th of `n` points: the middle of its share of the plot's width, so that
/// neither the first nor the last sits on an edge.
fn x_of(i: usize, n: usize) -> f64 {
    let band = (PLOT_RIGHT - PLOT_LEFT) / n.max(1) as f64;
    PLOT_LEFT + band * (i as f64 + 0.5)
}

/// The y of a rate; rates outside 0..=1 are drawn at the nearer edge.
fn y_of(rate: f64) -> f64 {
    PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * rate.clamp(0.0, 1.0)
}

/// A line chart of rates: axes at 0%, 50% and 100%, the x axis named by the first series'
/// labels (all series share them, point by point), a legend, a marker with its value at
/// every measured point, and a gap wherever a rate is `None`.
pub fn rate_lines(title: &str, series: &[Series]) -> String {
    let labels: Vec<&str> = series
        .first()
        .map(|s| s.points.iter().map(|(l, _)| l.as_str()).collect())
        .unwrap_or_default();
    let n = labels.len();
    let mut svg = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (rate, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let y = y_of(rate);
        let _ = write!(
            svg,
            r##"<line x1="{PLOT_LEFT}" y1="{y}" x2="{PLOT_RIGHT}" y2="{y}" stroke="#d9d9d9" stroke-width="1"/><text x="{x}" y="{ty}" font-size="11" text-anchor="end" fill="#666">{label}</text>"##,
            x = PLOT_LEFT - 6.0,
            ty = y + 4.0,
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<text x="{x:.1}" y="{y}" font-size="12" text-anchor="middle" fill="#444">{l}</text>"##,
            x = x_of(i, n),
            y = PLOT_BOTTOM + 20.0,
            l = escape(label)
        );
    }
    for (k, s) in series.iter().enumerate() {
        let (colour, dash) = STYLES[k % STYLES.len()];
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let legend_x = PLOT_LEFT + 130.0 * k as f64;
        let _ = write!(
            svg,
            r##"<g class="legend"><line x1="{legend_x}" y1="14" x2="{x2}" y2="14" stroke="{colour}" stroke-width="2.5"{dash}/><text x="{tx}" y="18" font-size="12" fill="#1f1f1f">{name}</text></g>"##,
            x2 = legend_x + 26.0,
            tx = legend_x + 32.0,
            name = escape(&s.name)
        );
        // A new segment starts after every gap; a point alone between gaps is its marker.
        let mut path = String::new();
        let mut pen_down = false;
        for (i, (_, rate)) in s.points.iter().enumerate().take(n) {
            match rate.filter(|r| r.is_finite()) {
                Some(r) => {
                    let command = if pen_down { 'L' } else { 'M' };
                    let _ = write!(path, "{command}{:.1} {:.1} ", x_of(i, n), y_of(r));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg,
            r#"<g class="series"><path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>"#,
            d = path.trim_end()
        );
        for (i, (label, rate)) in s.points.iter().enumerate().take(n) {
            if let Some(r) = rate.filter(|r| r.is_finite()) {
                let _ = write!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{colour}"><title>{name} {label}：{value}</title></circle>"#,
                    x = x_of(i, n),
                    y = y_of(r),
                    name = escape(&s.name),
                    label = escape(label),
                    value = percent(Some(r)),
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, rates: &[Option<f64>]) -> Series {
        Series {
            name: name.into(),
            points: rates
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("{}月", i + 6), *r))
                .collect(),
        }
    }

    /// The numbers after `name="` in every element that has the attribute.
    fn attribute(svg: &str, name: &str) -> Vec<f64> {
        svg.match_indices(&format!(" {name}=\""))
            .map(|(at, m)| {
                let rest = &svg[at + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    fn paths(svg: &str) -> Vec<String> {
        svg.match_indices(" d=\"")
            .map(|(at, m)| {
                let rest = &svg[at + m.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    }

    #[test]
    fn points_lie_within_the_plot_area() {
        let svg = rate_lines(
            "三率",
            &[
                series(
                    "响应率",
                    &[
                        Some(0.0),
                        Some(1.0),
                        Some(0.875),
                        Some(0.5),
                        Some(2.0),
                        Some(-1.0),
                    ],
                ),
                series("满意率", &[Some(0.3); 6]),
            ],
        );
        let (xs, ys) = (attribute(&svg, "cx"), attribute(&svg, "cy"));
        assert_eq!(xs.len(), 12);
        for (x, y) in xs.iter().zip(&ys) {
            assert!((PLOT_LEFT..=PLOT_RIGHT).contains(x), "x {x}");
            assert!((PLOT_TOP..=PLOT_BOTTOM).contains(y), "y {y}");
        }
        // 100% at the top, 0% at the bottom, and out-of-range rates on the edges.
        assert_eq!(ys[0], PLOT_BOTTOM);
        assert_eq!(ys[1], PLOT_TOP);
        assert_eq!((ys[4], ys[5]), (PLOT_TOP, PLOT_BOTTOM));
        assert!(xs.windows(2).take(5).all(|w| w[0] < w[1]), "left to right");
        for axis in ["0%", "50%", "100%", "6月", "11月", "响应率", "满意率"] {
            assert!(svg.contains(&format!(">{axis}<")), "{axis}");
        }
        assert!(svg.contains("响应率 8月：87.5%"), "values on hover: {svg}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn nothing_to_measure_leaves_a_gap() {
        let svg = rate_lines(
            "按期办结率",
            &[series(
                "按期办结率",
                &[Some(0.9), Some(0.8), None, Some(0.7), None, Some(1.0)],
            )],
        );
        let d = &paths(&svg)[0];
        // Two segments and a lone point: three pen-downs, one drawn stroke.
        assert_eq!(d.matches('M').count(), 3, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(
            attribute(&svg, "cx").len(),
            4,
            "no marker where nothing was measured"
        );

        let empty = rate_lines("空", &[series("满意率", &[None, None])]);
        assert_eq!(paths(&empty)[0], "");
        assert!(attribute(&empty, "cx").is_empty());
        assert!(empty.contains(">6月<") && empty.contains(">7月<"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = rate_lines("<script>", &[series("a&b\"<", &[Some(0.5)])]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;") && svg.contains("a&amp;b&quot;&lt;"));
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(Some(0.875)), "87.5%");
        assert_eq!(percent(Some(1.0)), "100.0%");
        assert_eq!(percent(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(f64::NAN)), "—");
    }
}
