//! Photo fixtures for tests: real encoded images, optionally carrying the EXIF a phone
//! camera writes, plus malformed shapes that uploads must survive.

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

/// EXIF to embed in a fixture JPEG; `Default` embeds none.
#[derive(Debug, Clone, Default)]
pub struct FixtureExif {
    /// EXIF Orientation, 1–8.
    pub orientation: Option<u16>,
    /// (latitude, longitude) in signed decimal degrees (S and W negative).
    pub gps: Option<(f64, f64)>,
    /// DateTimeOriginal, "YYYY:MM:DD HH:MM:SS" in the camera's local time.
    pub taken_at: Option<&'static str>,
}

/// A JPEG of `width`×`height` (a simple gradient so it compresses realistically), optionally
/// with EXIF: orientation, GPS position (signed decimal degrees), and DateTimeOriginal
/// ("YYYY:MM:DD HH:MM:SS" local).
pub fn jpeg(width: u32, height: u32, exif: &FixtureExif) -> Vec<u8> {
    let image = gradient(width, height);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .expect("encode fixture JPEG");
    let fields = exif_fields(exif);
    if fields.is_empty() {
        out
    } else {
        splice_exif(&out, &fields)
    }
}

/// An RGBA PNG of `width`×`height` whose top-left quarter is fully transparent, so
/// processing has to flatten alpha.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let opaque = gradient(width, height);
    let image = RgbaImage::from_fn(width, height, |x, y| {
        let Rgb([r, g, b]) = *opaque.get_pixel(x, y);
        let transparent = x < width / 2 && y < height / 2;
        Rgba([r, g, b, if transparent { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgba8)
        .expect("encode fixture PNG");
    out
}

/// A lossless WebP of `width`×`height` (image's encoder writes lossless only).
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    let image = gradient(width, height);
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .expect("encode fixture WebP");
    out
}

/// A tiny PNG whose header claims `width`×`height` (a decompression bomb shape): valid
/// signature and IHDR with a correct CRC, then a tiny IDAT and IEND.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8-bit RGB, deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // A complete zlib stream of zero bytes: far too little data for the claimed size.
    let idat = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    push_png_chunk(&mut out, b"IHDR", &ihdr);
    push_png_chunk(&mut out, b"IDAT", &idat);
    push_png_chunk(&mut out, b"IEND", &[]);
    out
}

/// `jpeg` with an APP1 EXIF segment holding `fields` inserted right after SOI, for
/// tests that need tags `FixtureExif` does not offer.
pub fn splice_exif(jpeg: &[u8], fields: &[Field]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xff, 0xd8]), "not a JPEG");
    let mut writer = Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("encode EXIF");
    let tiff = tiff.into_inner();

    // The segment length counts itself (2 bytes) and the "Exif\0\0" identifier.
    let len = u16::try_from(2 + 6 + tiff.len()).expect("EXIF fits one APP1 segment");
    let mut out = Vec::with_capacity(jpeg.len() + 4 + 6 + tiff.len());
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn gradient(width: u32, height: u32) -> RgbImage {
    let (w, h) = (width.max(1), height.max(1));
    RgbImage::from_fn(width, height, |x, y| {
        // Always < 256 since x < w and y < h.
        let r = (x * 255 / w) as u8;
        let g = (y * 255 / h) as u8;
        Rgb([r, g, 128])
    })
}

fn exif_fields(exif: &FixtureExif) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(orientation) = exif.orientation {
        fields.push(field(Tag::Orientation, Value::Short(vec![orientation])));
    }
    if let Some(taken_at) = exif.taken_at {
        fields.push(field(Tag::DateTimeOriginal, ascii(taken_at)));
    }
    if let Some((lat, lon)) = exif.gps {
        let lat_ref = if lat < 0.0 { "S" } else { "N" };
        let lon_ref = if lon < 0.0 { "W" } else { "E" };
        fields.push(field(Tag::GPSLatitudeRef, ascii(lat_ref)));
        fields.push(field(Tag::GPSLatitude, dms(lat)));
        fields.push(field(Tag::GPSLongitudeRef, ascii(lon_ref)));
        fields.push(field(Tag::GPSLongitude, dms(lon)));
    }
    fields
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

/// Degrees, minutes and seconds as cameras write them; seconds to a micro-second of arc.
fn dms(degrees: f64) -> Value {
    let degrees = degrees.abs();
    let whole = degrees.trunc();
    let minutes = (degrees - whole) * 60.0;
    let whole_minutes = minutes.trunc();
    let micro_seconds = ((minutes - whole_minutes) * 60.0 * 1e6).round();
    Value::Rational(vec![
        Rational::from((whole as u32, 1)),
        Rational::from((whole_minutes as u32, 1)),
        Rational::from((micro_seconds as u32, 1_000_000)),
    ])
}

fn push_png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("PNG chunk length");
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO-HDLC) as PNG chunks use it; bitwise, fixtures are tiny.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
