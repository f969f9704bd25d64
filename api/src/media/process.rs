//! Photo intake, entirely in memory: sniff the type, refuse what is too big before decoding
//! it, keep the EXIF evidence (time, place), then re-encode a clean JPEG and a thumbnail.
//! Re-encoding is what strips EXIF (and anything else hidden in the upload).

use std::io::Cursor;

use chrono::NaiveDateTime;
use exif::{Exif, In, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
use sha2::{Digest, Sha256};

use crate::domain::photo_hash::{self, Grey, PhotoHash};

pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024; // 15 MB
pub const MAX_PIXELS: u64 = 50_000_000; // 50 megapixels
pub const MAX_SIDE: u32 = 2048; // longest side after shrinking
pub const THUMB_SIDE: u32 = 320;

const JPEG_QUALITY: u8 = 85;
const THUMB_QUALITY: u8 = 80;
/// Widest/tallest image the decoders may even start on (JPEG's own ceiling); the pixel
/// count check does the real work.
const MAX_DECODE_SIDE: u32 = 65_535;
/// Decoder allocation ceiling: a 50 MP 16-bit RGBA PNG (400 MB) still fits.
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;
const ACCEPTED: &str = "accepted photo types are JPEG, PNG and WebP";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    WebP,
}

impl SourceFormat {
    fn image_format(self) -> ImageFormat {
        match self {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::WebP => ImageFormat::WebP,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MediaError {
    /// Caller maps to HTTP 413.
    #[error("{0}")]
    TooLarge(String),
    /// Caller maps to HTTP 415.
    #[error("{0}")]
    Unsupported(String),
    /// Caller maps to HTTP 422.
    #[error("{0}")]
    Corrupt(String),
}

/// Evidence read from EXIF before it is stripped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifEvidence {
    /// DateTimeOriginal (else DateTime) as written by the camera: local wall time.
    pub taken_at_local: Option<NaiveDateTime>,
    /// OffsetTimeOriginal (else OffsetTime) in seconds east of UTC, when present
    /// (e.g. "+08:00" -> 28800).
    pub utc_offset_secs: Option<i32>,
    /// Signed decimal degrees (S negative), from GPSLatitude + GPSLatitudeRef.
    pub lat: Option<f64>,
    /// Signed decimal degrees (W negative), from GPSLongitude + GPSLongitudeRef.
    pub lon: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub source_format: SourceFormat,
    /// Re-encoded, EXIF-free, orientation applied, longest side <= MAX_SIDE.
    pub jpeg: Vec<u8>,
    /// Longest side <= THUMB_SIDE.
    pub thumb_jpeg: Vec<u8>,
    /// Lowercase hex SHA-256 of `jpeg`.
    pub sha256: String,
    /// Width of `jpeg`.
    pub width: u32,
    /// Height of `jpeg`.
    pub height: u32,
    pub exif: ExifEvidence,
    /// Difference hashes of the picture (`domain::photo_hash`), one per window of
    /// `windows()`, its own first; empty for a blank picture.
    pub hashes: Vec<PhotoHash>,
}

/// Detects the type from the bytes (never a declared MIME type).
pub fn sniff(bytes: &[u8]) -> Option<SourceFormat> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(SourceFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SourceFormat::Png)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(SourceFormat::WebP)
    } else {
        None
    }
}

