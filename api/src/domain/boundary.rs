//! A village's boundary, as an admin sends it in `PUT /api/v1/villages/{id}/boundary`:
//! a GeoJSON `Polygon` / `MultiPolygon` in WGS-84 (positions are `[lon, lat]`), or a
//! circle `{"center": {"lat", "lon"}, "radius_m"}`.

use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{
    BoundingRect, Closest, ClosestPoint, Coord, CoordsIter, Distance, Geodesic, Intersects,
    LineString, MapCoords, MultiPolygon, Point, Polygon, Validation,
};
use serde_json::{json, Map, Value};

use super::Invalid;

pub const DEFAULT_RADIUS_M: f64 = 1500.0;
pub const MAX_VERTICES: usize = 10_000;

const MIN_RADIUS_M: f64 = 10.0;
const MAX_RADIUS_M: f64 = 50_000.0;

const ACCEPTED: &str = "expected a GeoJSON Polygon or MultiPolygon, \
                        or {\"center\": {\"lat\": …, \"lon\": …}, \"radius_m\": …}";
const ACCEPTED_TYPES: &str = "must be \"Polygon\" or \"MultiPolygon\" \
                              (or send {\"center\": …, \"radius_m\": …} without a type)";

#[derive(Debug, Clone, PartialEq)]
pub enum Boundary {
    /// A Polygon is stored as a one-member MultiPolygon.
    Area(MultiPolygon<f64>),
    /// `center.x()` is the longitude, `center.y()` the latitude.
    Circle { center: Point<f64>, radius_m: f64 },
}

/// Parses and validates; every problem found is reported (not just the first), each named by JSON path.
pub fn parse_boundary(body: &Value) -> Result<Boundary, Vec<Invalid>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![Invalid::new("type", ACCEPTED)]);
    };
    match (obj.get("type"), obj.get("center")) {
        (Some(kind), _) => parse_geojson(kind, obj),
        (None, Some(center)) => parse_circle(center, obj),
        (None, None) => Err(vec![Invalid::new("type", ACCEPTED)]),
    }
}

impl Boundary {
    /// The canonical JSON to store and to show: a GeoJSON Polygon (when one polygon) / MultiPolygon,
    /// or `{"center": {"lat", "lon"}, "radius_m"}`.
    pub fn to_json(&self) -> Value {
        match self {
            Boundary::Area(area) => match area.0.as_slice() {
                [one] => json!({ "type": "Polygon", "coordinates": polygon_json(one) }),
                many => json!({
                    "type": "MultiPolygon",
                    "coordinates": many.iter().map(polygon_json).collect::<Vec<_>>(),
                }),
            },
            Boundary::Circle { center, radius_m } => json!({
                "center": { "lat": center.y(), "lon": center.x() },
                "radius_m": radius_m,
            }),
        }
    }

    /// `(min_lon, min_lat, max_lon, max_lat)`; for a circle, a box that holds it.
    /// An empty area (which `parse_boundary` never produces) gives an all-zero box.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        match self {
            Boundary::Area(area) => area.bounding_rect().map_or((0.0, 0.0, 0.0, 0.0), |r| {
                (r.min().x, r.min().y, r.max().x, r.max().y)
            }),
            Boundary::Circle { center, radius_m } => circle_bbox(*center, *radius_m),
        }
    }

    /// 0.0 when the point is inside (or on the edge); otherwise the geodesic distance in metres
    /// from the point to the nearest point of the boundary.
    pub fn distance_outside_m(&self, point: Point<f64>) -> f64 {
        match self {
            Boundary::Area(area) => area_distance_m(area, point),
            Boundary::Circle { center, radius_m } => {
                (Geodesic.distance(*center, point) - radius_m).max(0.0)
            }
        }
    }
}

fn area_distance_m(area: &MultiPolygon<f64>, point: Point<f64>) -> f64 {
    if area.intersects(&point) {
        return 0.0;
    }
    // The nearest point is sought on a local plane where longitudes are shrunk by cos(lat), so
    // that degrees compare like metres on the ground (at village scale, within a fraction of a
    // percent); the distance to it is then measured geodesically.
    let shrink = point.y().to_radians().cos().max(1e-9);
    let local = area.map_coords(|c| Coord {
        x: c.x * shrink,
        y: c.y,
    });
    let local_point = Point::new(point.x() * shrink, point.y());
    match local.closest_point(&local_point) {
        Closest::Intersection(_) => 0.0,
        Closest::SinglePoint(nearest) => {
            Geodesic.distance(point, Point::new(nearest.x() / shrink, nearest.y()))
        }
        // Only when no edge has a length, i.e. an area not built by `parse_boundary`.
        Closest::Indeterminate => area
            .coords_iter()
            .map(|c| Geodesic.distance(point, Point::from(c)))
            .fold(f64::INFINITY, f64::min),
    }
}

fn polygon_json(polygon: &Polygon<f64>) -> Value {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|ring| ring.coords().map(|c| json!([c.x, c.y])).collect::<Value>())
        .collect()
}

