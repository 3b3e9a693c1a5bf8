// Canonical JSON as WEBCAT signs it (OLPC "Canonical JSON", as in TUF): object keys sorted by
// code unit, no whitespace, strings escape only `"` and `\`, numbers only as integers. Both
// Blossom's release signature and WEBCAT's cover these bytes, so one manifest serves both.
import { ReleaseError } from './errors'

export type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue }

function canonicalString(text: string): string {
  // Control characters would be written raw; a manifest never needs them, so refuse rather than guess.
  if (/[\u0000-\u001f]/.test(text)) throw new ReleaseError('malformed', 'The release manifest holds a control character.')
  // A lone surrogate would encode as U+FFFD: two texts, one byte string.
  if (!text.isWellFormed()) throw new ReleaseError('malformed', 'The release manifest holds malformed Unicode.')
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

export function canonicalJson(value: CanonicalValue): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ReleaseError('malformed', 'The release manifest holds a number that is not an integer.')
    return String(value)
  }
  if (typeof value === 'string') return canonicalString(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const object = value as { readonly [key: string]: CanonicalValue }
  const keys = Object.keys(object).sort()
  return `{${keys.map((k) => `${canonicalString(k)}:${canonicalJson(object[k] as CanonicalValue)}`).join(',')}}`
}
