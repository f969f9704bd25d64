//! Measures the photo-hash threshold (`domain::photo_hash::MAX_DISTANCE`) on generated
//! photos, through the same `process_photo` an upload goes through: copies of a photo
//! (re-saved at JPEG quality 70, resized to 60 %, cropped by 3–5 %, brightened) must come
//! within the threshold of the original, and 1,000 different photos must never come within
//! it of each other — both measured as a check-in does: the closest of the new photo's
//! window hashes to the earlier photo's own hash. Scenes are generated from fixed seeds
//! (a gradient, light and shade at three scales, shapes, stripes, grain; a third of them
//! dark like night shots), so the numbers are the same on every machine.
//! `cargo test -p minqing-api --lib photo_hash -- --nocapture` prints them.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::process::{process_photo, ProcessedPhoto};
use crate::domain::photo_hash::{distance, PhotoHash, MAX_DISTANCE};

/// Scenes are drawn at half size and enlarged: drawing pixel by pixel is slow in a debug build.
const WIDTH: u32 = 256;
const HEIGHT: u32 = 192;

fn colour(rng: &mut StdRng) -> [f32; 3] {
    [0, 1, 2].map(|_| rng.random_range(0.0..255.0))
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}

/// A "real-looking" scene: a sky-to-ground gradient in a random direction, light and shade
/// at three scales (value noise), a few to a dozen shapes and stripes, and per-pixel grain.
fn scene(seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let (top, bottom) = (colour(&mut rng), colour(&mut rng));
    let angle: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let (w, h) = (WIDTH / 2, HEIGHT / 2);
    // Value noise on lattices of 6×5, 12×10 and 24×20 points, each half as strong as the
    // last, enlarged (bilinear) to the scene: one plane of light and shade, ±105 levels.
    // (Resizing keeps float samples in 0..1: the noise is stored as 0.5 ± 0.5.)
    let mut shade = vec![0f32; (w * h) as usize];
    for o in 0..3u32 {
        let lattice = image::Rgb32FImage::from_fn(6 << o, 5 << o, |_, _| {
            let v = rng.random_range(0.0..1.0);
            Rgb([v, v, v])
        });
        let octave = DynamicImage::ImageRgb32F(lattice)
            .resize_exact(w, h, FilterType::Triangle)
            .into_rgb32f();
        let amplitude = 60.0 / (1 << o) as f32;
        for (s, p) in shade.iter_mut().zip(octave.pixels()) {
            *s += (p.0[0] - 0.5) * 2.0 * amplitude;
        }
    }
    enum Shape {
        Rect(f32, f32, f32, f32),
        Disc(f32, f32, f32),
        Stripes(f32, f32, f32, f32, f32),
    }
    let shapes: Vec<(Shape, [f32; 3])> = (0..rng.random_range(3..14))
        .map(|_| {
            let (x, y) = (rng.random_range(0.0..1.0), rng.random_range(0.0..1.0));
            let shape = match rng.random_range(0..3) {
                0 => Shape::Rect(
                    x,
                    y,
                    x + rng.random_range(0.05..0.5),
                    y + rng.random_range(0.05..0.5),
                ),
                1 => Shape::Disc(x, y, rng.random_range(0.03..0.3)),
                _ => Shape::Stripes(
                    x,
                    y,
                    x + rng.random_range(0.1..0.6),
                    y + rng.random_range(0.1..0.6),
                    rng.random_range(0.02..0.06),
                ),
            };
            (shape, colour(&mut rng))
        })
        .collect();
    let dark = rng.random_range(0..3) == 0;
    let gain = if dark {
        rng.random_range(0.12..0.35)
    } else {
        1.0
    };
    let grain = rng.random_range(2.0..14.0);
    let half = RgbImage::from_fn(w, h, |px, py| {
        let (x, y) = (px as f32 / w as f32, py as f32 / h as f32);
        let t = ((x - 0.5) * dx + (y - 0.5) * dy + 0.75).clamp(0.0, 1.5) / 1.5;
        let mut c = mix(top, bottom, t);
        let shade = shade[(py * w + px) as usize];
        for (shape, fill) in &shapes {
            let inside = match *shape {
                Shape::Rect(x0, y0, x1, y1) => x >= x0 && x < x1 && y >= y0 && y < y1,
                Shape::Disc(cx, cy, r) => {
                    let (ex, ey) = ((x - cx) * 4.0 / 3.0, y - cy);
                    ex * ex + ey * ey < r * r
                }
                Shape::Stripes(x0, y0, x1, y1, w) => {
                    x >= x0 && x < x1 && y >= y0 && y < y1 && ((x + y) / w) as i32 % 2 == 0
                }
            };
            if inside {
                c = *fill;
            }
        }
        Rgb(c.map(|v| (v + shade).clamp(0.0, 255.0) as u8))
    });
    let mut full = DynamicImage::ImageRgb8(half)
        .resize_exact(WIDTH, HEIGHT, FilterType::Triangle)
        .into_rgb8();
    for (px, py, pixel) in full.enumerate_pixels_mut() {
        // Grain from a hash of the position: deterministic, no state.
        let h = (px.wrapping_mul(73_856_093) ^ py.wrapping_mul(19_349_663) ^ seed as u32)
            .wrapping_mul(2_654_435_761);
        let noise = ((h >> 16) as f32 / 65_535.0 - 0.5) * 2.0 * grain;
        *pixel = Rgb(pixel
            .0
            .map(|v| ((f32::from(v) + noise) * gain).clamp(0.0, 255.0) as u8));
    }
    full
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .unwrap();
    out
}

fn processed(image: &RgbImage, quality: u8) -> ProcessedPhoto {
    process_photo(&jpeg(image, quality)).unwrap()
}