fn circle_bbox(center: Point<f64>, radius_m: f64) -> (f64, f64, f64, f64) {
    // 110 km is shorter than any degree of latitude (110.57–111.69 km) and, times cos(lat),
    // than any degree of longitude, so the box errs on the large side.
    let dlat = radius_m / 110_000.0;
    let min_lat = (center.y() - dlat).max(-90.0);
    let max_lat = (center.y() + dlat).min(90.0);
    // Degrees of longitude are shortest at the latitude farthest from the equator.
    let cos = min_lat.abs().max(max_lat.abs()).to_radians().cos();
    let dlon = if cos > 1e-9 { dlat / cos } else { 360.0 };
    let (min_lon, max_lon) = (center.x() - dlon, center.x() + dlon);
    if min_lon < -180.0 || max_lon > 180.0 {
        // Crossing the antimeridian (or circling a pole): only the full width holds it.
        (-180.0, min_lat, 180.0, max_lat)
    } else {
        (min_lon, min_lat, max_lon, max_lat)
    }
}

fn parse_geojson(kind: &Value, obj: &Map<String, Value>) -> Result<Boundary, Vec<Invalid>> {
    let multi = match kind.as_str() {
        Some("Polygon") => false,
        Some("MultiPolygon") => true,
        _ => return Err(vec![Invalid::new("type", ACCEPTED_TYPES)]),
    };
    let Some(coordinates) = obj.get("coordinates") else {
        return Err(vec![Invalid::new("coordinates", "is required")]);
    };

    let mut errors = Vec::new();
    let mut vertices = 0;
    let polygons = if multi {
        match coordinates.as_array() {
            Some(members) if !members.is_empty() => {
                // Parse every member before giving up, so that all of their problems are reported.
                let parsed: Vec<_> = members
                    .iter()
                    .enumerate()
                    .map(|(i, member)| {
                        let path = format!("coordinates[{i}]");
                        parse_polygon(member, &path, &mut errors, &mut vertices)
                    })
                    .collect();
                parsed.into_iter().collect()
            }
            Some(_) => {
                errors.push(Invalid::new("coordinates", "needs at least one polygon"));
                None
            }
            None => {
                errors.push(Invalid::new("coordinates", "must be an array of polygons"));
                None
            }
        }
    } else {
        parse_polygon(coordinates, "coordinates", &mut errors, &mut vertices).map(|p| vec![p])
    };

    if vertices > MAX_VERTICES {
        errors.push(Invalid::new(
            "coordinates",
            format!("has {vertices} positions; at most {MAX_VERTICES} are allowed"),
        ));
    }
    // The geometric checks are costly and meaningless on malformed input, so they run last.
    match polygons {
        Some(polygons) if errors.is_empty() => {
            let area = MultiPolygon::new(polygons);
            errors.extend(
                area.validation_errors()
                    .iter()
                    .map(|e| geometry_invalid(e, multi)),
            );
            if errors.is_empty() {
                Ok(Boundary::Area(area))
            } else {
                Err(errors)
            }
        }
        _ => Err(errors),
    }
}

/// Names the ring (or the later of two polygons) that geo's validation blames.
fn geometry_invalid(error: &InvalidMultiPolygon, multi: bool) -> Invalid {
    let polygon_path = |i: usize| {
        if multi {
            format!("coordinates[{i}]")
        } else {
            "coordinates".to_owned()
        }
    };
    let ring_path = |i: usize, role: &RingRole| match role {
        RingRole::Exterior => format!("{}[0]", polygon_path(i)),
        RingRole::Interior(h) => format!("{}[{}]", polygon_path(i), h + 1),
    };
    match error {
        InvalidMultiPolygon::InvalidPolygon(i, inner) => {
            let role = match inner {
                InvalidPolygon::TooFewPointsInRing(role)
                | InvalidPolygon::SelfIntersection(role)
                | InvalidPolygon::NonFiniteCoord(role, _)
                | InvalidPolygon::InteriorRingNotContainedInExteriorRing(role)
                | InvalidPolygon::IntersectingRingsOnALine(_, role)
                | InvalidPolygon::IntersectingRingsOnAnArea(_, role) => role,
            };
            Invalid::new(ring_path(i.0, role), inner.to_string())
        }
        InvalidMultiPolygon::ElementsOverlaps(i, j) => {
            Invalid::new(polygon_path(j.0), format!("overlaps polygon {}", i.0))
        }
        InvalidMultiPolygon::ElementsTouchOnALine(i, j) => Invalid::new(
            polygon_path(j.0),
            format!("shares part of an edge with polygon {}", i.0),
        ),
    }
}

fn parse_polygon(
    value: &Value,
    path: &str,
    errors: &mut Vec<Invalid>,
    vertices: &mut usize,
) -> Option<Polygon<f64>> {
    let Some(rings) = value.as_array() else {
        errors.push(Invalid::new(path, "must be an array of linear rings"));
        return None;
    };
    if rings.is_empty() {
        errors.push(Invalid::new(path, "needs at least its exterior ring"));
        return None;
    }
    // Parse every ring before giving up, so that all of their problems are reported.
    let parsed: Vec<_> = rings
        .iter()
        .enumerate()
        .map(|(i, ring)| parse_ring(ring, &format!("{path}[{i}]"), errors, vertices))
        .collect();
    let mut rings = parsed.into_iter().collect::<Option<Vec<_>>>()?.into_iter();
    let exterior = rings.next()?;
    Some(Polygon::new(exterior, rings.collect()))
}

