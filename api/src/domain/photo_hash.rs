//! Photos that cannot be recycled: a 128-bit difference hash of every stored photo, the
//! Hamming distance between two, and multi-index hashing, which finds every stored hash
//! within [`MAX_DISTANCE`] of a new one through exact lookups on eight 16-bit bands
//! instead of a scan.
//!
//! The hash (dHash, both ways): the photo's central window — [`MARGIN`] in from each
//! edge — is averaged into 9×8 grey cells, one bit per pair of horizontal neighbours (set
//! when the left one is brighter), and into 8×9 cells, one bit per pair of vertical
//! neighbours. Re-saving and resizing hardly change which of two neighbours is brighter.
//! Written here rather than taken from a crate: the cell averages come from one
//! summed-area table for all 16 windows, and `image_hasher`, the maintained crate, hashes
//! one whole picture at a time and brings an FFT library for its other hashes.
//!
//! Cropping does: cutting 5 % off one side shifts every cell by up to half its width, which
//! flips a quarter of the bits — as many as tell two different photos apart. So a new
//! photo is hashed once per [`CROPS`] guess of how it may have been cut from an earlier one:
//! each guess picks the window of the new photo that shows what the earlier photo's own
//! window showed (the margin leaves room for that). The earlier photo is stored with its
//! own hash only; the new one matches when any guess comes within the threshold.

use chrono::{DateTime, Utc};

/// The grids a window is shrunk to: 9×8 for horizontal pairs, 8×9 for vertical ones.
pub const GRID_LONG: u32 = 9;
pub const GRID_SHORT: u32 = 8;
pub const GRID_CELLS: usize = (GRID_LONG * GRID_SHORT) as usize;

/// How far in from each edge the hashed window lies: more than any crop looked for.
pub const MARGIN: f64 = 0.06;

/// How a photo may have been cut from an earlier one, per axis: fractions cut from the
/// start (left or top) and the end. The first is "not at all"; the others cover crops of
/// 3–5 % to within 1–2 %, which costs a few bits. Both axes take every guess: 16 windows.
pub const CROPS: [(f64, f64); 4] = [(0.0, 0.0), (0.04, 0.0), (0.0, 0.04), (0.03, 0.03)];

/// Two photos at most this many bits apart (of 128) are the same photo. Measured on
/// generated scenes (`media::photo_hash_measure`; numbers in BENCHMARKS.md): re-saved,
/// 60 % resized, 3–5 % cropped and brightened copies came within 11 bits of their
/// originals (99 % within 10), while 1,000 different scenes were never closer than 24. 14
/// leaves room on both sides and keeps the band radius at 1.
pub const MAX_DISTANCE: u32 = 14;

pub const BANDS: usize = 8;

/// Two hashes at most [`MAX_DISTANCE`] apart differ in at most that many bits over eight
/// bands, so by at most `MAX_DISTANCE / 8` in at least one band (pigeonhole): probing each
/// band within this radius finds every such hash.
pub const BAND_RADIUS: u32 = MAX_DISTANCE / BANDS as u32;

/// Windows whose brightest and darkest cells differ by less than this (of 255) are blank —
/// a black night sky, a lens cap, a wall: their bits are sensor and JPEG noise, which would
/// match other blank photos by chance. They get no hash; identical bytes still match.
pub const MIN_SPREAD: u8 = 4;

pub type PhotoHash = u128;

/// A window of a photo in fractions of its width and height: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

/// On one axis: where the earlier photo's own window lies in a photo cut from it by
/// `(start, end)`.
fn span((start, end): (f64, f64)) -> (f64, f64) {
    let kept = 1.0 - start - end;
    ((MARGIN - start) / kept, (1.0 - MARGIN - start) / kept)
}

/// The windows to hash a new photo in, one per crop guess; the first is its own window,
/// the one stored for it.
pub fn windows() -> Vec<Window> {
    CROPS
        .iter()
        .flat_map(|&x| CROPS.iter().map(move |&y| (x, y)))
        .map(|(x, y)| {
            let ((left, right), (top, bottom)) = (span(x), span(y));
            Window {
                left,
                top,
                right,
                bottom,
            }
        })
        .collect()
}

/// A picture in grey levels as running sums (a summed-area table): the mean of any
/// rectangle costs four lookups, so 16 windows of 144 cells each stay cheap.
#[derive(Debug, Clone)]
pub struct Grey {
    width: usize,
    height: usize,
    /// `(width + 1) × (height + 1)`: the sum of all levels above and left of each corner.
    sums: Vec<u64>,
}

