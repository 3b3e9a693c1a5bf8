// A QR code drawn as inline SVG, for one phone to show and another to scan (a release at the
// staging point, an invite). Only SVG elements and presentation attributes: no canvas, no data:
// URL, no style attribute (the CSP has style-src 'self'). Dark on white in every color scheme.
import encodeQR from 'qr'
import { useMemo } from 'preact/hooks'
import { qrStrings } from './strings'
import './qr.css'

/** Light modules around the symbol on every side; the QR standard asks for 4. */
export const QUIET_ZONE = 4

/**
 * The modules of `text` as a QR code (error correction M, smallest version that fits, UTF-8 in
 * byte mode where needed), quiet zone included: row by row, true = dark. Pure; throws if the
 * text is too long for any QR code (about 2,300 bytes at level M).
 */
export function qrMatrix(text: string): boolean[][] {
  return encodeQR(text, 'raw', { ecc: 'medium', border: QUIET_ZONE })
}

/** One SVG path for all dark modules: a rectangle per horizontal run, in module units. */
export function qrPath(matrix: readonly (readonly boolean[])[]): string {
  const parts: string[] = []
  matrix.forEach((row, y) => {
    for (let x = 0; x < row.length; ) {
      if (!row[x]) {
        x++
        continue
      }
      let end = x + 1
      while (end < row.length && row[end]) end++
      parts.push(`M${x} ${y}h${end - x}v1h${x - end}z`)
      x = end
    }
  })
  return parts.join('')
}

export interface QrCodeProps {
  /** What the code holds. */
  text: string
  /** Accessible name of the image (what it is, never its content). */
  label?: string
  class?: string
}

export function QrCode({ text, label = qrStrings().codeLabel, class: className }: QrCodeProps) {
  const { size, path } = useMemo(() => {
    const matrix = qrMatrix(text)
    return { size: matrix.length, path: qrPath(matrix) }
  }, [text])
  return (
    <svg
      class={className ? `qr-code ${className}` : 'qr-code'}
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shape-rendering="crispEdges"
      data-modules={size}
    >
      <title>{label}</title>
      <rect width={size} height={size} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  )
}