fn parse_ring(
    value: &Value,
    path: &str,
    errors: &mut Vec<Invalid>,
    vertices: &mut usize,
) -> Option<LineString<f64>> {
    let Some(positions) = value.as_array() else {
        errors.push(Invalid::new(path, "must be an array of positions"));
        return None;
    };
    *vertices += positions.len();
    let parsed: Vec<_> = positions
        .iter()
        .enumerate()
        .map(|(i, position)| parse_position(position, &format!("{path}[{i}]"), errors))
        .collect();
    if positions.len() < 4 {
        errors.push(Invalid::new(
            path,
            "a linear ring needs at least 4 positions, the last equal to the first",
        ));
        return None;
    }
    let coords = parsed.into_iter().collect::<Option<Vec<_>>>()?;
    if coords.first() != coords.last() {
        errors.push(Invalid::new(
            path,
            "is not closed: the last position must equal the first",
        ));
        return None;
    }
    Some(LineString::new(coords))
}

fn parse_position(value: &Value, path: &str, errors: &mut Vec<Invalid>) -> Option<Coord<f64>> {
    const SHAPE: &str = "must be [lon, lat] (an optional third number, the altitude, is ignored)";
    let Some(items) = value.as_array() else {
        errors.push(Invalid::new(path, SHAPE));
        return None;
    };
    let [lon, lat, altitude @ ..] = items.as_slice() else {
        errors.push(Invalid::new(path, SHAPE));
        return None;
    };
    if altitude.len() > 1 || altitude.iter().any(|a| a.as_f64().is_none()) {
        errors.push(Invalid::new(path, SHAPE));
        return None;
    }
    let lon = in_range(lon, 180.0);
    if lon.is_none() {
        errors.push(Invalid::new(
            path,
            "longitude must be a number from -180 to 180",
        ));
    }
    let lat = in_range(lat, 90.0);
    if lat.is_none() {
        errors.push(Invalid::new(
            path,
            "latitude must be a number from -90 to 90",
        ));
    }
    Some(Coord { x: lon?, y: lat? })
}

/// The number, when it is finite and within ±`limit`.
fn in_range(value: &Value, limit: f64) -> Option<f64> {
    value
        .as_f64()
        .filter(|v| v.is_finite() && (-limit..=limit).contains(v))
}

fn parse_circle(center: &Value, obj: &Map<String, Value>) -> Result<Boundary, Vec<Invalid>> {
    let mut errors = Vec::new();
    for key in obj.keys().filter(|k| *k != "center" && *k != "radius_m") {
        errors.push(Invalid::new(
            key.as_str(),
            "unknown field: a circle has only center and radius_m",
        ));
    }

    let (mut lat, mut lon) = (None, None);
    if let Some(center) = center.as_object() {
        for key in center.keys().filter(|k| *k != "lat" && *k != "lon") {
            errors.push(Invalid::new(
                format!("center.{key}"),
                "unknown field: a center has only lat and lon",
            ));
        }
        lat = circle_coord(center, "lat", 90.0, &mut errors);
        lon = circle_coord(center, "lon", 180.0, &mut errors);
    } else {
        errors.push(Invalid::new("center", "must be an object {lat, lon}"));
    }

    // An explicit null is taken as "not given".
    let radius_m = match obj.get("radius_m") {
        None | Some(Value::Null) => Some(DEFAULT_RADIUS_M),
        Some(radius) => {
            let radius = radius
                .as_f64()
                .filter(|r| r.is_finite() && (MIN_RADIUS_M..=MAX_RADIUS_M).contains(r));
            if radius.is_none() {
                errors.push(Invalid::new(
                    "radius_m",
                    format!("must be a number of metres from {MIN_RADIUS_M} to {MAX_RADIUS_M}"),
                ));
            }
            radius
        }
    };

    match (lat, lon, radius_m) {
        (Some(lat), Some(lon), Some(radius_m)) if errors.is_empty() => Ok(Boundary::Circle {
            center: Point::new(lon, lat),
            radius_m,
        }),
        _ => Err(errors),
    }
}

