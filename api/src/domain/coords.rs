//! Datum conversions for positions reported by phones in China.
//!
//! Chinese map SDKs (Amap/Gaode, Tencent, WeChat) report GCJ-02, an obfuscated datum
//! that is offset from WGS-84 by a few hundred metres; Baidu adds its own BD-09 offset
//! on top of GCJ-02. Geofences and distances are computed in WGS-84, so every reported
//! position goes through [`to_wgs84`] first.
//!
//! The GCJ-02 forward transform is the widely published reconstruction (the one used by
//! eviltransform and most open-source libraries); it has no closed-form inverse, so
//! [`gcj02_to_wgs84`] inverts it numerically.

use std::f64::consts::PI;

/// The datum (coordinate reference system) a position was reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    Gcj02,
    Bd09,
}

/// A position as (lat, lon) in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid, which GCJ-02 is built on (metres).
const A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky ellipsoid. Kept with the digits every
/// published implementation uses, so it is easy to compare; f64 rounds it the same way.
#[allow(clippy::excessive_precision)]
const EE: f64 = 0.006_693_421_622_965_943_23;
/// Baidu's scaling constant for the BD-09 perturbation terms.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// The GCJ-02 inverse stops once the forward image is this close to the input (degrees).
const INVERSE_TOLERANCE_DEG: f64 = 1e-9;
/// Upper bound on inverse iterations; convergence normally takes a handful, the cap only
/// guards against oscillation right at the edge of the "China" box.
const MAX_ITERATIONS: usize = 30;

/// Converts a position reported in `crs` to WGS-84.
pub fn to_wgs84(pos: LatLon, crs: Crs) -> LatLon {
    match crs {
        Crs::Wgs84 => pos,
        Crs::Gcj02 => gcj02_to_wgs84(pos),
        // BD-09 is defined on top of GCJ-02, so it unwinds through it.
        Crs::Bd09 => gcj02_to_wgs84(bd09_to_gcj02(pos)),
    }
}

/// WGS-84 → GCJ-02 (the published forward transform; identity outside mainland China's rough box).
pub fn wgs84_to_gcj02(pos: LatLon) -> LatLon {
    if out_of_china(pos) {
        // GCJ-02 is only applied inside China; elsewhere the SDKs report plain WGS-84.
        return pos;
    }
    let (d_lat, d_lon) = gcj_offset(pos);
    LatLon {
        lat: pos.lat + d_lat,
        lon: pos.lon + d_lon,
    }
}

/// GCJ-02 → WGS-84, by iterating the forward transform until the error is below 1e-9 degrees
/// (at most ~30 iterations), so the round trip is accurate to well under 0.1 m.
pub fn gcj02_to_wgs84(pos: LatLon) -> LatLon {
    if out_of_china(pos) || !pos.lat.is_finite() || !pos.lon.is_finite() {
        return pos;
    }
    // Fixed-point iteration w ← w + (g − f(w)). The offset changes by only ~1e-3 of a
    // degree per degree, so this contracts fast (about 3 orders of magnitude a step).
    let mut wgs = pos;
    for _ in 0..MAX_ITERATIONS {
        let image = wgs84_to_gcj02(wgs);
        let err_lat = pos.lat - image.lat;
        let err_lon = pos.lon - image.lon;
        if err_lat.abs() < INVERSE_TOLERANCE_DEG && err_lon.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
        wgs.lat += err_lat;
        wgs.lon += err_lon;
    }
    wgs
}

/// BD-09 → GCJ-02 and back (Baidu's published formulas with x_pi = π·3000/180).
///
/// The published reverse formula is only an approximate inverse of the forward one
/// (round trip off by up to ~2e-6°, about 0.2 m), so its result is polished by a few
/// fixed-point steps against [`gcj02_to_bd09`] until the round trip is below 1e-9°.
/// The correction is at most ~0.2 m; it makes BD-09 → GCJ-02 → BD-09 consistent.
pub fn bd09_to_gcj02(pos: LatLon) -> LatLon {
    let mut gcj = bd09_to_gcj02_published(pos);
    if !gcj.lat.is_finite() || !gcj.lon.is_finite() {
        return gcj;
    }
    for _ in 0..MAX_ITERATIONS {
        let image = gcj02_to_bd09(gcj);
        let err_lat = pos.lat - image.lat;
        let err_lon = pos.lon - image.lon;
        if err_lat.abs() < INVERSE_TOLERANCE_DEG && err_lon.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
        gcj.lat += err_lat;
        gcj.lon += err_lon;
    }
    gcj
}

