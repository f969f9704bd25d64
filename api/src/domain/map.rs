//! The small map on a flagged check-in's card (DESIGN §5: maps are drawn on the server as
//! SVG, with no tiles): the village boundary, the check-in, the cadre's check-in before it,
//! and a scale bar. The projection is equirectangular around the middle of what is drawn —
//! at a village's scale it keeps distances true within a fraction of a percent.

use std::fmt::Write;

use geo::{Distance, Geodesic, Point};

use super::boundary::Boundary;
use super::coords::LatLon;

pub const WIDTH: f64 = 260.0;
pub const HEIGHT: f64 = 200.0;
const MARGIN: f64 = 12.0;
/// The strip at the bottom kept for the scale bar.
const SCALE_ROOM: f64 = 20.0;
/// The smallest span drawn (metres), so a lone point is not magnified into nothing.
const MIN_SPAN_M: f64 = 200.0;
/// The longest scale bar, in pixels.
const MAX_BAR_PX: f64 = 100.0;
/// Projected vertices closer than this (pixels) to the last one kept are dropped: a
/// 10,000-vertex boundary draws as well with a few hundred.
const MIN_STEP_PX: f64 = 0.75;

/// What one card's map shows, in WGS-84.
pub struct MapInput<'a> {
    /// The village's boundary, when it has one.
    pub boundary: Option<&'a Boundary>,
    /// The check-in under review.
    pub point: LatLon,
    /// The same cadre's check-in before it.
    pub previous: Option<LatLon>,
}

/// Degrees to pixels: metres on a plane tangent at the middle, scaled to fit.
#[derive(Debug, Clone, Copy)]
struct Projection {
    lat0: f64,
    lon0: f64,
    m_per_deg_lat: f64,
    m_per_deg_lon: f64,
    /// Pixels per metre.
    scale: f64,
    /// The metres (east, north of the origin) drawn at the middle of the map area.
    mid: (f64, f64),
}

impl Projection {
    fn fit(input: &MapInput) -> Projection {
        let mut lats = vec![input.point.lat];
        let mut lons = vec![input.point.lon];
        if let Some(p) = input.previous {
            lats.push(p.lat);
            lons.push(p.lon);
        }
        match input.boundary {
            Some(Boundary::Area(area)) => {
                for ring in area.0.iter().map(|p| p.exterior()) {
                    for c in ring.coords() {
                        lats.push(c.y);
                        lons.push(c.x);
                    }
                }
            }
            Some(Boundary::Circle { center, .. }) => {
                lats.push(center.y());
                lons.push(center.x());
            }
            None => {}
        }
        let (lat0, lon0) = (middle(&lats), middle(&lons));
        // Metres per degree measured on the ellipsoid at the origin over a short step.
        let step = 0.01;
        let m_per_deg_lat = Geodesic.distance(
            Point::new(lon0, lat0 - step / 2.0),
            Point::new(lon0, lat0 + step / 2.0),
        ) / step;
        let m_per_deg_lon = Geodesic.distance(
            Point::new(lon0 - step / 2.0, lat0),
            Point::new(lon0 + step / 2.0, lat0),
        ) / step;
        let mut projection = Projection {
            lat0,
            lon0,
            m_per_deg_lat,
            m_per_deg_lon,
            scale: 1.0,
            mid: (0.0, 0.0),
        };
        let mut xs = Vec::with_capacity(lons.len() + 2);
        let mut ys = Vec::with_capacity(lats.len() + 2);
        for (lat, lon) in lats.iter().zip(&lons) {
            let (x, y) = projection.metres(LatLon {
                lat: *lat,
                lon: *lon,
            });
            xs.push(x);
            ys.push(y);
        }
        if let Some(Boundary::Circle { center, radius_m }) = input.boundary {
            let (x, y) = projection.metres(LatLon {
                lat: center.y(),
                lon: center.x(),
            });
            xs.extend([x - radius_m, x + radius_m]);
            ys.extend([y - radius_m, y + radius_m]);
        }
        let (min_x, max_x) = extent(&xs);
        let (min_y, max_y) = extent(&ys);
        let width = (max_x - min_x).max(MIN_SPAN_M);
        let height = (max_y - min_y).max(MIN_SPAN_M);
        let scale =
            ((WIDTH - 2.0 * MARGIN) / width).min((HEIGHT - 2.0 * MARGIN - SCALE_ROOM) / height);
        // Only coordinates outside any real range could make it so; draw at 1 px per metre.
        projection.scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        projection.mid = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
        projection
    }