fn circle_coord(
    center: &Map<String, Value>,
    key: &str,
    limit: f64,
    errors: &mut Vec<Invalid>,
) -> Option<f64> {
    let field = format!("center.{key}");
    let Some(value) = center.get(key) else {
        errors.push(Invalid::new(field, "is required"));
        return None;
    };
    let parsed = in_range(value, limit);
    if parsed.is_none() {
        errors.push(Invalid::new(
            field,
            format!("must be a number from -{limit} to {limit}"),
        ));
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Destination, Rect, Translate};
    use proptest::prelude::*;

    /// The field paths that `body` is rejected on.
    fn fields(body: Value) -> Vec<String> {
        match parse_boundary(&body) {
            Ok(b) => panic!("accepted {body}: {b:?}"),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn polygon(rings: Value) -> Value {
        json!({ "type": "Polygon", "coordinates": rings })
    }

    /// A closed, counter-clockwise square ring around (lon, lat).
    fn square(lon: f64, lat: f64, half: f64) -> Value {
        json!([
            [lon - half, lat - half],
            [lon + half, lat - half],
            [lon + half, lat + half],
            [lon - half, lat + half],
            [lon - half, lat - half],
        ])
    }

    /// A village of Jinhua, Zhejiang, as a surveyor would draw it.
    fn village() -> Value {
        polygon(json!([[
            [119.6420, 29.0735],
            [119.6510, 29.0712],
            [119.6588, 29.0741],
            [119.6634, 29.0798],
            [119.6619, 29.0862],
            [119.6567, 29.0905],
            [119.6489, 29.0921],
            [119.6413, 29.0889],
            [119.6372, 29.0831],
            [119.6381, 29.0770],
            [119.6420, 29.0735],
        ]]))
    }

    fn parsed(body: Value) -> Boundary {
        match parse_boundary(&body) {
            Ok(b) => b,
            Err(e) => panic!("rejected {body}: {e:?}"),
        }
    }

    // --- the shape of the body ---

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(fields(json!([1, 2])), ["type"]);
    }

    #[test]
    fn object_without_type_or_center_says_what_is_accepted() {
        let errors = parse_boundary(&json!({ "radius_m": 100 })).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "type");
        assert!(
            errors[0].message.contains("center"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn other_geojson_types_are_rejected_on_type() {
        for kind in ["Point", "LineString", "Feature", "GeometryCollection"] {
            let errors =
                parse_boundary(&json!({ "type": kind, "coordinates": [0, 0] })).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "type");
            assert!(
                errors[0].message.contains("MultiPolygon"),
                "{}",
                errors[0].message
            );
        }
    }

    #[test]
    fn type_must_be_a_string() {
        assert_eq!(fields(json!({ "type": 7, "coordinates": [] })), ["type"]);
    }

    #[test]
    fn coordinates_are_required() {
        assert_eq!(fields(json!({ "type": "Polygon" })), ["coordinates"]);
    }

    // --- positions ---

    #[test]
    fn position_needs_two_numbers() {
        let rings = json!([[[119.0, 29.0], [119.1], [119.1, 29.1], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][1]"]);
    }

    #[test]
    fn position_must_not_have_four_numbers() {
        let rings = json!([[
            [119.0, 29.0],
            [119.1, 29.0, 1.0, 2.0],
            [119.1, 29.1],
            [119.0, 29.0]
        ]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][1]"]);
    }

    #[test]
    fn position_must_be_an_array() {
        let rings = json!([[[119.0, 29.0], {"lon": 119.1}, [119.1, 29.1], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][1]"]);
    }

    #[test]
    fn position_members_must_be_numbers() {
        let rings = json!([[[119.0, 29.0], ["119.1", 29.0], [119.1, 29.1], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][1]"]);
    }

    #[test]
    fn altitude_is_accepted_and_dropped() {
        let rings = json!([[
            [119.0, 29.0, 30.0],
            [119.1, 29.0, 31.5],
            [119.1, 29.1],
            [119.0, 29.0]
        ]]);
        let boundary = parsed(polygon(rings));
        let expected = json!([[[119.0, 29.0], [119.1, 29.0], [119.1, 29.1], [119.0, 29.0]]]);
        assert_eq!(boundary.to_json(), polygon(expected));
    }

    #[test]
    fn altitude_must_be_a_number() {
        let rings = json!([[
            [119.0, 29.0, "high"],
            [119.1, 29.0],
            [119.1, 29.1],
            [119.0, 29.0]
        ]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][0]"]);
    }

    #[test]
    fn longitude_must_be_within_180() {
        let rings = json!([[[119.0, 29.0], [119.1, 29.0], [180.5, 29.1], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][2]"]);
    }

    #[test]
    fn latitude_must_be_within_90() {
        let rings = json!([[[119.0, 29.0], [119.1, -90.01], [119.1, 29.1], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0][1]"]);
    }

    #[test]
    fn extreme_but_valid_coordinates_are_accepted() {
        let rings = json!([[[-180, -90], [180, -90], [180, 90], [-180, -90]]]);
        assert!(parse_boundary(&polygon(rings)).is_ok());
    }

    // --- rings and polygons ---

    #[test]
    fn ring_needs_four_positions() {
        let rings = json!([[[119.0, 29.0], [119.1, 29.0], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0]"]);
    }

    #[test]
    fn ring_must_be_closed() {
        let rings = json!([[[119.0, 29.0], [119.1, 29.0], [119.1, 29.1], [119.0, 29.1]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0]"]);
    }

    #[test]
    fn ring_must_be_an_array() {
        assert_eq!(fields(polygon(json!(["ring"]))), ["coordinates[0]"]);
    }

    #[test]
    fn polygon_needs_an_exterior_ring() {
        assert_eq!(fields(polygon(json!([]))), ["coordinates"]);
    }

    #[test]
    fn polygon_coordinates_must_be_an_array() {
        assert_eq!(fields(polygon(json!({ "a": 1 }))), ["coordinates"]);
    }

    #[test]
    fn multipolygon_needs_a_polygon() {
        assert_eq!(
            fields(json!({ "type": "MultiPolygon", "coordinates": [] })),
            ["coordinates"]
        );
    }

    #[test]
    fn multipolygon_coordinates_must_be_an_array() {
        assert_eq!(
            fields(json!({ "type": "MultiPolygon", "coordinates": "none" })),
            ["coordinates"]
        );
    }

    #[test]
    fn multipolygon_member_needs_an_exterior_ring() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [[square(119.65, 29.08, 0.01)], []],
        });
        assert_eq!(fields(body), ["coordinates[1]"]);
    }

    #[test]
    fn multipolygon_position_is_named_by_polygon_ring_and_index() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [
                [square(119.65, 29.08, 0.01)],
                [[[119.7, 29.0], [119.8, 29.0], [119.8, 95.0], [119.7, 29.0]]],
            ],
        });
        assert_eq!(fields(body), ["coordinates[1][0][2]"]);
    }

    #[test]
    fn every_problem_is_reported() {
        let rings = json!([
            [[119.0, 29.0], [200.0, 29.0], [119.1, 29.1], [119.0, 29.0]],
            [[119.0, 29.0], [119.1, 29.0]],
            [[119.0, 29.0], [119.1, 29.0], [119.1, 99.0], [119.0, 29.5]],
        ]);
        assert_eq!(
            fields(polygon(rings)),
            ["coordinates[0][1]", "coordinates[1]", "coordinates[2][2]"]
        );
    }

    #[test]
    fn every_problem_in_a_multipolygon_is_reported() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [
                [[[119.0, 29.0], [119.1, 29.0], [119.0, 29.0]]],
                [square(119.65, 29.08, 0.01), "hole"],
            ],
        });
        assert_eq!(fields(body), ["coordinates[0][0]", "coordinates[1][1]"]);
    }

    #[test]
    fn too_many_vertices_are_rejected() {
        // A valid ring one position over the limit: a circle of MAX_VERTICES distinct points.
        let n = MAX_VERTICES;
        let mut ring: Vec<Value> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                json!([119.65 + 0.01 * a.cos(), 29.08 + 0.01 * a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let errors = parse_boundary(&polygon(json!([ring]))).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "coordinates");
        assert!(errors[0].message.contains("10000"), "{}", errors[0].message);
    }

    #[test]
    fn vertices_up_to_the_limit_are_accepted() {
        // 100 disjoint hundred-position rings: exactly the limit, and quick to validate.
        let polygons: Vec<Value> = (0..100)
            .map(|p| {
                let (lon, lat) = (
                    119.0 + f64::from(p % 10) * 0.1,
                    29.0 + f64::from(p / 10) * 0.1,
                );
                let mut ring: Vec<Value> = (0..99)
                    .map(|i| {
                        let a = f64::from(i) / 99.0 * std::f64::consts::TAU;
                        json!([lon + 0.01 * a.cos(), lat + 0.01 * a.sin()])
                    })
                    .collect();
                ring.push(ring[0].clone());
                json!([ring])
            })
            .collect();
        let body = json!({ "type": "MultiPolygon", "coordinates": polygons });
        assert!(parse_boundary(&body).is_ok());
    }

    // --- geometric validity (geo's Validation) ---

    #[test]
    fn self_intersecting_ring_is_rejected() {
        // A bow tie: the second and fourth edges cross.
        let rings = json!([[
            [119.0, 29.0],
            [119.1, 29.1],
            [119.1, 29.0],
            [119.0, 29.1],
            [119.0, 29.0]
        ]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0]"]);
    }

    #[test]
    fn ring_of_repeated_points_is_rejected() {
        let rings = json!([[[119.0, 29.0], [119.1, 29.1], [119.0, 29.0], [119.0, 29.0]]]);
        assert_eq!(fields(polygon(rings)), ["coordinates[0]"]);
    }

    #[test]
    fn hole_outside_the_exterior_is_rejected() {
        let rings = json!([square(119.65, 29.08, 0.01), square(119.70, 29.08, 0.001)]);
        assert_eq!(fields(polygon(rings)), ["coordinates[1]"]);
    }

    #[test]
    fn self_intersection_in_a_multipolygon_names_the_ring() {
        let bow_tie = json!([
            [119.0, 29.0],
            [119.1, 29.1],
            [119.1, 29.0],
            [119.0, 29.1],
            [119.0, 29.0]
        ]);
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [[square(119.65, 29.08, 0.01)], [bow_tie]],
        });
        assert_eq!(fields(body), ["coordinates[1][0]"]);
    }

    #[test]
    fn overlapping_multipolygon_members_are_rejected() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [[square(119.65, 29.08, 0.01)], [square(119.655, 29.08, 0.01)]],
        });
        let fields = fields(body);
        assert!(!fields.is_empty());
        assert!(fields.iter().all(|f| f == "coordinates[1]"), "{fields:?}");
    }

    // --- accepted areas ---

    #[test]
    fn realistic_village_polygon_is_accepted() {
        let boundary = parsed(village());
        let Boundary::Area(area) = &boundary else {
            panic!("not an area: {boundary:?}");
        };
        assert_eq!(area.0.len(), 1);
        assert_eq!(area.0[0].exterior().0.len(), 11);
        assert_eq!(boundary.to_json(), village());
        let (min_lon, min_lat, max_lon, max_lat) = boundary.bbox();
        assert_eq!(
            (min_lon, min_lat, max_lon, max_lat),
            (119.6372, 29.0712, 119.6634, 29.0921)
        );
    }

    #[test]
    fn polygon_with_a_hole_is_accepted() {
        let rings = json!([square(119.65, 29.08, 0.01), square(119.65, 29.08, 0.002)]);
        let boundary = parsed(polygon(rings.clone()));
        assert_eq!(boundary.to_json(), polygon(rings));
    }

    #[test]
    fn multipolygon_is_accepted_and_kept_as_such() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [[square(119.65, 29.08, 0.01)], [square(119.70, 29.08, 0.01)]],
        });
        let boundary = parsed(body.clone());
        assert!(matches!(&boundary, Boundary::Area(a) if a.0.len() == 2));
        assert_eq!(boundary.to_json(), body);
    }

    #[test]
    fn one_member_multipolygon_is_shown_as_a_polygon() {
        let body =
            json!({ "type": "MultiPolygon", "coordinates": [[square(119.65, 29.08, 0.01)]] });
        assert_eq!(
            parsed(body).to_json(),
            polygon(json!([square(119.65, 29.08, 0.01)]))
        );
    }

    #[test]
    fn geojson_foreign_members_are_ignored() {
        let mut body = village();
        body["bbox"] = json!([119.0, 29.0, 120.0, 30.0]);
        assert_eq!(parsed(body).to_json(), village());
    }

    // --- circles ---

    #[test]
    fn circle_without_radius_gets_the_default() {
        let boundary = parsed(json!({ "center": { "lat": 29.08, "lon": 119.65 } }));
        assert_eq!(
            boundary,
            Boundary::Circle {
                center: Point::new(119.65, 29.08),
                radius_m: DEFAULT_RADIUS_M
            }
        );
        assert_eq!(
            boundary.to_json(),
            json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": 1500.0 })
        );
    }

    #[test]
    fn circle_with_null_radius_gets_the_default() {
        let boundary =
            parsed(json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": null }));
        assert!(
            matches!(boundary, Boundary::Circle { radius_m, .. } if radius_m == DEFAULT_RADIUS_M)
        );
    }

    #[test]
    fn circle_with_radius() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": 800.0 });
        let boundary = parsed(body.clone());
        assert_eq!(
            boundary,
            Boundary::Circle {
                center: Point::new(119.65, 29.08),
                radius_m: 800.0
            }
        );
        assert_eq!(boundary.to_json(), body);
    }

    #[test]
    fn circle_radius_limits_are_inclusive() {
        for radius in [10, 50_000] {
            let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": radius });
            assert!(parse_boundary(&body).is_ok(), "{radius}");
        }
    }

    #[test]
    fn circle_radius_too_small() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": 9.99 });
        assert_eq!(fields(body), ["radius_m"]);
    }

    #[test]
    fn circle_radius_too_large() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": 50_000.5 });
        assert_eq!(fields(body), ["radius_m"]);
    }

    #[test]
    fn circle_radius_must_be_a_number() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius_m": "1500" });
        assert_eq!(fields(body), ["radius_m"]);
    }

    #[test]
    fn circle_latitude_out_of_range() {
        assert_eq!(
            fields(json!({ "center": { "lat": 90.5, "lon": 119.65 } })),
            ["center.lat"]
        );
    }

    #[test]
    fn circle_longitude_out_of_range() {
        assert_eq!(
            fields(json!({ "center": { "lat": 29.08, "lon": -181 } })),
            ["center.lon"]
        );
    }

    #[test]
    fn circle_latitude_must_be_a_number() {
        assert_eq!(
            fields(json!({ "center": { "lat": "29.08", "lon": 119.65 } })),
            ["center.lat"]
        );
    }

    #[test]
    fn circle_missing_latitude() {
        assert_eq!(
            fields(json!({ "center": { "lon": 119.65 } })),
            ["center.lat"]
        );
    }

    #[test]
    fn circle_missing_longitude() {
        assert_eq!(
            fields(json!({ "center": { "lat": 29.08 } })),
            ["center.lon"]
        );
    }

    #[test]
    fn circle_center_must_be_an_object() {
        assert_eq!(fields(json!({ "center": [119.65, 29.08] })), ["center"]);
    }

    #[test]
    fn circle_unknown_key_is_named() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65 }, "radius": 1000 });
        assert_eq!(fields(body), ["radius"]);
    }

    #[test]
    fn circle_center_unknown_key_is_named() {
        let body = json!({ "center": { "lat": 29.08, "lon": 119.65, "alt": 12 } });
        assert_eq!(fields(body), ["center.alt"]);
    }

    #[test]
    fn circle_reports_every_problem() {
        let body = json!({ "center": { "lat": 91 }, "radius_m": 5, "name": "x" });
        assert_eq!(
            fields(body),
            ["name", "center.lat", "center.lon", "radius_m"]
        );
    }

    // --- distances and boxes ---

    #[test]
    fn inside_and_on_the_edge_are_zero() {
        let boundary = parsed(village());
        assert_eq!(boundary.distance_outside_m(Point::new(119.65, 29.08)), 0.0);
        // A vertex, and the midpoint of the first edge.
        assert_eq!(
            boundary.distance_outside_m(Point::new(119.6420, 29.0735)),
            0.0
        );
        let (a, b) = ((119.6420, 29.0735), (119.6510, 29.0712));
        let mid = Point::new((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        assert_eq!(boundary.distance_outside_m(mid), 0.0);
    }

    #[test]
    fn one_kilometre_east_of_a_square_village() {
        let boundary = parsed(polygon(json!([square(119.65, 29.08, 0.01)])));
        // 111.32 km per degree of longitude at the equator, times cos(lat) on a sphere.
        let lat: f64 = 29.08;
        let lon = 119.66 + 1000.0 / (111_320.0 * lat.to_radians().cos());
        let d = boundary.distance_outside_m(Point::new(lon, lat));
        assert!((d - 1000.0).abs() < 20.0, "{d}");
    }

    #[test]
    fn far_from_the_realistic_village() {
        let boundary = parsed(village());
        // The easternmost vertex is at 119.6634; a degree of longitude there is ~97.4 km.
        let d = boundary.distance_outside_m(Point::new(119.70, 29.0798));
        assert!((d - 3565.0).abs() < 0.02 * 3565.0, "{d}");
    }

    #[test]
    fn inside_a_hole_is_outside() {
        let hole = json!([
            [119.6479, 29.078],
            [119.6521, 29.078],
            [119.6521, 29.082],
            [119.6479, 29.082],
            [119.6479, 29.078],
        ]);
        let boundary = parsed(polygon(json!([square(119.65, 29.08, 0.01), hole])));
        let d = boundary.distance_outside_m(Point::new(119.65, 29.08));
        // The hole's sides are 0.0021° of longitude (~204.5 m) and 0.002° of latitude (~221.8 m)
        // from its centre: nearer in metres is not nearer in degrees.
        assert!((d - 204.5).abs() < 1.0, "{d}");
    }

    #[test]
    fn nearest_member_of_a_multipolygon_counts() {
        let body = json!({
            "type": "MultiPolygon",
            "coordinates": [[square(119.65, 29.08, 0.01)], [square(119.70, 29.08, 0.01)]],
        });
        let boundary = parsed(body);
        assert_eq!(boundary.distance_outside_m(Point::new(119.70, 29.08)), 0.0);
        // Just west of the second square's west edge (119.69).
        let d = boundary.distance_outside_m(Point::new(119.685, 29.08));
        assert!((d - 487.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn circle_distance_is_from_the_rim() {
        let center = Point::new(119.65, 29.08);
        let boundary = Boundary::Circle {
            center,
            radius_m: 1000.0,
        };
        assert_eq!(boundary.distance_outside_m(center), 0.0);
        let inside = Geodesic.destination(center, 90.0, 999.0);
        assert_eq!(boundary.distance_outside_m(inside), 0.0);
        let outside = Geodesic.destination(center, 0.0, 3000.0);
        assert!((boundary.distance_outside_m(outside) - 2000.0).abs() < 0.01);
    }

    #[test]
    fn not_a_number_point_does_not_panic() {
        let nan = Point::new(f64::NAN, f64::NAN);
        let _ = parsed(village()).distance_outside_m(nan);
        let _ =
            parsed(json!({ "center": { "lat": 29.08, "lon": 119.65 } })).distance_outside_m(nan);
    }

    #[test]
    fn empty_area_is_nowhere() {
        let empty = Boundary::Area(MultiPolygon::new(vec![]));
        assert_eq!(empty.bbox(), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(
            empty.distance_outside_m(Point::new(0.0, 0.0)),
            f64::INFINITY
        );
    }

    #[test]
    fn circle_box_holds_the_circle() {
        for (lat, radius) in [(29.08, 1500.0), (0.0, 50_000.0), (-70.0, 50_000.0)] {
            let center = Point::new(119.65, lat);
            let boundary = Boundary::Circle {
                center,
                radius_m: radius,
            };
            let (min_lon, min_lat, max_lon, max_lat) = boundary.bbox();
            for bearing in (0..360).step_by(15) {
                let rim = Geodesic.destination(center, f64::from(bearing), radius);
                assert!(min_lon <= rim.x() && rim.x() <= max_lon, "{lat} {bearing}");
                assert!(min_lat <= rim.y() && rim.y() <= max_lat, "{lat} {bearing}");
            }
        }
    }

    #[test]
    fn circle_box_near_the_pole_and_antimeridian_is_widened() {
        let polar = Boundary::Circle {
            center: Point::new(10.0, 89.9),
            radius_m: 50_000.0,
        };
        assert_eq!(polar.bbox(), (-180.0, polar.bbox().1, 180.0, 90.0));
        let dateline = Boundary::Circle {
            center: Point::new(179.999, 0.0),
            radius_m: 1000.0,
        };
        let (min_lon, _, max_lon, _) = dateline.bbox();
        assert_eq!((min_lon, max_lon), (-180.0, 180.0));
    }

    // --- properties ---

    fn rectangle() -> impl Strategy<Value = Rect<f64>> {
        (-179.0..179.0, -89.0..89.0, 1e-4..1.0, 1e-4..1.0).prop_map(
            |(lon, lat, w, h): (f64, f64, f64, f64)| {
                Rect::new(
                    Coord { x: lon, y: lat },
                    Coord {
                        x: lon + w,
                        y: lat + h,
                    },
                )
            },
        )
    }

    /// JSON-ish values biased towards the shapes this module looks for.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (-200.0..200.0f64).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec!["Polygon", "MultiPolygon", "Point", "lat", ""])
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "type",
                        "coordinates",
                        "center",
                        "lat",
                        "lon",
                        "radius_m",
                        "x",
                    ])
                    .prop_map(String::from),
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Nested arrays of coordinates-like numbers.
    fn nested_numbers() -> impl Strategy<Value = Value> {
        let number = prop_oneof![
            (-1.0..1.0f64).prop_map(Value::from),
            (-200.0..200.0f64).prop_map(Value::from),
            Just(Value::from(0)),
        ];
        number.prop_recursive(4, 256, 6, |inner| {
            prop::collection::vec(inner, 0..6).prop_map(Value::Array)
        })
    }

    proptest! {
        #[test]
        fn circles_round_trip(lat in -90.0..=90.0f64, lon in -180.0..=180.0f64, radius in 10.0..=50_000.0f64) {
            let circle = Boundary::Circle { center: Point::new(lon, lat), radius_m: radius };
            prop_assert_eq!(parse_boundary(&circle.to_json()), Ok(circle));
        }

        #[test]
        fn rectangles_round_trip(rect in rectangle()) {
            let area = Boundary::Area(MultiPolygon::new(vec![rect.to_polygon()]));
            prop_assert_eq!(parse_boundary(&area.to_json()), Ok(area));
        }

        #[test]
        fn pairs_of_rectangles_round_trip(rect in rectangle(), gap in 1e-3..1.0f64) {
            // The second rectangle sits just north (or, in the northern half, just south).
            let step = rect.height() + gap;
            let other = rect.translate(0.0, if rect.min().y > 0.0 { -step } else { step });
            let area = Boundary::Area(MultiPolygon::new(vec![rect.to_polygon(), other.to_polygon()]));
            prop_assert_eq!(parse_boundary(&area.to_json()), Ok(area));
        }

        #[test]
        fn parse_never_panics(value in json_value()) {
            // Whatever is accepted must also round-trip.
            if let Ok(boundary) = parse_boundary(&value) {
                prop_assert_eq!(parse_boundary(&boundary.to_json()), Ok(boundary));
            }
        }

        #[test]
        fn parse_never_panics_on_geojson_like_input(
            multi in any::<bool>(),
            coordinates in nested_numbers(),
        ) {
            let kind = if multi { "MultiPolygon" } else { "Polygon" };
            let value = json!({ "type": kind, "coordinates": coordinates });
            if let Ok(boundary) = parse_boundary(&value) {
                prop_assert_eq!(parse_boundary(&boundary.to_json()), Ok(boundary));
            }
        }

        #[test]
        fn points_strictly_inside_a_rectangle_are_zero(
            rect in rectangle(),
            fx in 0.01..0.99f64,
            fy in 0.01..0.99f64,
        ) {
            let area = Boundary::Area(MultiPolygon::new(vec![rect.to_polygon()]));
            let point = Point::new(
                rect.min().x + fx * rect.width(),
                rect.min().y + fy * rect.height(),
            );
            prop_assert_eq!(area.distance_outside_m(point), 0.0);
        }

        #[test]
        fn points_outside_a_rectangle_are_positive(
            rect in rectangle(),
            side in 0..4u8,
            along in 0.0..=1.0f64,
            beyond in 1e-4..1.0f64,
        ) {
            let area = Boundary::Area(MultiPolygon::new(vec![rect.to_polygon()]));
            let (min, max) = (rect.min(), rect.max());
            let x = min.x + along * rect.width();
            let y = min.y + along * rect.height();
            let point = match side {
                0 => Point::new(min.x - beyond, y),
                1 => Point::new(max.x + beyond, y),
                2 => Point::new(x, min.y - beyond),
                _ => Point::new(x, max.y + beyond),
            };
            // Only positions a phone can report: past a pole or the antimeridian is not one.
            prop_assume!(point.y().abs() <= 90.0 && point.x().abs() <= 180.0);
            prop_assert!(area.distance_outside_m(point) > 0.0);
        }
    }
}
