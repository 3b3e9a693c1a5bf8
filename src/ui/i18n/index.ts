// The UI's words in the person's language. Messages are ICU MessageFormat in locales/*.json,
// compiled at build time and formatted by Lingui's runtime; English is built in, every other
// language loads only when chosen. Dates, times, durations and counts come from Intl.
//
// Each language comes in two parts (scripts/catalogs.ts): the first screens' words, and those of
// the screens that load later (locales/later/: the core's plan, campaigns, settings), which load
// with those screens (laterMessages), so a phone's first load carries only what it shows first.
import { setupI18n, type Messages } from '@lingui/core'
import en from 'catalog:en'
import type english from './locales/en.json'
import type laterEnglish from './locales/later/en.json'

export type MessageId = keyof typeof english | keyof typeof laterEnglish
export type MessageValues = Readonly<Record<string, string | number>>

export const LOCALES = ['en', 'es', 'zh-Hant', 'ar', 'fa'] as const
export type Locale = (typeof LOCALES)[number]

/** Each language by its own name, for the picker. */
export const LANGUAGE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', es: 'Español', 'zh-Hant': '繁體中文', ar: 'العربية', fa: 'فارسی' }

const RIGHT_TO_LEFT: ReadonlySet<Locale> = new Set(['ar', 'fa'])

type Part = 'first' | 'later'
type Catalog = () => Promise<{ default: Messages }>

const catalogs: Readonly<Record<Locale, Readonly<Record<Part, Catalog>>>> = {
  en: { first: () => Promise.resolve({ default: en }), later: () => import('catalog-later:en') },
  es: { first: () => import('catalog:es'), later: () => import('catalog-later:es') },
  'zh-Hant': { first: () => import('catalog:zh-Hant'), later: () => import('catalog-later:zh-Hant') },
  ar: { first: () => import('catalog:ar'), later: () => import('catalog-later:ar') },
  fa: { first: () => import('catalog:fa'), later: () => import('catalog-later:fa') },
}

// (A copy: Lingui adds later parts into the object it holds.)
const i18n = setupI18n({ locale: 'en', messages: { en: { ...en } } })
const listeners = new Set<() => void>()
/** The parts in Lingui's hands, as `${locale} ${part}`. */
const loaded = new Set<string>(['en first'])
/** A screen that loads later has shown on this page: from then on every language comes with its words too. */
let laterShown = false

/** Puts part `part` of `l`'s messages in Lingui's hands (once; within one build the chunks are precached). */
async function load(l: Locale, part: Part): Promise<void> {
  if (loaded.has(`${l} ${part}`)) return
  const { default: messages } = await catalogs[l][part]()
  i18n.load(l, messages)
  loaded.add(`${l} ${part}`)
}

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

/**
 * Switches the UI to `l`, loading its messages first: all of them, or with `'shown'` those of the
 * screens this page has shown (the app's start and unlock: the rest loads with the screens that
 * say it). The page's lang and dir follow. A failed load keeps the language shown.
 */
export async function setLocale(l: Locale, parts: 'shown' | 'all' = 'all'): Promise<void> {
  await Promise.all([load(l, 'first'), parts === 'all' || laterShown ? load(l, 'later') : undefined])
  i18n.activate(l, [regional(l)])
  if (typeof document !== 'undefined') {
    document.documentElement.lang = l
    document.documentElement.dir = direction(l)
  }
  for (const listener of listeners) listener()
}

/** The words of the screens that load later, in the language shown: those screens wait for them. */
export function laterMessages(): Promise<void> {
  laterShown = true
  return load(locale(), 'later')
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Whether `id` is a message of the language shown (of the parts loaded: the later screens' once they showed). */
export const hasMessage = (id: string): id is MessageId => Object.hasOwn(i18n.messages, id)

/** A message in the current language. */
export const t = (id: MessageId, values?: MessageValues): string => i18n._(id, values)

/** A date and time on `zone`'s clock, with the zone named. */
export function dateTime(at: number, zone?: string): string {
  // (dateStyle and timeStyle cannot be combined with timeZoneName: the parts are named instead.)
  const parts: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }
  return new Intl.DateTimeFormat(formats(), { ...parts, ...(zone ? { timeZone: zone } : {}) }).format(at)
}

/**
 * An instant on `zone`'s clock, hour and minute (and the day with `withDay`), on a 24-hour clock:
 * a campaign's coordinators compare it across countries, where AM and PM are easy to misread.
 */
export const wallTime = (at: number, zone: string, withDay = false): string =>
  new Intl.DateTimeFormat(formats(), { hour: 'numeric', minute: '2-digit', hourCycle: 'h23', timeZone: zone, ...(withDay ? { weekday: 'short', month: 'short', day: 'numeric' } : {}) }).format(at)

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
