// Shrinking a photo on the phone before it is stored and sent: longest side 1600 px, JPEG
// quality 0.85. The original JPEG's EXIF (time and GPS, the evidence the server reads) is
// copied into the shrunk file, with Orientation set to 1 since the pixels are already upright.

import { api } from './api.js';
import { h } from './util.js';

const MAX_SIDE = 1600;
const QUALITY = 0.85;

// → {bytes: ArrayBuffer, type, width, height}
export async function preparePhoto(file) {
  const original = await readBytes(file);
  let image = null;
  try {
    image = await decode(file);
  } catch (e) {
    image = null;
  }
  if (!image) {
    // Not decodable here (e.g. HEIC in this browser): the server takes JPEG, PNG and WebP.
    const type = sniff(new Uint8Array(original));
    if (type) return { bytes: original, type, width: 0, height: 0 };
    throw new Error('无法读取这张照片，请换一张');
  }
  const w = image.width || image.naturalWidth;
  const h = image.height || image.naturalHeight;
  const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
  const width = Math.max(1, Math.round(w * scale));
  const height = Math.max(1, Math.round(h * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0, width, height);
  if (image.close) image.close();
  let shrunk = await canvasJpeg(canvas);
  canvas.width = canvas.height = 0;
  const exif = exifSegment(new Uint8Array(original));
  if (exif) shrunk = withExif(new Uint8Array(shrunk), exif).buffer;
  return { bytes: shrunk, type: 'image/jpeg', width, height };
}

function readBytes(file) {
  if (file.arrayBuffer) return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(file);
  });
}

async function decode(file) {
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (e) { /* older engines: fall through to <img>, which applies EXIF orientation */ }
  }
  const url = URL.createObjectURL(file);
  try {
    return await new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('decode'));
      img.src = url;
    });
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

function canvasJpeg(canvas) {
  return new Promise((resolve, reject) => {
    if (canvas.toBlob) {
      canvas.toBlob((blob) => {
        if (!blob) { reject(new Error('无法压缩照片')); return; }
        readBytes(blob).then(resolve, reject);
      }, 'image/jpeg', QUALITY);
    } else {
      const data = canvas.toDataURL('image/jpeg', QUALITY);
      const bin = atob(data.slice(data.indexOf(',') + 1));
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      resolve(out.buffer);
    }
  });
}

function sniff(b) {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp';
  return null;
}

// The APP1 "Exif" segment of a JPEG (marker to end), with Orientation set to 1; or null.
export function exifSegment(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    if (marker === 0xff) { i += 1; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
    if (marker === 0xda || marker === 0xd9) return null; // image data: no EXIF before it
    const len = (b[i + 2] << 8) | b[i + 3];
    if (len < 2 || i + 2 + len > b.length) return null;
    if (marker === 0xe1 && len >= 8 && b[i + 4] === 0x45 && b[i + 5] === 0x78 && b[i + 6] === 0x69 &&
        b[i + 7] === 0x66 && b[i + 8] === 0 && b[i + 9] === 0) {
      const segment = b.slice(i, i + 2 + len);
      setOrientation(segment, 10);
      return segment;
    }
    i += 2 + len;
  }
  return null;
}

// Sets IFD0's Orientation (tag 0x0112, SHORT) to 1, in place; `tiff` is where the TIFF header starts.
function setOrientation(seg, tiff) {
  if (seg.length < tiff + 8) return;
  const little = seg[tiff] === 0x49 && seg[tiff + 1] === 0x49;
  const big = seg[tiff] === 0x4d && seg[tiff + 1] === 0x4d;
  if (!little && !big) return;
  const u16 = (o) => (little ? seg[o] | (seg[o + 1] << 8) : (seg[o] << 8) | seg[o + 1]);
  const u32 = (o) => (little
    ? (seg[o] | (seg[o + 1] << 8) | (seg[o + 2] << 16)) + seg[o + 3] * 0x1000000
    : ((seg[o + 1] << 16) | (seg[o + 2] << 8) | seg[o + 3]) + seg[o] * 0x1000000);
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > seg.length) return;
  const count = u16(ifd);
  for (let n = 0; n < count; n++) {
    const entry = ifd + 2 + n * 12;
    if (entry + 12 > seg.length) return;
    if (u16(entry) === 0x0112 && u16(entry + 2) === 3) {
      const at = entry + 8;
      if (little) { seg[at] = 1; seg[at + 1] = 0; } else { seg[at] = 0; seg[at + 1] = 1; }
      return;
    }
  }
}

// The JPEG with the EXIF segment put right after SOI (and after a JFIF APP0 if there is one).
export function withExif(jpeg, exif) {
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4] << 8) | jpeg[5]);
  // Drop an APP1 the encoder may have written itself.
  let rest = at;
  if (jpeg[rest] === 0xff && jpeg[rest + 1] === 0xe1) rest += 2 + ((jpeg[rest + 2] << 8) | jpeg[rest + 3]);
  const out = new Uint8Array(at + exif.length + (jpeg.length - rest));
  out.set(jpeg.subarray(0, at), 0);
  out.set(exif, at);
  out.set(jpeg.subarray(rest), at + exif.length);
  return out;
}

// Shrinks and uploads photos one by one (online only); `step(i, n)` before each. → media ids.
export async function uploadPhotos(files, step) {
  const ids = [];
  const list = Array.prototype.slice.call(files || []);
  for (let i = 0; i < list.length; i++) {
    if (step) step(i + 1, list.length);
    const p = await preparePhoto(list[i]);
    const media = await api('POST', '/media', { body: p.bytes, type: p.type, timeout: 120000 });
    ids.push(media.id);
  }
  return ids;
}

// Thumbnails of uploaded photos, fetched with the sign-in (an <img> cannot send it). With
// `remove`, each has a button to take it off (`remove(id)` is called).
export function thumbnails(ids, { remove = null } = {}) {
  const strip = h('div', { class: 'thumbs' });
  (ids || []).forEach((id, i) => {
    const img = h('img', { alt: `照片 ${i + 1}`, width: '96', height: '96' });
    const cell = h('div', { class: 'thumb' }, img);
    if (remove) {
      cell.appendChild(h('button', { type: 'button', class: 'thumb-remove', 'aria-label': `移除照片 ${i + 1}`, onclick: () => { cell.remove(); remove(id); } }, '×'));
    }
    strip.appendChild(cell);
    api('GET', `/media/${encodeURIComponent(id)}/thumb`, { blob: true }).then((blob) => {
      const url = URL.createObjectURL(blob);
      img.onload = () => URL.revokeObjectURL(url);
      img.src = url;
    }, () => {
      img.replaceWith(h('span', { class: 'thumb-missing' }, '照片暂无法显示'));
    });
  });
  return strip;
}