/// Validates, reads EXIF, applies orientation, shrinks, re-encodes. CPU-heavy (under a second and
/// about 400 MB at the 50 MP limit, in release): callers run it off the async threads.
pub fn process_photo(bytes: &[u8]) -> Result<ProcessedPhoto, MediaError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(MediaError::TooLarge(format!(
            "photo is {} bytes; the limit is {} MB",
            bytes.len(),
            MAX_UPLOAD_BYTES / (1024 * 1024)
        )));
    }
    if bytes.is_empty() {
        return Err(MediaError::Unsupported(format!("empty upload; {ACCEPTED}")));
    }
    let format = sniff(bytes)
        .ok_or_else(|| MediaError::Unsupported(format!("not a recognised photo; {ACCEPTED}")))?;

    // Header only: a decompression bomb is refused before any pixel buffer exists.
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(decode_error)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(MediaError::TooLarge(format!(
            "photo is {width}×{height} ({pixels} pixels); the limit is {MAX_PIXELS} pixels"
        )));
    }

    if format == SourceFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(MediaError::Corrupt(
            "photo is truncated: the JPEG ends before its end-of-image marker".into(),
        ));
    }

    let exif = read_exif(bytes);
    let evidence = exif.as_ref().map(evidence).unwrap_or_default();
    let orientation = exif
        .as_ref()
        .and_then(orientation)
        .unwrap_or(Orientation::NoTransforms);

    let decoded = reader(bytes, format).decode().map_err(decode_error)?;
    // Flatten and shrink before rotating: both make every later step cheaper.
    let mut image = shrink(
        DynamicImage::ImageRgb8(flatten_onto_white(decoded)),
        MAX_SIDE,
    );
    image.apply_orientation(orientation);
    let thumb = shrink(image.clone(), THUMB_SIDE);
    let (image, thumb) = (image.into_rgb8(), thumb.into_rgb8());
    let hashes = photo_hashes(&thumb);

    let jpeg = encode_jpeg(&image, JPEG_QUALITY)?;
    let thumb_jpeg = encode_jpeg(&thumb, THUMB_QUALITY)?;
    Ok(ProcessedPhoto {
        source_format: format,
        sha256: hex::encode(Sha256::digest(&jpeg)),
        jpeg,
        thumb_jpeg,
        width: image.width(),
        height: image.height(),
        exif: evidence,
        hashes,
    })
}

/// The difference hashes of a picture (see `domain::photo_hash`), one per window, its own
/// first; none for a blank picture. Hashing the thumbnail averages the same areas into the
/// grids as the full picture would, for 40× less work.
pub fn photo_hashes(image: &RgbImage) -> Vec<PhotoHash> {
    // BT.601 luma in integers.
    let levels: Vec<u8> = image
        .pixels()
        .map(|Rgb([r, g, b])| {
            let luma = (77 * u32::from(*r) + 150 * u32::from(*g) + 29 * u32::from(*b) + 128) >> 8;
            u8::try_from(luma).unwrap_or(u8::MAX)
        })
        .collect();
    Grey::new(image.width(), image.height(), &levels)
        .map(|grey| photo_hash::photo_hashes(&grey))
        .unwrap_or_default()
}

fn reader(bytes: &[u8], format: SourceFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits);
    reader
}

fn decode_error(error: ImageError) -> MediaError {
    match error {
        ImageError::Limits(e) => MediaError::TooLarge(format!("photo is too large to decode: {e}")),
        e => MediaError::Corrupt(format!("photo could not be decoded: {e}")),
    }
}

/// Walks the JPEG's segments and scans to its end-of-image marker. The JPEG decoder, as
/// image configures it, fills a cut-off scan with grey instead of failing, and an upload cut
/// off mid-transfer must not become evidence. Bytes after the marker (e.g. the video of a
/// "motion photo") are fine.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // past SOI
    loop {
        // A marker: one or more 0xFF fill bytes, then its code.
        if bytes.get(at) != Some(&0xff) {
            return false;
        }
        while bytes.get(at) == Some(&0xff) {
            at += 1;
        }
        let Some(&code) = bytes.get(at) else {
            return false;
        };
        at += 1;
        match code {
            0xd9 => return true,
            // Stand-alone markers (TEM, RSTn) carry no length.
            0x01 | 0xd0..=0xd7 => continue,
            _ => {}
        }
        let Some(&[high, low]) = bytes.get(at..at + 2) else {
            return false;
        };
        at += usize::from(u16::from_be_bytes([high, low]));
        if code == 0xda {
            // Entropy-coded data follows SOS: 0xFF in it is followed by 0x00 (stuffing) or
            // a restart marker; any other byte after 0xFF starts the next segment.
            let Some(rest) = bytes.get(at..) else {
                return false;
            };
            let next = rest
                .windows(2)
                .position(|w| w[0] == 0xff && w[1] != 0x00 && !(0xd0..=0xd7).contains(&w[1]));
            match next {
                Some(offset) => at += offset,
                None => return false,
            }
        }
    }
}

