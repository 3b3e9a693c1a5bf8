// Coordinates typed by people, on whatever keyboard their language gives them.

/**
 * A coordinate as a person types it on any keyboard: Arabic-Indic or Persian digits, a decimal
 * comma or Arabic decimal separator. Empty is no coordinate (undefined); anything else unreadable is null.
 */
export function coordinateOf(text: string): number | undefined | null {
  const plain = text
    .trim()
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660))
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x6f0))
    .replace(/[,٫]/g, '.')
    .replace(/^[−–]/, '-')
  if (plain === '') return undefined
  const n = Number(plain)
  return Number.isFinite(n) ? n : null
}