impl Grey {
    /// From `width × height` levels row by row; `None` for an empty picture or a wrong length.
    pub fn new(width: u32, height: u32, levels: &[u8]) -> Option<Grey> {
        let (width, height) = (width as usize, height as usize);
        if width == 0 || height == 0 || levels.len() != width * height {
            return None;
        }
        let stride = width + 1;
        let mut sums = vec![0u64; stride * (height + 1)];
        for (y, row) in levels.chunks_exact(width).enumerate() {
            let mut across = 0u64;
            for (x, level) in row.iter().enumerate() {
                across += u64::from(*level);
                sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + across;
            }
        }
        Some(Grey {
            width,
            height,
            sums,
        })
    }

    /// The mean level of pixels `x0..x1` × `y0..y1` (non-empty, inside the picture).
    fn mean(&self, (x0, y0): (usize, usize), (x1, y1): (usize, usize)) -> u8 {
        let at = |x: usize, y: usize| self.sums[y * (self.width + 1) + x];
        let total = at(x1, y1) + at(x0, y0) - at(x1, y0) - at(x0, y1);
        let count = ((x1 - x0) * (y1 - y0)) as u64;
        // A mean of levels is a level.
        u8::try_from((total + count / 2) / count).unwrap_or(u8::MAX)
    }

    /// The window averaged into `columns × rows` cells, row by row.
    fn grid(&self, w: &Window, columns: usize, rows: usize) -> [u8; GRID_CELLS] {
        // Cell edges in whole pixels; every cell at least one pixel wide and tall.
        let edges = |from: f64, to: f64, cells: usize, size: usize| -> Vec<(usize, usize)> {
            let edge = |i: usize| {
                let at = (from + (to - from) * i as f64 / cells as f64) * size as f64;
                (at.round().max(0.0) as usize).min(size)
            };
            (0..cells)
                .map(|i| {
                    let start = edge(i).min(size - 1);
                    (start, edge(i + 1).max(start + 1))
                })
                .collect()
        };
        let xs = edges(w.left, w.right, columns, self.width);
        let ys = edges(w.top, w.bottom, rows, self.height);
        let mut out = [0u8; GRID_CELLS];
        for (cell, (y, x)) in out
            .iter_mut()
            .zip(ys.iter().flat_map(|y| xs.iter().map(move |x| (y, x))))
        {
            *cell = self.mean((x.0, y.0), (x.1, y.1));
        }
        out
    }
}

/// A picture's hashes, one per window of [`windows`], its own first; none for a blank
/// picture (without its own hash, no guess about it means anything).
pub fn photo_hashes(grey: &Grey) -> Vec<PhotoHash> {
    let (long, short) = (GRID_LONG as usize, GRID_SHORT as usize);
    let mut hashes = Vec::new();
    for (i, w) in windows().iter().enumerate() {
        match dhash(&grey.grid(w, long, short), &grey.grid(w, short, long)) {
            Some(hash) => hashes.push(hash),
            None if i == 0 => return Vec::new(),
            None => {}
        }
    }
    hashes
}

/// The hash of one window from its 9×8 grid (rows of 9 cells) and its 8×9 grid (rows of 8
/// cells), or `None` for a blank window. Horizontal bits are the high 64.
pub fn dhash(wide: &[u8; GRID_CELLS], tall: &[u8; GRID_CELLS]) -> Option<PhotoHash> {
    let (min, max) = wide
        .iter()
        .fold((u8::MAX, u8::MIN), |(lo, hi), &g| (lo.min(g), hi.max(g)));
    if max.saturating_sub(min) < MIN_SPREAD {
        return None;
    }
    let (long, short) = (GRID_LONG as usize, GRID_SHORT as usize);
    let horizontal = wide
        .chunks_exact(long)
        .flat_map(|row| row.windows(2).map(|pair| pair[0] > pair[1]));
    let vertical = tall
        .chunks_exact(short)
        .zip(tall.chunks_exact(short).skip(1))
        .flat_map(|(upper, lower)| upper.iter().zip(lower).map(|(a, b)| a > b));
    Some(
        horizontal
            .chain(vertical)
            .fold(0, |hash, bit| (hash << 1) | PhotoHash::from(bit)),
    )
}

/// How many bits two hashes differ in.
pub fn distance(a: PhotoHash, b: PhotoHash) -> u32 {
    (a ^ b).count_ones()
}