    /// Metres east and north of the origin.
    fn metres(&self, p: LatLon) -> (f64, f64) {
        (
            (p.lon - self.lon0) * self.m_per_deg_lon,
            (p.lat - self.lat0) * self.m_per_deg_lat,
        )
    }

    /// Pixels, north up.
    fn project(&self, p: LatLon) -> (f64, f64) {
        let (x, y) = self.metres(p);
        let area_mid_y = MARGIN + (HEIGHT - 2.0 * MARGIN - SCALE_ROOM) / 2.0;
        (
            WIDTH / 2.0 + (x - self.mid.0) * self.scale,
            area_mid_y - (y - self.mid.1) * self.scale,
        )
    }
}

fn middle(values: &[f64]) -> f64 {
    let (min, max) = extent(values);
    (min + max) / 2.0
}

fn extent(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// The longest round length (1, 2 or 5 × 10ⁿ metres) that fits in `max_m`.
fn round_length(max_m: f64) -> f64 {
    let power = 10f64.powf(max_m.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|f| f * power)
        .find(|len| *len <= max_m)
        .unwrap_or(power)
}

/// A length as people say it: `500 米`, `2 公里`.
fn length_words(metres: f64) -> String {
    if metres >= 1000.0 {
        format!("{} 公里", metres / 1000.0)
    } else {
        format!("{metres} 米")
    }
}

/// The map as an SVG element of [`WIDTH`] × [`HEIGHT`], to be placed in a page as it is.
pub fn checkin_map(input: &MapInput) -> String {
    let proj = Projection::fit(input);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="map" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="打卡位置示意图"><rect width="{WIDTH}" height="{HEIGHT}" fill="#f3f1ec"/>"##
    );
    let village_style = r##"fill="#d9ead0" stroke="#4d7f3c" stroke-width="1.5""##;
    match input.boundary {
        Some(Boundary::Area(area)) => {
            let mut d = String::new();
            for polygon in &area.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    let points: Vec<(f64, f64)> = ring
                        .coords()
                        .map(|c| proj.project(LatLon { lat: c.y, lon: c.x }))
                        .collect();
                    ring_path(&mut d, &points);
                }
            }
            let _ = write!(
                svg,
                r#"<path class="map-village" fill-rule="evenodd" {village_style} d="{d}"><title>村界</title></path>"#
            );
        }
        Some(Boundary::Circle { center, radius_m }) => {
            let (cx, cy) = proj.project(LatLon {
                lat: center.y(),
                lon: center.x(),
            });
            let r = (radius_m * proj.scale).max(1.5);
            let _ = write!(
                svg,
                r#"<circle class="map-village" cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" {village_style}><title>村界</title></circle>"#
            );
        }
        None => {}
    }
    let (px, py) = proj.project(input.point);
    if let Some(previous) = input.previous {
        let (qx, qy) = proj.project(previous);
        let _ = write!(
            svg,
            r##"<line class="map-track" x1="{qx:.1}" y1="{qy:.1}" x2="{px:.1}" y2="{py:.1}" stroke="#777" stroke-width="1.2" stroke-dasharray="4 3"/><circle class="map-previous" cx="{qx:.1}" cy="{qy:.1}" r="4" fill="#8c8c8c" stroke="#fff" stroke-width="1"><title>上一次打卡</title></circle>"##
        );
    }
    let _ = write!(
        svg,
        r##"<circle class="map-point" cx="{px:.1}" cy="{py:.1}" r="5" fill="#d93025" stroke="#fff" stroke-width="1.5"><title>本次打卡</title></circle>"##
    );
    let length = round_length(MAX_BAR_PX / proj.scale);
    let bar = length * proj.scale;
    let (x0, y0) = (MARGIN, HEIGHT - 8.0);
    let _ = write!(
        svg,
        r##"<g class="map-scale"><path d="M{x0:.1} {:.1}V{y0:.1}H{:.1}V{:.1}" fill="none" stroke="#333" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text></g></svg>"##,
        y0 - 5.0,
        x0 + bar,
        y0 - 5.0,
        x0 + bar + 6.0,
        y0 + 1.0,
        length_words(length),
    );
    svg
}

