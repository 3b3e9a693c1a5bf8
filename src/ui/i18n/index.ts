// The UI's words in the person's language. Messages are ICU MessageFormat in locales/*.json,
// compiled at build time and formatted by Lingui's runtime; English is built in, every other
// language loads only when chosen. Dates, times, durations and counts come from Intl.
import { setupI18n, type Messages } from '@lingui/core'
import en from 'catalog:en'
import type english from './locales/en.json'

export type MessageId = keyof typeof english
export type MessageValues = Readonly<Record<string, string | number>>

export const LOCALES = ['en', 'es', 'zh-Hant', 'ar', 'fa'] as const
export type Locale = (typeof LOCALES)[number]

/** Each language by its own name, for the picker. */
export const LANGUAGE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', es: 'Español', 'zh-Hant': '繁體中文', ar: 'العربية', fa: 'فارسی' }

const RIGHT_TO_LEFT: ReadonlySet<Locale> = new Set(['ar', 'fa'])

const catalogs: Readonly<Record<Exclude<Locale, 'en'>, () => Promise<{ default: Messages }>>> = {
  es: () => import('catalog:es'),
  'zh-Hant': () => import('catalog:zh-Hant'),
  ar: () => import('catalog:ar'),
  fa: () => import('catalog:fa'),
}

const i18n = setupI18n({ locale: 'en', messages: { en } })
const listeners = new Set<() => void>()

export const isLocale = (tag: string): tag is Locale => (LOCALES as readonly string[]).includes(tag)

/** The first shipped language among the phone's preferences (Chinese in any script reads the Traditional catalog). */
export function phoneLocale(preferences: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages): Locale {
  for (const tag of preferences) {
    if (isLocale(tag)) return tag
    const base = tag.toLowerCase().split('-')[0]
    if (base === 'zh') return 'zh-Hant'
    if (base === 'prs' || base === 'pes') return 'fa'
    if (base !== undefined && isLocale(base)) return base
  }
  return 'en'
}

export const locale = (): Locale => i18n.locale as Locale

/** Chinese tags written in Traditional characters (by script, or by a region that uses them). */
const TRADITIONAL = /^zh(-hant\b|-(hk|tw|mo)\b)/i

/** The phone's own tag for `l` when it has one (ar-EG, es-CL, zh-HK): its region's dates and digits. */
export function regional(l: Locale, preferences: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages): string {
  const fits = (tag: string): boolean =>
    l === 'zh-Hant' ? TRADITIONAL.test(tag) : tag.split('-')[0]!.toLowerCase() === l && !/^zh/i.test(tag)
  return preferences.find(fits) ?? l
}

/** What Intl formats with: the UI's language, in the phone's region when it matches. */
function formats(): string {
  const tags = i18n.locales
  return (typeof tags === 'string' ? tags : tags?.[0]) ?? i18n.locale
}
export const direction = (l: Locale = locale()): 'rtl' | 'ltr' => (RIGHT_TO_LEFT.has(l) ? 'rtl' : 'ltr')

/** Switches the UI to `l` (loading its messages first); the page's lang and dir follow. */
export async function setLocale(l: Locale): Promise<void> {
  if (l !== 'en' && i18n.messages[l] === undefined) {
    // Within one build these chunks are precached; a failed load keeps the language shown.
    const { default: messages } = await catalogs[l]()
    i18n.load(l, messages)
  }
  i18n.activate(l, [regional(l)])
  if (typeof document !== 'undefined') {
    document.documentElement.lang = l
    document.documentElement.dir = direction(l)
  }
  for (const listener of listeners) listener()
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export const hasMessage = (id: string): id is MessageId => Object.hasOwn(en, id)

/** A message in the current language. */
export const t = (id: MessageId, values?: MessageValues): string => i18n._(id, values)

/** A date and time on `zone`'s clock, with the zone named. */
export function dateTime(at: number, zone?: string): string {
  // (dateStyle and timeStyle cannot be combined with timeZoneName: the parts are named instead.)
  const parts: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }
  return new Intl.DateTimeFormat(formats(), { ...parts, ...(zone ? { timeZone: zone } : {}) }).format(at)
}

export const clockTime = (at: number): string => new Intl.DateTimeFormat(formats(), { timeStyle: 'medium' }).format(at)

const unit = (value: number, u: 'day' | 'hour' | 'minute' | 'second', long: boolean): string =>
  new Intl.NumberFormat(formats(), { style: 'unit', unit: u, unitDisplay: long ? 'long' : 'short' }).format(value)

/** A span of time: the two largest units (a countdown); `long` spells units out (prose). */
export function duration(ms: number, long = false): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const parts: [number, 'day' | 'hour' | 'minute' | 'second'][] = [
    [Math.floor(s / 86400), 'day'],
    [Math.floor((s % 86400) / 3600), 'hour'],
    [Math.floor((s % 3600) / 60), 'minute'],
    [s % 60, 'second'],
  ]
  const first = parts.findIndex(([n]) => n > 0)
  const shown = first === -1 ? [parts[3]!] : parts.slice(first, first + 2).filter(([n], i) => i === 0 || n > 0)
  return new Intl.ListFormat(formats(), { type: 'unit', style: long ? 'long' : 'narrow' }).format(shown.map(([n, u]) => unit(n, u, long)))
}