/// The eight 16-bit bands of a hash. Band `k` takes every eighth bit from bit `k` on, so
/// each band samples the whole picture: a band made of one region (a dark sky on top) would
/// take the same few values in many photos and crowd its index.
pub fn bands(hash: PhotoHash) -> [u16; BANDS] {
    std::array::from_fn(|k| {
        (0..16).fold(0u16, |band, i| {
            band | ((((hash >> (BANDS * i + k)) & 1) as u16) << i)
        })
    })
}

/// Every 16-bit value within `radius` bits of `band`, the band itself first: 1, 17, 137
/// values for radius 0–2.
pub fn probes(band: u16, radius: u32) -> Vec<u16> {
    let mut out = vec![band];
    // The values at the current distance, each with the lowest bit it may still flip.
    let mut layer = vec![(band, 0u32)];
    for _ in 0..radius.min(16) {
        let mut next = Vec::new();
        for (value, from) in layer {
            for bit in from..16 {
                let flipped = value ^ (1 << bit);
                out.push(flipped);
                next.push((flipped, bit + 1));
            }
        }
        layer = next;
    }
    out
}

/// For each band, the sorted values to look up so that every stored hash within
/// [`MAX_DISTANCE`] of one of `hashes` turns up in at least one band.
pub fn band_probes(hashes: &[PhotoHash]) -> [Vec<u16>; BANDS] {
    let mut lists: [Vec<u16>; BANDS] = Default::default();
    for hash in hashes {
        for (list, band) in lists.iter_mut().zip(bands(*hash)) {
            list.extend(probes(band, BAND_RADIUS));
        }
    }
    for list in &mut lists {
        list.sort_unstable();
        list.dedup();
    }
    lists
}

/// Databases keep a hash in two signed 64-bit columns: the same bits, high half first.
pub fn to_stored(hash: PhotoHash) -> (i64, i64) {
    let bytes = hash.to_be_bytes();
    let half = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        i64::from_be_bytes(b)
    };
    (half(0), half(8))
}

pub fn from_stored(high: i64, low: i64) -> PhotoHash {
    (PhotoHash::from(u64::from_be_bytes(high.to_be_bytes())) << 64)
        | PhotoHash::from(u64::from_be_bytes(low.to_be_bytes()))
}