fn crop(image: &RgbImage, left: f32, top: f32, right: f32, bottom: f32) -> RgbImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (x, y) = ((w * left) as u32, (h * top) as u32);
    let (cw, ch) = (
        (w * (1.0 - left - right)) as u32,
        (h * (1.0 - top - bottom)) as u32,
    );
    image::imageops::crop_imm(image, x, y, cw, ch).to_image()
}

fn resize(image: &RgbImage, scale: f32) -> RgbImage {
    let (w, h) = (
        (image.width() as f32 * scale) as u32,
        (image.height() as f32 * scale) as u32,
    );
    DynamicImage::ImageRgb8(image.clone())
        .resize_exact(w, h, FilterType::Lanczos3)
        .into_rgb8()
}

fn brighten(image: &RgbImage) -> RgbImage {
    let mut out = image.clone();
    for p in out.pixels_mut() {
        *p = Rgb(p.0.map(|v| (f32::from(v) * 1.1 + 12.0).min(255.0) as u8));
    }
    out
}

#[test]
fn photo_hash_threshold_separates_copies_from_other_photos() {
    const PHOTOS: u64 = 1000;
    const COPIED: u64 = 100;
    let scenes: Vec<RgbImage> = (0..PHOTOS).map(scene).collect();
    // The photo as the cadre's phone first uploads it (a good-quality JPEG).
    let originals: Vec<ProcessedPhoto> = scenes.iter().map(|s| processed(s, 92)).collect();
    let blank: Vec<usize> = (0..originals.len())
        .filter(|i| originals[*i].hashes.is_empty())
        .collect();
    // The darkest night scenes may be too flat to hash; they are left to identical bytes.
    println!("blank scenes (no hash): {blank:?}");
    assert!(
        blank.len() * 100 <= originals.len(),
        "blank scenes: {blank:?}"
    );
    // What a check-in compares: the closest of the new photo's windows to the earlier own hash.
    let apart = |new: &[PhotoHash], earlier: &[PhotoHash]| -> u32 {
        new.iter()
            .map(|h| distance(*h, earlier[0]))
            .min()
            .unwrap_or(u32::MAX)
    };

    type MakeCopy = fn(&RgbImage, &ProcessedPhoto) -> ProcessedPhoto;
    let copies: [(&str, MakeCopy); 6] = [
        // What the server stored, downloaded and saved again at quality 70.
        ("re-saved q70", |_, first| {
            let stored = image::load_from_memory(&first.jpeg).unwrap().into_rgb8();
            processed(&stored, 70)
        }),
        ("resized 60%", |s, _| processed(&resize(s, 0.6), 85)),
        ("cropped 3% each side", |s, _| {
            processed(&crop(s, 0.03, 0.03, 0.03, 0.03), 85)
        }),
        ("cropped 5% top-left", |s, _| {
            processed(&crop(s, 0.05, 0.05, 0.0, 0.0), 85)
        }),
        ("cropped 5% right, q70", |s, _| {
            processed(&crop(s, 0.0, 0.0, 0.05, 0.0), 70)
        }),
        ("brightened 10%", |s, _| processed(&brighten(s), 85)),
    ];
    let mut worst_copy = 0;
    for (name, copy) in copies {
        let mut found: Vec<u32> = (0..COPIED as usize)
            .filter(|i| !blank.contains(i))
            .map(|i| {
                apart(
                    &copy(&scenes[i], &originals[i]).hashes,
                    &originals[i].hashes,
                )
            })
            .collect();
        found.sort_unstable();
        let pick = |q: f64| found[((found.len() - 1) as f64 * q) as usize];
        println!(
            "{name:>22}: {COPIED} copies, distance median {} p95 {} p99 {} max {}",
            pick(0.5),
            pick(0.95),
            pick(0.99),
            pick(1.0)
        );
        worst_copy = worst_copy.max(pick(1.0));
    }

    let mut closest = u32::MAX;
    let mut histogram = [0u64; 129];
    for (i, new) in originals.iter().enumerate() {
        for (j, earlier) in originals.iter().enumerate() {
            if i != j && !blank.contains(&i) && !blank.contains(&j) {
                let d = apart(&new.hashes, &earlier.hashes);
                histogram[d as usize] += 1;
                closest = closest.min(d);
            }
        }
    }
    let hashed = PHOTOS - blank.len() as u64;
    let pairs = hashed * (hashed - 1);
    let near: Vec<String> = (0..=24)
        .filter(|d| histogram[*d] > 0)
        .map(|d| format!("{d}:{}", histogram[d]))
        .collect();
    println!(
        "{hashed} different photos, {pairs} ordered pairs: closest {closest} bits; pairs at 0–24 bits {near:?}"
    );
    println!("threshold {MAX_DISTANCE}: copies at most {worst_copy}, others at least {closest}");
    assert!(
        worst_copy <= MAX_DISTANCE,
        "a copy is {worst_copy} bits away"
    );
    assert!(
        closest > MAX_DISTANCE,
        "two photos are {closest} bits apart"
    );
}

#[test]
fn photo_hash_is_none_for_a_blank_night_sky() {
    // Near-black with sensor grain: nothing to tell one such photo from another.
    let sky = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let h =
            (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)).wrapping_mul(2_654_435_761);
        let v = 6 + (h >> 29) as u8;
        Rgb([v, v, v + 2])
    });
    assert_eq!(processed(&sky, 90).hashes, Vec::<PhotoHash>::new());
    // One lit window is enough to hash.
    let mut window = sky.clone();
    for x in 150..190 {
        for y in 100..140 {
            window.put_pixel(x, y, Rgb([220, 200, 120]));
        }
    }
    assert_eq!(processed(&window, 90).hashes.len(), 16);
}
