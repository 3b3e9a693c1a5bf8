#!/usr/bin/env node
// Draws Blossom's app icons (a plain five-petal flower, no text) and writes them as PNG with Node
// built-ins only. Deterministic: the same script always writes the same bytes.
//   node scripts/make-icons.mjs            -> public/icons/icon-192.png, icon-512.png, maskable-512.png
import { mkdirSync, writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'

const OUT = new URL('../public/icons/', import.meta.url)

const BACKGROUND = [0x8c, 0x3a, 0x6b] // theme colour (plum)
const PETAL = [0xfb, 0xe4, 0xef]
const CENTRE = [0xf2, 0xb8, 0x3d]

// --- PNG encoding (RGBA, 8 bits, no interlace) -------------------------------------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes) {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'ascii')
  data.copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

function png(size, rgba) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0 // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// --- Drawing (coordinates in units of the icon's size, centre at 0.5, 0.5) ----------------------

/** Which colour covers point (x, y), or null for transparent. */
function shade(x, y, { flower, corner }) {
  const dx = x - 0.5
  const dy = y - 0.5
  const r = Math.hypot(dx, dy)
  if (r < flower * 0.2) return CENTRE
  for (let i = 0; i < 5; i++) {
    const a = -Math.PI / 2 + (i * 2 * Math.PI) / 5
    // Each petal is an ellipse pointing away from the centre.
    const cx = Math.cos(a) * flower * 0.5
    const cy = Math.sin(a) * flower * 0.5
    const u = (dx - cx) * Math.cos(a) + (dy - cy) * Math.sin(a)
    const v = -(dx - cx) * Math.sin(a) + (dy - cy) * Math.cos(a)
    if ((u / (flower * 0.5)) ** 2 + (v / (flower * 0.3)) ** 2 <= 1) return PETAL
  }
  if (corner === null) return BACKGROUND // full bleed (maskable)
  // Rounded square with radius `corner`.
  const qx = Math.max(Math.abs(dx) - (0.5 - corner), 0)
  const qy = Math.max(Math.abs(dy) - (0.5 - corner), 0)
  return Math.hypot(qx, qy) <= corner ? BACKGROUND : null
}

/** Renders with 4x4 supersampling for smooth edges. */
function draw(size, style) {
  const rgba = Buffer.alloc(size * size * 4)
  const n = 4
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, style)
          if (c === null) continue
          r += c[0]
          g += c[1]
          b += c[2]
          a += 1
        }
      }
      const o = (py * size + px) * 4
      if (a > 0) {
        rgba[o] = Math.round(r / a)
        rgba[o + 1] = Math.round(g / a)
        rgba[o + 2] = Math.round(b / a)
        rgba[o + 3] = Math.round((255 * a) / (n * n))
      }
    }
  }
  return png(size, rgba)
}

// "any" icons: rounded square, flower large. Maskable: full bleed, flower inside the safe zone
// (a centred circle of 40% radius), so any mask shape keeps it whole.
const ANY = { flower: 0.4, corner: 0.18 }
const MASKABLE = { flower: 0.3, corner: null }

mkdirSync(OUT, { recursive: true })
for (const [name, size, style] of [
  ['icon-192.png', 192, ANY],
  ['icon-512.png', 512, ANY],
  ['maskable-512.png', 512, MASKABLE],
]) {
  const bytes = draw(size, style)
  writeFileSync(new URL(name, OUT), bytes)
  console.log(`public/icons/${name}: ${size}x${size}, ${bytes.length} bytes`)
}