/// Appends one closed ring to a path, leaving out steps too small to see.
fn ring_path(d: &mut String, points: &[(f64, f64)]) {
    let Some(((x0, y0), rest)) = points.split_first() else {
        return;
    };
    let _ = write!(d, "M{x0:.1} {y0:.1}");
    let mut last = (*x0, *y0);
    for &(x, y) in rest {
        if (x - last.0).hypot(y - last.1) >= MIN_STEP_PX {
            let _ = write!(d, "L{x:.1} {y:.1}");
            last = (x, y);
        }
    }
    d.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::boundary::parse_boundary;
    use serde_json::json;

    const CENTRE: LatLon = LatLon {
        lat: 29.08,
        lon: 119.65,
    };

    fn square(half: f64) -> Boundary {
        let (lon, lat) = (CENTRE.lon, CENTRE.lat);
        parse_boundary(&json!({"type": "Polygon", "coordinates": [[
            [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]]}))
        .unwrap()
    }

    fn attr(element: &str, name: &str) -> f64 {
        let key = format!(" {name}=\"");
        let at = element
            .find(&key)
            .unwrap_or_else(|| panic!("{name} in {element}"))
            + key.len();
        let end = element[at..].find('"').unwrap() + at;
        element[at..end].parse().unwrap()
    }

    /// The first element of class `class`, up to its `>`.
    fn element<'a>(svg: &'a str, class: &str) -> &'a str {
        let at = svg
            .find(&format!("class=\"{class}\""))
            .unwrap_or_else(|| panic!("no {class} in {svg}"));
        let start = svg[..at].rfind('<').unwrap();
        let end = svg[at..].find('>').unwrap() + at;
        &svg[start..=end]
    }

    fn centre_of(svg: &str, class: &str) -> (f64, f64) {
        let e = element(svg, class);
        (attr(e, "cx"), attr(e, "cy"))
    }

    /// The rings of a path's `d`: `M x y L x y … Z`, repeated.
    fn rings(svg: &str) -> Vec<Vec<(f64, f64)>> {
        let e = element(svg, "map-village");
        let at = e.find(" d=\"").unwrap() + 4;
        let d = &e[at..at + e[at..].find('"').unwrap()];
        d.split('Z')
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.split(['M', 'L'])
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (x, y) = p.split_once(' ').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    /// Even-odd rule over every ring, like the drawn path.
    fn inside(rings: &[Vec<(f64, f64)>], (x, y): (f64, f64)) -> bool {
        let mut inside = false;
        for ring in rings {
            let n = ring.len();
            for i in 0..n {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                if (a.1 > y) != (b.1 > y) && x < a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1) {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// The scale bar's length in pixels and the metres its label says.
    fn scale_bar(svg: &str) -> (f64, f64) {
        let g = &svg[svg.find("class=\"map-scale\"").unwrap()..];
        let d_at = g.find(" d=\"M").unwrap() + 5;
        let d = &g[d_at..d_at + g[d_at..].find('"').unwrap()];
        let x0: f64 = d.split(' ').next().unwrap().parse().unwrap();
        let h_at = d.find('H').unwrap() + 1;
        let x1: f64 = d[h_at..d[h_at..].find('V').unwrap() + h_at]
            .parse()
            .unwrap();
        let text_at = g.find("<text").unwrap();
        let label = &g[g[text_at..].find('>').unwrap() + text_at + 1..g.find("</text>").unwrap()];
        let metres = match label.split_once(' ') {
            Some((n, "米")) => n.parse::<f64>().unwrap(),
            Some((n, "公里")) => n.parse::<f64>().unwrap() * 1000.0,
            _ => panic!("scale label {label}"),
        };
        (x1 - x0, metres)
    }

    fn east_of(p: LatLon, metres: f64) -> LatLon {
        let per_degree =
            Geodesic.distance(Point::new(p.lon, p.lat), Point::new(p.lon + 0.01, p.lat)) / 0.01;
        LatLon {
            lat: p.lat,
            lon: p.lon + metres / per_degree,
        }
    }

    fn everything_on_the_canvas(svg: &str) {
        for class in ["map-point", "map-previous"] {
            if svg.contains(&format!("class=\"{class}\"")) {
                let (x, y) = centre_of(svg, class);
                assert!(
                    (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y),
                    "{class} at {x},{y}"
                );
            }
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn points_inside_the_boundary_are_drawn_inside_it_and_points_outside_outside() {
        let village = square(0.01);
        let inner = LatLon {
            lat: CENTRE.lat + 0.006,
            lon: CENTRE.lon - 0.008,
        };
        let outer = LatLon {
            lat: CENTRE.lat + 0.02,
            lon: CENTRE.lon + 0.015,
        };
        let svg = checkin_map(&MapInput {
            boundary: Some(&village),
            point: inner,
            previous: Some(outer),
        });
        let drawn = rings(&svg);
        assert_eq!(drawn.len(), 1);
        assert!(inside(&drawn, centre_of(&svg, "map-point")), "{svg}");
        assert!(!inside(&drawn, centre_of(&svg, "map-previous")), "{svg}");
        assert!(svg.contains("class=\"map-track\"") && svg.contains("stroke-dasharray"));
        everything_on_the_canvas(&svg);
        // Every vertex of the boundary lies on the canvas, inside the margins.
        for (x, y) in &drawn[0] {
            assert!((MARGIN - 0.1..=WIDTH - MARGIN + 0.1).contains(x), "{x}");
            assert!(
                (MARGIN - 0.1..=HEIGHT - MARGIN - SCALE_ROOM + 0.1).contains(y),
                "{y}"
            );
        }
    }

    #[test]
    fn holes_are_drawn_as_holes() {
        let (lon, lat) = (CENTRE.lon, CENTRE.lat);
        let ring = |h: f64| {
            json!([
                [lon - h, lat - h],
                [lon + h, lat - h],
                [lon + h, lat + h],
                [lon - h, lat + h],
                [lon - h, lat - h]
            ])
        };
        let village =
            parse_boundary(&json!({"type": "Polygon", "coordinates": [ring(0.02), ring(0.005)]}))
                .unwrap();
        let in_hole = checkin_map(&MapInput {
            boundary: Some(&village),
            point: CENTRE,
            previous: None,
        });
        assert!(!inside(&rings(&in_hole), centre_of(&in_hole, "map-point")));
        let in_ring = checkin_map(&MapInput {
            boundary: Some(&village),
            point: LatLon {
                lat: lat + 0.012,
                lon,
            },
            previous: None,
        });
        assert!(inside(&rings(&in_ring), centre_of(&in_ring, "map-point")));
    }

    #[test]
    fn a_circle_holds_the_points_inside_its_radius() {
        let village = Boundary::Circle {
            center: Point::new(CENTRE.lon, CENTRE.lat),
            radius_m: 1500.0,
        };
        let near = east_of(CENTRE, 1200.0);
        let far = east_of(CENTRE, 1800.0);
        for (point, within) in [(near, true), (far, false)] {
            let svg = checkin_map(&MapInput {
                boundary: Some(&village),
                point,
                previous: None,
            });
            let circle = element(&svg, "map-village");
            let (cx, cy, r) = (attr(circle, "cx"), attr(circle, "cy"), attr(circle, "r"));
            let (x, y) = centre_of(&svg, "map-point");
            assert_eq!((x - cx).hypot(y - cy) < r, within, "{svg}");
            everything_on_the_canvas(&svg);
        }
    }

    #[test]
    fn the_scale_bar_measures_true_within_a_few_percent() {
        let village = Boundary::Circle {
            center: Point::new(CENTRE.lon, CENTRE.lat),
            radius_m: 1500.0,
        };
        for (distance, boundary) in [(1000.0, Some(&village)), (30_000.0, None), (120.0, None)] {
            let previous = east_of(CENTRE, distance);
            let svg = checkin_map(&MapInput {
                boundary,
                point: CENTRE,
                previous: Some(previous),
            });
            // Pixels per metre, measured from two points a known geodesic distance apart.
            let (x0, y0) = centre_of(&svg, "map-point");
            let (x1, y1) = centre_of(&svg, "map-previous");
            let true_m = Geodesic.distance(
                Point::new(CENTRE.lon, CENTRE.lat),
                Point::new(previous.lon, previous.lat),
            );
            let px_per_m = (x1 - x0).hypot(y1 - y0) / true_m;
            let (bar_px, label_m) = scale_bar(&svg);
            let bar_m = bar_px / px_per_m;
            assert!(
                (bar_m - label_m).abs() / label_m < 0.03,
                "{distance} m: the bar says {label_m} m and spans {bar_m:.0} m"
            );
            assert!(bar_px > 10.0 && bar_px <= MAX_BAR_PX + 0.1, "{bar_px}");
            everything_on_the_canvas(&svg);
        }
    }

    #[test]
    fn north_is_up_and_east_is_right() {
        let proj = Projection::fit(&MapInput {
            boundary: None,
            point: CENTRE,
            previous: Some(LatLon {
                lat: CENTRE.lat + 0.01,
                lon: CENTRE.lon + 0.01,
            }),
        });
        let (x0, y0) = proj.project(CENTRE);
        let (x1, y1) = proj.project(LatLon {
            lat: CENTRE.lat + 0.01,
            lon: CENTRE.lon + 0.01,
        });
        assert!(x1 > x0 && y1 < y0);
    }

    #[test]
    fn a_lone_point_is_drawn_at_the_middle_with_a_minimum_span() {
        let svg = checkin_map(&MapInput {
            boundary: None,
            point: CENTRE,
            previous: None,
        });
        let (x, y) = centre_of(&svg, "map-point");
        assert!((x - WIDTH / 2.0).abs() < 0.1, "{x}");
        assert!((y - (HEIGHT - SCALE_ROOM) / 2.0).abs() < 0.1, "{y}");
        assert!(!svg.contains("map-village") && !svg.contains("map-previous"));
        let (bar_px, label_m) = scale_bar(&svg);
        assert!(label_m <= MIN_SPAN_M && bar_px > 0.0, "{label_m} m");
        everything_on_the_canvas(&svg);
    }

    #[test]
    fn a_detailed_boundary_is_drawn_with_what_can_be_seen() {
        let (lon, lat) = (CENTRE.lon, CENTRE.lat);
        let n = 4000;
        let mut ring: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                json!([lon + 0.02 * a.cos(), lat + 0.015 * a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let village = parse_boundary(&json!({"type": "Polygon", "coordinates": [ring]})).unwrap();
        let svg = checkin_map(&MapInput {
            boundary: Some(&village),
            point: CENTRE,
            previous: None,
        });
        let drawn = rings(&svg);
        assert!(drawn[0].len() < 1000, "{} vertices drawn", drawn[0].len());
        assert!(inside(&drawn, centre_of(&svg, "map-point")));
    }

    #[test]
    fn round_lengths() {
        assert_eq!(round_length(730.0), 500.0);
        assert_eq!(round_length(2100.0), 2000.0);
        assert_eq!(round_length(1999.0), 1000.0);
        assert_eq!(round_length(99.0), 50.0);
        assert_eq!(length_words(500.0), "500 米");
        assert_eq!(length_words(2000.0), "2 公里");
    }
}
