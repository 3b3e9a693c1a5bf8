// Every language ships the same messages: a key missing or extra in any catalog fails, as does a
// message that is not valid ICU MessageFormat, one that drops or invents a placeholder, or a plural
// without the `other` case. Then each language formats a few messages through the app's own code.
import { readdirSync } from 'node:fs'
import { compileMessageOrThrow, type CompiledMessage } from '@lingui/message-utils/compileMessage'
import { describe, expect, it } from 'vitest'
import { catalogPath, readCatalog } from '../../scripts/catalogs'
import { LOCALES, clockTime, dateTime, phoneLocale, setLocale, t, duration, direction } from '../../src/ui/i18n'

const english = readCatalog('en')

/** The placeholder names a compiled message uses (its arguments), and whether each plural has `other`. */
function argumentsOf(message: CompiledMessage, into = new Set<string>()): Set<string> {
  for (const token of message) {
    if (typeof token === 'string') continue
    const [name, type, format] = token
    if (name !== '#' || type !== undefined) into.add(name)
    if ((type === 'plural' || type === 'select' || type === 'selectordinal') && format && typeof format === 'object') {
      const choices = format as Record<string, CompiledMessage | number | undefined>
      if (!('other' in choices)) into.add(`${name}: no "other" case`)
      for (const [k, choice] of Object.entries(choices)) if (k !== 'offset' && Array.isArray(choice)) argumentsOf(choice, into)
    }
  }
  return into
}

describe('message catalogs', () => {
  it('ship exactly the languages the app offers', () => {
    const files = readdirSync(catalogPath('en').replace(/en\.json$/, '')).filter((f) => f.endsWith('.json'))
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual([...LOCALES].sort())
  })

  it.each(LOCALES.filter((l) => l !== 'en'))('%s has every English key and no other', (locale) => {
    const keys = Object.keys(readCatalog(locale))
    const missing = Object.keys(english).filter((k) => !keys.includes(k))
    const extra = keys.filter((k) => !(k in english))
    expect({ missing, extra }).toEqual({ missing: [], extra: [] })
  })

  it.each([...LOCALES])('%s: every message is valid ICU with the same placeholders as English', (locale) => {
    const catalog = readCatalog(locale)
    const problems: string[] = []
    for (const [key, source] of Object.entries(english)) {
      const message = catalog[key]
      if (message === undefined) continue
      try {
        const want = [...argumentsOf(compileMessageOrThrow(source))].sort()
        const got = [...argumentsOf(compileMessageOrThrow(message))].sort()
        if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`${key}: placeholders ${JSON.stringify(got)}, English has ${JSON.stringify(want)}`)
        if (message.trim() === '') problems.push(`${key}: empty`)
      } catch (e) {
        problems.push(`${key}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('a missing key would be caught: the check sees a catalog with one key removed', () => {
    const { version: _dropped, ...rest } = english
    expect(Object.keys(english).filter((k) => !(k in rest))).toEqual(['version'])
  })
})

describe('formatting through the app', () => {
  it('picks the phone language among the shipped ones', () => {
    expect(phoneLocale(['es-CL', 'en'])).toBe('es')
    expect(phoneLocale(['zh-HK'])).toBe('zh-Hant')
    expect(phoneLocale(['zh-TW'])).toBe('zh-Hant')
    expect(phoneLocale(['ar-EG'])).toBe('ar')
    expect(phoneLocale(['fa-IR'])).toBe('fa')
    expect(phoneLocale(['de-DE'])).toBe('en')
  })

  it.each([...LOCALES])('%s: plurals and durations come from Intl, and no message id shows through', async (locale) => {
    await setLocale(locale)
    for (const n of [0, 1, 2, 3, 11, 100]) {
      const text = t('coreMembers', { n })
      expect(text).not.toContain('coreMembers')
      expect(text).not.toMatch(/[{}]/)
      expect(text).toContain(new Intl.NumberFormat(locale).format(n))
    }
    expect(duration(3_725_000)).toContain(new Intl.NumberFormat(locale).format(2))
    expect(direction()).toBe(locale === 'ar' || locale === 'fa' ? 'rtl' : 'ltr')
    // An instant on a named zone's clock, and a time of day, in this language's own digits.
    const at = Date.UTC(2031, 4, 1, 10, 0)
    // (in this language's own calendar too: Persian dates are Solar Hijri)
    expect(dateTime(at, 'Africa/Cairo')).toContain(new Intl.DateTimeFormat(locale, { year: 'numeric', timeZone: 'Africa/Cairo' }).format(at).replace(/[^\p{Nd}]*$/u, ''))
    expect(dateTime(at)).not.toBe('')
    expect(clockTime(at)).not.toBe('')
    await setLocale('en')
  })

  it('English plural forms read as English', async () => {
    await setLocale('en')
    expect(t('coreMembers', { n: 1 })).toMatch(/^1 core member \(/)
    expect(t('coreMembers', { n: 2 })).toMatch(/^2 core members \(/)
    expect(duration(65_000)).toMatch(/^1 min\W+5 sec$/)
  })
})