/// A photo's hashes as kept with it: one 32-digit hex word per window of [`windows`],
/// comma-separated; empty for a blank photo.
pub fn to_text(hashes: &[PhotoHash]) -> String {
    hashes
        .iter()
        .map(|h| format!("{h:032x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The hashes [`to_text`] wrote; anything unreadable reads as no hashes (never a match).
pub fn from_text(text: &str) -> Vec<PhotoHash> {
    let parsed: Option<Vec<PhotoHash>> = text
        .split(',')
        .filter(|w| !w.is_empty())
        .map(|w| {
            (w.len() == 32)
                .then(|| PhotoHash::from_str_radix(w, 16).ok())
                .flatten()
        })
        .collect();
    parsed.unwrap_or_default()
}

/// A photo some check-in already holds, with its own hash if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierUse {
    pub checkin_id: String,
    pub recorded_at: DateTime<Utc>,
    pub sha256: String,
    pub hash: Option<PhotoHash>,
}

/// A photo found in an earlier check-in, and how many bits apart the two are (0 for
/// identical bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Reuse {
    pub checkin_id: String,
    pub recorded_at: DateTime<Utc>,
    pub distance: u32,
}

/// The earlier use most like a new photo (its `sha256`, and its `hashes`, one per window
/// of [`windows`]): identical bytes, or an own hash at most [`MAX_DISTANCE`] from one of
/// them; the closest, then the earliest recorded, then the lowest id.
pub fn closest_use<'a>(
    sha256: &str,
    hashes: &[PhotoHash],
    uses: impl IntoIterator<Item = &'a EarlierUse>,
) -> Option<Reuse> {
    uses.into_iter()
        .filter_map(|u| {
            let apart = if u.sha256 == sha256 {
                Some(0)
            } else {
                let stored = u.hash?;
                hashes
                    .iter()
                    .map(|h| distance(*h, stored))
                    .min()
                    .filter(|d| *d <= MAX_DISTANCE)
            };
            apart.map(|d| (d, u))
        })
        .min_by(|(da, a), (db, b)| {
            (da, a.recorded_at, &a.checkin_id).cmp(&(db, b.recorded_at, &b.checkin_id))
        })
        .map(|(distance, u)| Reuse {
            checkin_id: u.checkin_id.clone(),
            recorded_at: u.recorded_at,
            distance,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const FLAT: [u8; GRID_CELLS] = [100; GRID_CELLS];

    #[test]
    fn dhash_sets_a_bit_where_the_first_cell_is_brighter() {
        // Wide grid: every row falls left to right; tall grid: flat. The high 64 bits are set.
        let falling: [u8; GRID_CELLS] = std::array::from_fn(|i| 200 - 20 * (i % 9) as u8);
        assert_eq!(
            dhash(&falling, &FLAT),
            Some(PhotoHash::from(u64::MAX) << 64)
        );
        let rising: [u8; GRID_CELLS] = std::array::from_fn(|i| 20 * (i % 9) as u8);
        assert_eq!(dhash(&rising, &FLAT), Some(0));
        // Only the top row's first pair falls: the top bit.
        let mut wide = rising;
        wide[0] = 250;
        assert_eq!(dhash(&wide, &FLAT), Some(1 << 127));
        // Tall grid falling top to bottom: the low 64 bits.
        let down: [u8; GRID_CELLS] = std::array::from_fn(|i| 200 - 20 * (i / 8) as u8);
        assert_eq!(dhash(&rising, &down), Some(PhotoHash::from(u64::MAX)));
        // Only the bottom two rows of the tall grid's last column fall: the lowest bit.
        let mut tall = FLAT;
        tall[71] = 50;
        assert_eq!(dhash(&rising, &tall), Some(1));
    }

    #[test]
    fn blank_windows_have_no_hash() {
        let mut grid = [30u8; GRID_CELLS];
        grid[5] = 30 + MIN_SPREAD - 1;
        assert_eq!(dhash(&grid, &grid), None);
        grid[5] = 30 + MIN_SPREAD;
        assert!(dhash(&grid, &grid).is_some());
    }

    #[test]
    fn the_first_window_is_the_photos_own_and_all_lie_inside_it() {
        let all = windows();
        assert_eq!(all.len(), CROPS.len() * CROPS.len());
        let own = all[0];
        assert!((own.left - MARGIN).abs() < 1e-12 && (own.bottom - (1.0 - MARGIN)).abs() < 1e-12);
        for w in &all {
            assert!(0.0 <= w.left && w.left < w.right && w.right <= 1.0, "{w:?}");
            assert!(0.0 <= w.top && w.top < w.bottom && w.bottom <= 1.0, "{w:?}");
        }
        // A photo cut 4 % from the left: the earlier window starts 2 % in and spans more.
        let cut = all[CROPS.len()];
        assert!((cut.left - 0.02 / 0.96).abs() < 1e-12, "{cut:?}");
        assert!((cut.right - 0.90 / 0.96).abs() < 1e-12, "{cut:?}");
    }

    #[test]
    fn grids_average_the_window_into_cells() {
        // 18 × 16 pixels: each 2×2 block of the 9×8 grid has one level, i + 10 for cell i.
        let levels: Vec<u8> = (0..16)
            .flat_map(|y| (0..18).map(move |x| (y / 2 * 9 + x / 2) as u8 + 10))
            .collect();
        let grey = Grey::new(18, 16, &levels).unwrap();
        let whole = Window {
            left: 0.0,
            top: 0.0,
            right: 1.0,
            bottom: 1.0,
        };
        let grid = grey.grid(&whole, 9, 8);
        assert!(
            grid.iter().enumerate().all(|(i, g)| *g == i as u8 + 10),
            "{grid:?}"
        );
        // A window of one pixel still averages something.
        let dot = Window {
            left: 0.5,
            top: 0.5,
            right: 0.5,
            bottom: 0.5,
        };
        assert!(grey.grid(&dot, 9, 8).iter().all(|g| *g == grid[4 * 9 + 4]));
        assert!(Grey::new(0, 5, &[]).is_none());
        assert!(Grey::new(2, 2, &[1, 2, 3]).is_none());
    }

    #[test]
    fn a_flat_picture_has_no_hashes_and_a_structured_one_has_all() {
        let flat = Grey::new(40, 30, &[90; 1200]).unwrap();
        assert!(photo_hashes(&flat).is_empty());
        let levels: Vec<u8> = (0..30)
            .flat_map(|y| (0..40).map(move |x| ((x * 7 + y * 13) % 200) as u8))
            .collect();
        let hashes = photo_hashes(&Grey::new(40, 30, &levels).unwrap());
        assert_eq!(hashes.len(), windows().len());
    }

    #[test]
    fn probes_list_each_value_within_the_radius_once() {
        assert_eq!(probes(0xabcd, 0), vec![0xabcd]);
        for (radius, count) in [(1, 17), (2, 137), (3, 697)] {
            let list = probes(0xabcd, radius);
            assert_eq!(list.len(), count, "radius {radius}");
            let unique: std::collections::HashSet<u16> = list.iter().copied().collect();
            assert_eq!(unique.len(), count);
            assert!(list.iter().all(|p| (p ^ 0xabcd).count_ones() <= radius));
        }
    }

    #[test]
    fn text_keeps_the_hashes_and_nonsense_reads_as_none() {
        let hashes = [
            0,
            1,
            PhotoHash::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ];
        assert_eq!(from_text(&to_text(&hashes)), hashes);
        assert_eq!(from_text(""), Vec::<PhotoHash>::new());
        assert_eq!(from_text("12,zz"), Vec::<PhotoHash>::new());
        assert_eq!(from_text(&"g".repeat(32)), Vec::<PhotoHash>::new());
    }

    #[test]
    fn closest_use_prefers_identical_bytes_then_fewest_bits_then_earliest() {
        let mk = |id: &str, when: &str, sha: &str, hash: Option<PhotoHash>| EarlierUse {
            checkin_id: id.into(),
            recorded_at: at(when),
            sha256: sha.into(),
            hash,
        };
        let h: PhotoHash = 0x0f0f_0f0f_0f0f_0f0f_3c3c_3c3c_3c3c_3c3c;
        let far = (1 << (MAX_DISTANCE + 1)) - 1; // one bit too many
        let uses = [
            mk("far", "2026-12-01T12:00:00Z", "x", Some(h ^ far)),
            mk("near-late", "2026-12-02T12:00:00Z", "y", Some(h ^ 0b111)),
            mk(
                "near-early",
                "2026-12-01T12:00:00Z",
                "z",
                Some(h ^ 0b111_0000),
            ),
            mk("closer", "2026-12-03T12:00:00Z", "w", Some(h ^ (1 << 100))),
            mk("unhashed", "2026-12-03T12:00:00Z", "v", None),
        ];
        assert_eq!(closest_use("q", &[h], &uses[..1]), None);
        let found = closest_use("q", &[h], &uses[..3]).unwrap();
        assert_eq!(
            (found.checkin_id.as_str(), found.distance),
            ("near-early", 3)
        );
        let found = closest_use("q", &[h], &uses).unwrap();
        assert_eq!((found.checkin_id.as_str(), found.distance), ("closer", 1));
        // Any window of the new photo may match; the closest counts.
        let found = closest_use("q", &[!h, h ^ far ^ 1], &uses[..1]).unwrap();
        assert_eq!((found.checkin_id.as_str(), found.distance), ("far", 1));
        // Identical bytes count whether or not either side has a hash.
        let found = closest_use("v", &[], &uses).unwrap();
        assert_eq!((found.checkin_id.as_str(), found.distance), ("unhashed", 0));
        assert_eq!(closest_use("q", &[], &uses), None);
    }

    proptest! {
        #[test]
        fn stored_hashes_keep_their_bits(hash in any::<u128>()) {
            let (high, low) = to_stored(hash);
            prop_assert_eq!(from_stored(high, low), hash);
        }

        #[test]
        fn bands_hold_every_bit_once(hash in any::<u128>(), other in any::<u128>()) {
            let ones: u32 = bands(hash).iter().map(|b| b.count_ones()).sum();
            prop_assert_eq!(ones, hash.count_ones());
            // Band distances add up to the hash distance.
            let split: u32 = bands(hash)
                .iter()
                .zip(bands(other))
                .map(|(x, y)| (x ^ y).count_ones())
                .sum();
            prop_assert_eq!(split, distance(hash, other));
        }

        #[test]
        fn every_hash_within_the_threshold_is_probed(
            hash in any::<u128>(),
            flips in proptest::collection::vec(0u32..128, 0..=MAX_DISTANCE as usize),
            windows in proptest::collection::vec(any::<u128>(), 0..4),
        ) {
            let stored = flips.iter().fold(hash, |h, bit| h ^ (1 << bit));
            prop_assert!(distance(hash, stored) <= MAX_DISTANCE);
            // The matching window may be any of the new photo's.
            let mut new = windows;
            new.push(hash);
            let lists = band_probes(&new);
            prop_assert!(lists
                .iter()
                .zip(bands(stored))
                .any(|(list, band)| list.binary_search(&band).is_ok()));
        }

        #[test]
        fn distance_is_a_metric(a in any::<u128>(), b in any::<u128>(), c in any::<u128>()) {
            prop_assert_eq!(distance(a, a), 0);
            prop_assert_eq!(distance(a, b), distance(b, a));
            prop_assert!(distance(a, c) <= distance(a, b) + distance(b, c));
        }
    }
}