/// JPEG has no alpha; transparent areas become white rather than black.
fn flatten_onto_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = src.0.map(u32::from);
        // Rounded `c·a + 255·(1 − a)` in 0..=255 units; never exceeds 255.
        let blend = |c: u32| ((c * a + 255 * (255 - a) + 127) / 255) as u8;
        *dst = Rgb([blend(r), blend(g), blend(b)]);
    }
    out
}

/// Fits the image within `max_side`×`max_side`, keeping its aspect; never upscales.
/// (`DynamicImage`'s resize is compiled inside image, so it is optimised even in debug
/// builds, unlike the generic `imageops::resize`.)
fn shrink(image: DynamicImage, max_side: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let longest = width.max(height);
    if longest <= max_side {
        return image;
    }
    let scale = |side: u32| -> u32 {
        let scaled =
            (u64::from(side) * u64::from(max_side) + u64::from(longest) / 2) / u64::from(longest);
        // ≤ max_side since side ≤ longest; at least one pixel for extreme panoramas.
        u32::try_from(scaled).unwrap_or(max_side).max(1)
    };
    image.resize_exact(scale(width), scale(height), FilterType::Triangle)
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        // Only reachable for sizes `shrink` already rules out.
        .map_err(|e| MediaError::Corrupt(format!("photo could not be re-encoded: {e}")))?;
    Ok(out)
}

/// Missing or unreadable EXIF is normal (screenshots, stripped uploads): no evidence, no error.
fn read_exif(bytes: &[u8]) -> Option<Exif> {
    exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        // Keep whatever fields parsed when a phone wrote a slightly broken block.
        .or_else(|e| e.distill_partial_result(|_| {}))
        .ok()
}

fn evidence(exif: &Exif) -> ExifEvidence {
    let taken_at_local = [Tag::DateTimeOriginal, Tag::DateTime]
        .into_iter()
        .find_map(|tag| ascii(exif, tag).and_then(parse_datetime));
    let utc_offset_secs = [Tag::OffsetTimeOriginal, Tag::OffsetTime]
        .into_iter()
        .find_map(|tag| ascii(exif, tag).and_then(parse_offset));
    // A latitude without its longitude places nothing: keep the pair or neither.
    let position = coordinate(exif, &LATITUDE).zip(coordinate(exif, &LONGITUDE));
    ExifEvidence {
        taken_at_local,
        utc_offset_secs,
        lat: position.map(|(lat, _)| lat),
        lon: position.map(|(_, lon)| lon),
    }
}

fn orientation(exif: &Exif) -> Option<Orientation> {
    let value = exif
        .get_field(Tag::Orientation, In::PRIMARY)?
        .value
        .get_uint(0)?;
    Orientation::from_exif(u8::try_from(value).ok()?)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<&str> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(values) => std::str::from_utf8(values.first()?).ok(),
        _ => None,
    }
}

/// EXIF's "YYYY:MM:DD HH:MM:SS"; blanks and impossible dates are absent evidence.
fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y:%m:%d %H:%M:%S").ok()
}

/// EXIF's "+HH:MM" / "-HH:MM" as seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    // Real zones run from -12:00 to +14:00.
    if hours > 14 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// One GPS axis as EXIF stores it: unsigned degrees/minutes/seconds plus a hemisphere letter.
struct Axis {
    value: Tag,
    hemisphere: Tag,
    positive: u8,
    negative: u8,
    limit: f64,
}

const LATITUDE: Axis = Axis {
    value: Tag::GPSLatitude,
    hemisphere: Tag::GPSLatitudeRef,
    positive: b'N',
    negative: b'S',
    limit: 90.0,
};

const LONGITUDE: Axis = Axis {
    value: Tag::GPSLongitude,
    hemisphere: Tag::GPSLongitudeRef,
    positive: b'E',
    negative: b'W',
    limit: 180.0,
};