/// Baidu's published BD-09 → GCJ-02 formula, used as the starting guess.
fn bd09_to_gcj02_published(pos: LatLon) -> LatLon {
    let x = pos.lon - 0.0065;
    let y = pos.lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    LatLon {
        lat: z * theta.sin(),
        lon: z * theta.cos(),
    }
}

/// GCJ-02 → BD-09 (Baidu's published formulas with x_pi = π·3000/180).
pub fn gcj02_to_bd09(pos: LatLon) -> LatLon {
    let x = pos.lon;
    let y = pos.lat;
    let z = (x * x + y * y).sqrt() + 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000_003 * (x * X_PI).cos();
    LatLon {
        lat: z * theta.sin() + 0.006,
        lon: z * theta.cos() + 0.0065,
    }
}

/// The published rough bounding box of mainland China; GCJ-02 applies no offset outside it.
/// Written with `contains` so that NaN counts as "outside" and passes through untouched.
fn out_of_china(pos: LatLon) -> bool {
    !(72.004..=137.8347).contains(&pos.lon) || !(0.8293..=55.8271).contains(&pos.lat)
}

/// The GCJ-02 offset (Δlat, Δlon) in degrees at a WGS-84 position inside the box.
fn gcj_offset(pos: LatLon) -> (f64, f64) {
    let x = pos.lon - 105.0;
    let y = pos.lat - 35.0;
    // The polynomial-plus-sines gives the offset in metres north and east...
    let d_lat_m = transform_lat(x, y);
    let d_lon_m = transform_lon(x, y);
    // ...which is turned into degrees on the Krasovsky ellipsoid (meridian and
    // parallel radii of curvature at this latitude).
    let rad_lat = pos.lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat_m * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon_m * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (d_lat, d_lon)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Great-circle distance in metres on a sphere of the mean Earth radius; plenty
    /// accurate for checking offsets of metres to kilometres.
    fn haversine_m(a: LatLon, b: LatLon) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
        let d_lat = p2 - p1;
        let d_lon = (b.lon - a.lon).to_radians();
        let h = (d_lat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (d_lon / 2.0).sin().powi(2);
        2.0 * R * h.sqrt().min(1.0).asin()
    }

    fn ll(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    const BEIJING: LatLon = LatLon {
        lat: 39.9087,
        lon: 116.3975,
    };

    /// (WGS-84, GCJ-02) pairs from the eviltransform project's test suite, which many
    /// independent ports (Go, C#, Ruby, Haskell, MATLAB) reproduce digit for digit.
    const PUBLISHED: [(LatLon, LatLon); 3] = [
        // Shanghai
        (
            LatLon {
                lat: 31.177_427_6,
                lon: 121.527_210_6,
            },
            LatLon {
                lat: 31.175_303_983_645_97,
                lon: 121.531_541_859_215,
            },
        ),
        // Shenzhen
        (
            LatLon {
                lat: 22.543_847,
                lon: 113.912_316,
            },
            LatLon {
                lat: 22.540_796_131_694_766,
                lon: 113.917_176_480_836_3,
            },
        ),
        // Beijing
        (
            LatLon {
                lat: 39.911_954,
                lon: 116.377_817,
            },
            LatLon {
                lat: 39.913_345_455_360_69,
                lon: 116.384_047_224_556_57,
            },
        ),
    ];

    #[test]
    fn beijing_gcj_offset_is_hundreds_of_metres_and_round_trips() {
        let gcj = wgs84_to_gcj02(BEIJING);
        let offset = haversine_m(BEIJING, gcj);
        assert!((100.0..700.0).contains(&offset), "offset {offset} m");
        let back = gcj02_to_wgs84(gcj);
        let err = haversine_m(BEIJING, back);
        assert!(err < 0.05, "round trip off by {err} m");
        assert_eq!(to_wgs84(gcj, Crs::Gcj02), back);
    }

    #[test]
    fn matches_published_pairs_both_ways() {
        for (wgs, gcj) in PUBLISHED {
            let fwd = wgs84_to_gcj02(wgs);
            assert!((fwd.lat - gcj.lat).abs() < 1e-9, "{wgs:?} -> {fwd:?}");
            assert!((fwd.lon - gcj.lon).abs() < 1e-9, "{wgs:?} -> {fwd:?}");
            let back = gcj02_to_wgs84(gcj);
            let err = haversine_m(wgs, back);
            assert!(err < 0.01, "{gcj:?} -> {back:?}, {err} m off");
        }
    }

    #[test]
    fn outside_china_is_unchanged() {
        let london = ll(51.5, -0.12);
        assert_eq!(wgs84_to_gcj02(london), london);
        assert_eq!(gcj02_to_wgs84(london), london);
        assert_eq!(to_wgs84(london, Crs::Gcj02), london);
        // Just outside the box edges too (the test is on the box, not on borders).
        for p in [
            ll(30.0, 72.0),
            ll(30.0, 137.84),
            ll(0.8, 110.0),
            ll(55.83, 110.0),
        ] {
            assert_eq!(wgs84_to_gcj02(p), p);
        }
    }

    #[test]
    fn bd09_round_trip_near_beijing() {
        let gcj = wgs84_to_gcj02(BEIJING);
        let bd = gcj02_to_bd09(gcj);
        let back = bd09_to_gcj02(bd);
        assert!((back.lat - gcj.lat).abs() < 1e-6, "{back:?} vs {gcj:?}");
        assert!((back.lon - gcj.lon).abs() < 1e-6, "{back:?} vs {gcj:?}");
    }

    #[test]
    fn bd09_to_wgs84_moves_a_beijing_point_by_the_combined_offset() {
        // BD-09 adds roughly 0.006° on top of GCJ-02, so the total shift in Beijing is
        // on the order of a kilometre (about 1.4 km at this point).
        let wgs = to_wgs84(BEIJING, Crs::Bd09);
        let d = haversine_m(BEIJING, wgs);
        assert!((300.0..2000.0).contains(&d), "moved {d} m");
        assert_eq!(wgs, gcj02_to_wgs84(bd09_to_gcj02(BEIJING)));
    }

    #[test]
    fn refined_bd_inverse_stays_close_to_the_published_formula() {
        // The polishing step should only remove the published formula's small error.
        let bd = gcj02_to_bd09(wgs84_to_gcj02(BEIJING));
        let d = haversine_m(bd09_to_gcj02(bd), bd09_to_gcj02_published(bd));
        assert!(d < 0.5, "refinement moved {d} m");
    }

    #[test]
    fn extreme_and_odd_inputs_do_not_panic_or_turn_into_nan() {
        let edges = [
            ll(90.0, 180.0),
            ll(-90.0, -180.0),
            ll(0.0, 0.0),
            ll(0.006, 0.0065),
            ll(0.8293, 72.004),
            ll(55.8271, 137.8347),
            ll(35.0, 105.0),
        ];
        for p in edges {
            for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
                let w = to_wgs84(p, crs);
                assert!(
                    w.lat.is_finite() && w.lon.is_finite(),
                    "{p:?} {crs:?} -> {w:?}"
                );
            }
        }
        // NaN in, NaN out (callers validate input); the point is that nothing panics.
        let nan = ll(f64::NAN, f64::NAN);
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            let _ = to_wgs84(nan, crs);
        }
    }

    fn china() -> impl Strategy<Value = LatLon> {
        (18.0..53.0f64, 74.0..134.0f64).prop_map(|(lat, lon)| ll(lat, lon))
    }

    fn anywhere() -> impl Strategy<Value = LatLon> {
        (-90.0..90.0f64, -180.0..180.0f64).prop_map(|(lat, lon)| ll(lat, lon))
    }

    proptest! {
        #[test]
        fn wgs_gcj_wgs_round_trip(p in china()) {
            let back = gcj02_to_wgs84(wgs84_to_gcj02(p));
            prop_assert!(haversine_m(p, back) < 0.01, "{:?} -> {:?}", p, back);
        }

        #[test]
        fn gcj_bd_gcj_round_trip(p in china()) {
            let back = bd09_to_gcj02(gcj02_to_bd09(p));
            prop_assert!(haversine_m(p, back) < 0.1, "{:?} -> {:?}", p, back);
        }

        #[test]
        fn wgs84_is_passed_through(p in anywhere()) {
            prop_assert_eq!(to_wgs84(p, Crs::Wgs84), p);
        }

        #[test]
        fn finite_input_gives_finite_output(p in anywhere()) {
            for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
                let w = to_wgs84(p, crs);
                prop_assert!(w.lat.is_finite() && w.lon.is_finite(), "{:?} {:?} -> {:?}", p, crs, w);
            }
            for f in [wgs84_to_gcj02, gcj02_to_wgs84, bd09_to_gcj02, gcj02_to_bd09] {
                let q = f(p);
                prop_assert!(q.lat.is_finite() && q.lon.is_finite(), "{:?} -> {:?}", p, q);
            }
        }
    }
}