/// Signed decimal degrees; NaN (zero denominators) and out-of-range values are absent.
fn coordinate(exif: &Exif, axis: &Axis) -> Option<f64> {
    let sign = match ascii(exif, axis.hemisphere)?.trim().as_bytes() {
        [c] if c.eq_ignore_ascii_case(&axis.positive) => 1.0,
        [c] if c.eq_ignore_ascii_case(&axis.negative) => -1.0,
        // Without the hemisphere the sign is a guess, and a wrong one is worse than none.
        _ => return None,
    };
    let Value::Rational(parts) = &exif.get_field(axis.value, In::PRIMARY)?.value else {
        return None;
    };
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let degrees: f64 = parts
        .iter()
        .zip([1.0, 60.0, 3600.0])
        .map(|(part, unit)| part.to_f64() / unit)
        .sum();
    let value = sign * degrees;
    (value.is_finite() && value.abs() <= axis.limit).then_some(value)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use exif::{Field, Rational};
    use minqing_e2e::photos::{self, FixtureExif};

    use super::*;

    fn exif_of(bytes: &[u8]) -> Result<Exif, exif::Error> {
        exif::Reader::new().read_from_container(&mut Cursor::new(bytes))
    }

    fn dimensions(jpeg: &[u8]) -> (u32, u32) {
        image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
            .expect("output decodes")
            .into_rgb8()
            .dimensions()
    }

    #[test]
    fn sniff_recognises_accepted_types_by_magic_bytes() {
        let none = FixtureExif::default();
        assert_eq!(sniff(&photos::jpeg(8, 8, &none)), Some(SourceFormat::Jpeg));
        assert_eq!(sniff(&photos::png(8, 8)), Some(SourceFormat::Png));
        assert_eq!(sniff(&photos::webp(8, 8)), Some(SourceFormat::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"RIFF"), None);
        assert_eq!(sniff(&[0xff, 0xd8]), None);
    }

    #[test]
    fn each_accepted_format_processes() {
        let cases = [
            (
                photos::jpeg(64, 48, &FixtureExif::default()),
                SourceFormat::Jpeg,
            ),
            (photos::png(64, 48), SourceFormat::Png),
            (photos::webp(64, 48), SourceFormat::WebP),
        ];
        for (bytes, format) in cases {
            let photo = process_photo(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(photo.source_format, format);
            assert_eq!((photo.width, photo.height), (64, 48));
            assert_eq!(dimensions(&photo.jpeg), (64, 48));
            assert_eq!(sniff(&photo.thumb_jpeg), Some(SourceFormat::Jpeg));
            assert_eq!(photo.exif, ExifEvidence::default());
        }
    }

    #[test]
    fn transparency_is_flattened_onto_white() {
        let photo = process_photo(&photos::png(64, 64)).unwrap();
        let image = image::load_from_memory(&photo.jpeg).unwrap().into_rgb8();
        // The fixture's top-left quarter is fully transparent.
        let Rgb(pixel) = *image.get_pixel(4, 4);
        assert!(pixel.iter().all(|&c| c >= 250), "{pixel:?}");
    }

    #[test]
    fn other_types_are_unsupported() {
        let cases: [&[u8]; 5] = [
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
            b"just some text, not a photo",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            b"",
        ];
        for bytes in cases {
            let error = process_photo(bytes).unwrap_err();
            let MediaError::Unsupported(message) = &error else {
                panic!("{bytes:?}: {error:?}");
            };
            assert!(message.contains("JPEG, PNG and WebP"), "{message}");
        }
    }

    #[test]
    fn oversized_upload_is_refused_before_looking_at_it() {
        // Not even a photo: only the size check can produce TooLarge here.
        let bytes = vec![0u8; MAX_UPLOAD_BYTES + 1];
        assert!(matches!(
            process_photo(&bytes),
            Err(MediaError::TooLarge(_))
        ));
    }

    #[test]
    fn decompression_bomb_is_refused_from_its_header() {
        let bomb = photos::png_claiming(100_000, 100_000);
        assert!(bomb.len() < 100);
        let started = Instant::now();
        let error = process_photo(&bomb).unwrap_err();
        assert!(matches!(error, MediaError::TooLarge(_)), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(1));

        // Under the side limit, over the pixel limit: the pixel check alone refuses it.
        let wide = photos::png_claiming(10_000, 5_001);
        assert!(matches!(process_photo(&wide), Err(MediaError::TooLarge(_))));
    }

    #[test]
    fn plausible_header_without_pixel_data_is_corrupt() {
        let error = process_photo(&photos::png_claiming(300, 200)).unwrap_err();
        assert!(matches!(error, MediaError::Corrupt(_)), "{error:?}");
    }

    #[test]
    fn truncated_uploads_are_corrupt() {
        let jpeg = photos::jpeg(64, 64, &FixtureExif::default());
        // In the headers, mid-scan, and only the end-of-image marker missing.
        for len in [3, 20, jpeg.len() / 2, jpeg.len() - 2] {
            let error = process_photo(&jpeg[..len]).unwrap_err();
            assert!(matches!(error, MediaError::Corrupt(_)), "{len}: {error:?}");
        }
        for other in [photos::png(64, 64), photos::webp(64, 64)] {
            let error = process_photo(&other[..other.len() / 2]).unwrap_err();
            assert!(matches!(error, MediaError::Corrupt(_)), "{error:?}");
        }
    }

    #[test]
    fn bytes_after_the_jpeg_end_marker_are_accepted() {
        // "Motion photos" append their video after the JPEG.
        let mut upload = photos::jpeg(64, 48, &FixtureExif::default());
        upload.extend_from_slice(b"\0\0\0\x18ftypmp42 trailing video");
        let photo = process_photo(&upload).unwrap();
        assert_eq!((photo.width, photo.height), (64, 48));
    }

    /// 16×8 grey progressive JPEG (`jpegtran -progressive` of a fixture): several scans,
    /// each with its own Huffman tables, which the completeness check must walk through.
    const PROGRESSIVE_JPEG: &str = "\
        ffd8ffe000104a46494600010200000100010000ffdb00430003020203020203030303040303040508050504\
        04050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f1718161418121415\
        14ffc2000b080008001001011100ffc40014000100000000000000000000000000000006ffdd00040002ffda\
        00080101000000012acbffc400161000030000000000000000000000000000000406ffda0008010100010502\
        56545254ffc4001510010100000000000000000000000000000032ffda0008010100063f02843fffc4001610\
        000300000000000000000000000000000031c1ffda0008010100013f215c0983ffda00080101000000107fff\
        c40014100100000000000000000000000000000010ffda0008010100013f1038cfffd9";

    #[test]
    fn progressive_jpeg_processes() {
        let upload = hex::decode(PROGRESSIVE_JPEG).unwrap();
        let photo = process_photo(&upload).unwrap();
        assert_eq!((photo.width, photo.height), (16, 8));
        let error = process_photo(&upload[..upload.len() - 40]).unwrap_err();
        assert!(matches!(error, MediaError::Corrupt(_)), "{error:?}");
    }

    #[test]
    fn large_photo_shrinks_to_max_side_keeping_aspect() {
        let photo = process_photo(&photos::jpeg(3000, 1500, &FixtureExif::default())).unwrap();
        assert_eq!((photo.width, photo.height), (2048, 1024));
        assert_eq!(dimensions(&photo.jpeg), (2048, 1024));
        assert_eq!(dimensions(&photo.thumb_jpeg), (320, 160));
    }

    #[test]
    fn small_photo_is_not_upscaled() {
        let photo = process_photo(&photos::png(100, 60)).unwrap();
        assert_eq!((photo.width, photo.height), (100, 60));
        assert_eq!(dimensions(&photo.thumb_jpeg), (100, 60));
    }

    #[test]
    fn thumbnail_fits_thumb_side() {
        let photo = process_photo(&photos::jpeg(600, 900, &FixtureExif::default())).unwrap();
        let (width, height) = dimensions(&photo.thumb_jpeg);
        assert_eq!(height, THUMB_SIDE);
        assert!(width <= THUMB_SIDE);
        assert_eq!(width, 213);
    }

    #[test]
    fn exif_time_and_position_are_read_then_stripped() {
        let fixture = FixtureExif {
            gps: Some((26.223_456_7, -119.543_210_9)),
            taken_at: Some("2024:11:05 22:41:07"),
            ..FixtureExif::default()
        };
        let upload = photos::jpeg(64, 48, &fixture);
        assert!(exif_of(&upload).is_ok(), "fixture carries EXIF");

        let photo = process_photo(&upload).unwrap();
        let lat = photo.exif.lat.unwrap();
        let lon = photo.exif.lon.unwrap();
        assert!((lat - 26.223_456_7).abs() < 1e-6, "{lat}");
        assert!((lon + 119.543_210_9).abs() < 1e-6, "{lon}");
        assert_eq!(
            photo.exif.taken_at_local,
            NaiveDateTime::parse_from_str("2024-11-05 22:41:07", "%Y-%m-%d %H:%M:%S").ok()
        );
        assert_eq!(photo.exif.utc_offset_secs, None);

        for output in [&photo.jpeg, &photo.thumb_jpeg] {
            assert!(matches!(exif_of(output), Err(exif::Error::NotFound(_))));
            assert!(!output.windows(6).any(|w| w == b"Exif\0\0"));
        }
        let reprocessed = process_photo(&photo.jpeg).unwrap();
        assert_eq!(reprocessed.exif, ExifEvidence::default());
    }

    #[test]
    fn southern_hemisphere_is_negative() {
        let fixture = FixtureExif {
            gps: Some((-33.856_8, 151.215_3)),
            ..FixtureExif::default()
        };
        let photo = process_photo(&photos::jpeg(16, 16, &fixture)).unwrap();
        assert!((photo.exif.lat.unwrap() + 33.856_8).abs() < 1e-6);
        assert!((photo.exif.lon.unwrap() - 151.215_3).abs() < 1e-6);
    }

    fn field(tag: Tag, value: Value) -> Field {
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        }
    }

    fn ascii_value(text: &str) -> Value {
        Value::Ascii(vec![text.as_bytes().to_vec()])
    }

    #[test]
    fn fallback_tags_and_utc_offset_are_read() {
        let plain = photos::jpeg(16, 16, &FixtureExif::default());
        let upload = photos::splice_exif(
            &plain,
            &[
                field(Tag::DateTime, ascii_value("2025:01:31 23:59:58")),
                field(Tag::OffsetTime, ascii_value("+08:00")),
            ],
        );
        let evidence = process_photo(&upload).unwrap().exif;
        assert_eq!(
            evidence.taken_at_local.map(|t| t.to_string()).as_deref(),
            Some("2025-01-31 23:59:58")
        );
        assert_eq!(evidence.utc_offset_secs, Some(28_800));

        let upload = photos::splice_exif(
            &plain,
            &[
                field(Tag::DateTime, ascii_value("2025:01:01 00:00:00")),
                field(Tag::DateTimeOriginal, ascii_value("2024:12:31 21:30:00")),
                field(Tag::OffsetTime, ascii_value("+00:00")),
                field(Tag::OffsetTimeOriginal, ascii_value("-03:30")),
            ],
        );
        let evidence = process_photo(&upload).unwrap().exif;
        assert_eq!(
            evidence.taken_at_local.map(|t| t.to_string()).as_deref(),
            Some("2024-12-31 21:30:00")
        );
        assert_eq!(evidence.utc_offset_secs, Some(-12_600));
    }

    #[test]
    fn nonsense_exif_is_absent_evidence_not_an_error() {
        let plain = photos::jpeg(16, 16, &FixtureExif::default());
        let upload = photos::splice_exif(
            &plain,
            &[
                field(Tag::DateTimeOriginal, ascii_value("    :  :     :  :  ")),
                field(Tag::OffsetTimeOriginal, ascii_value("+99:00")),
                field(Tag::GPSLatitudeRef, ascii_value("N")),
                // Zero denominator: NaN/infinity must not leak out as a position.
                field(
                    Tag::GPSLatitude,
                    Value::Rational(vec![Rational::from((10, 0)), Rational::from((0, 0))]),
                ),
                field(Tag::GPSLongitudeRef, ascii_value("E")),
                field(
                    Tag::GPSLongitude,
                    Value::Rational(vec![Rational::from((200, 1))]),
                ),
            ],
        );
        let photo = process_photo(&upload).unwrap();
        assert_eq!(photo.exif, ExifEvidence::default());
    }

    #[test]
    fn offsets_parse_strictly() {
        assert_eq!(parse_offset("+08:00"), Some(28_800));
        assert_eq!(parse_offset("-09:30"), Some(-34_200));
        assert_eq!(parse_offset("+14:00"), Some(50_400));
        assert_eq!(parse_offset("+15:00"), None);
        assert_eq!(parse_offset("08:00"), None);
        assert_eq!(parse_offset("+8:00"), None);
        assert_eq!(parse_offset("+08:60"), None);
        assert_eq!(parse_offset("+"), None);
        assert_eq!(parse_offset(""), None);
    }

    #[test]
    fn orientation_6_rotates_clockwise() {
        let fixture = FixtureExif {
            orientation: Some(6),
            ..FixtureExif::default()
        };
        let photo = process_photo(&photos::jpeg(400, 200, &fixture)).unwrap();
        assert_eq!((photo.width, photo.height), (200, 400));
        assert_eq!(dimensions(&photo.jpeg), (200, 400));
        assert_eq!(dimensions(&photo.thumb_jpeg), (160, 320));

        // Clockwise: the stored bottom-left corner (no red, full green) comes to the top left.
        let image = image::load_from_memory(&photo.jpeg).unwrap().into_rgb8();
        let Rgb([r, g, _]) = *image.get_pixel(5, 5);
        assert!(r < 20 && g > 235, "{r} {g}");
    }

    #[test]
    fn orientation_3_turns_the_image_upside_down() {
        let upright = process_photo(&photos::jpeg(400, 200, &FixtureExif::default())).unwrap();
        let fixture = FixtureExif {
            orientation: Some(3),
            ..FixtureExif::default()
        };
        let turned = process_photo(&photos::jpeg(400, 200, &fixture)).unwrap();
        assert_eq!((turned.width, turned.height), (400, 200));

        // The fixture's gradient grows red left→right and green top→bottom.
        let upright = image::load_from_memory(&upright.jpeg).unwrap().into_rgb8();
        let turned = image::load_from_memory(&turned.jpeg).unwrap().into_rgb8();
        let Rgb([r, g, _]) = *upright.get_pixel(5, 5);
        assert!(r < 20 && g < 20, "upright top-left is dark: {r} {g}");
        let Rgb([r, g, _]) = *turned.get_pixel(5, 5);
        assert!(r > 235 && g > 235, "turned top-left is bright: {r} {g}");
    }

    #[test]
    fn every_orientation_gives_the_expected_shape() {
        for (tag, shape) in [
            (1, (40, 20)),
            (2, (40, 20)),
            (3, (40, 20)),
            (4, (40, 20)),
            (5, (20, 40)),
            (6, (20, 40)),
            (7, (20, 40)),
            (8, (20, 40)),
            // Out of range: ignored.
            (0, (40, 20)),
            (9, (40, 20)),
        ] {
            let fixture = FixtureExif {
                orientation: Some(tag),
                ..FixtureExif::default()
            };
            let photo = process_photo(&photos::jpeg(40, 20, &fixture)).unwrap();
            assert_eq!((photo.width, photo.height), shape, "orientation {tag}");
        }
    }

    #[test]
    fn sha256_is_deterministic_and_of_the_jpeg() {
        let upload = photos::jpeg(
            300,
            200,
            &FixtureExif {
                taken_at: Some("2024:11:05 22:41:07"),
                ..FixtureExif::default()
            },
        );
        let first = process_photo(&upload).unwrap();
        let second = process_photo(&upload).unwrap();
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(first.jpeg, second.jpeg);
        assert_eq!(first.sha256, hex::encode(Sha256::digest(&first.jpeg)));
        assert_eq!(first.sha256.len(), 64);
        assert!(first
            .sha256
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }

    #[test]
    fn arbitrary_prefixes_and_corruptions_never_panic() {
        let samples = [
            photos::jpeg(
                32,
                32,
                &FixtureExif {
                    orientation: Some(6),
                    gps: Some((1.0, 2.0)),
                    taken_at: Some("2024:01:01 00:00:00"),
                },
            ),
            photos::png(32, 32),
            photos::webp(32, 32),
        ];
        for sample in &samples {
            for len in (0..sample.len()).step_by(7) {
                let _ = process_photo(&sample[..len]);
            }
            for at in (0..sample.len()).step_by(11) {
                let mut broken = sample.clone();
                broken[at] ^= 0x5a;
                let _ = process_photo(&broken);
            }
        }
    }
}
