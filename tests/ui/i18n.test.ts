// Every language ships the same messages: a key missing or extra in any catalog fails, as does a
// message that is not valid ICU MessageFormat, one that drops or invents a placeholder, or a plural
// without the `other` case. Then each language formats a few messages through the app's own code.
import { readdirSync } from 'node:fs'
import { compileMessageOrThrow, type CompiledMessage } from '@lingui/message-utils/compileMessage'
import { describe, expect, it } from 'vitest'
import { catalogPath, readCatalog } from '../../scripts/catalogs'
import { LOCALES, clockTime, dateTime, phoneLocale, regional, setLocale, t, duration, direction } from '../../src/ui/i18n'
import { coordinateOf } from '../../src/ui/screens/coordinates'

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

/** What is wrong with a catalog against English: missing and extra keys, invalid ICU, changed placeholders, empty messages. */
function catalogProblems(catalog: Readonly<Record<string, string>>): string[] {
  const problems: string[] = []
  for (const key of Object.keys(english)) if (!(key in catalog)) problems.push(`${key}: missing`)
  for (const key of Object.keys(catalog)) if (!(key in english)) problems.push(`${key}: not an English key`)
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
  return problems
}

describe('message catalogs', () => {
  it('ship exactly the languages the app offers', () => {
    const files = readdirSync(catalogPath('en').replace(/en\.json$/, '')).filter((f) => f.endsWith('.json'))
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual([...LOCALES].sort())
  })

  it.each([...LOCALES])('%s: every English key and no other, valid ICU, the same placeholders', (locale) => {
    expect(catalogProblems(readCatalog(locale))).toEqual([])
  })

  it('the check itself finds a missing key, an extra key, a lost placeholder, a plural without other, and broken syntax', () => {
    const broken: Record<string, string> = { ...readCatalog('es') }
    delete broken['version']
    broken['versión'] = 'Versión {id}'
    broken['fingerprint'] = 'Huella'
    broken['hours'] = '{n, plural, one {# hora}}'
    broken['remove'] = 'Quitar {name'
    const found = catalogProblems(broken).map((p) => p.split(':')[0])
    expect(new Set(found)).toEqual(new Set(['version', 'versión', 'fingerprint', 'hours', 'remove']))
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

describe('what people type and what phones prefer', () => {
  it('coordinates read from any keyboard; unreadable text is refused, not saved as none', () => {
    expect(coordinateOf('33.4521')).toBe(33.4521)
    expect(coordinateOf('-70,6483')).toBe(-70.6483)
    expect(coordinateOf('٣٠٫٠٤٤٤')).toBe(30.0444)
    expect(coordinateOf('۳۵٫۶۸۹۲')).toBe(35.6892)
    expect(coordinateOf('  ')).toBeUndefined()
    expect(coordinateOf('north of the bridge')).toBeNull()
  })

  it('formats in the phone’s region when it speaks the UI’s language, and only then', () => {
    expect(regional('ar', ['ar-EG', 'en'])).toBe('ar-EG')
    expect(regional('es', ['en-US', 'es-CL'])).toBe('es-CL')
    expect(regional('zh-Hant', ['zh-HK'])).toBe('zh-HK')
    expect(regional('zh-Hant', ['zh-CN', 'en'])).toBe('zh-Hant')
    expect(regional('zh-Hant', ['zh-Hant-TW'])).toBe('zh-Hant-TW')
    expect(regional('fa', ['en-US'])).toBe('fa')
    expect(regional('en', ['de-DE', 'en-GB'])).toBe('en-GB')
  })
})

describe('errors as a person reads them', () => {
  it('a typed error shows in the UI’s language by its problem; anything else keeps its message', async () => {
    const { StoreError } = await import('../../src/store/errors')
    const { InviteLinkError } = await import('../../src/model/invite-link')
    const { ModelError } = await import('../../src/model/errors')
    const { errorText } = await import('../../src/ui/errors')
    await setLocale('es')
    const es = readCatalog('es')
    expect(errorText(new StoreError('wrong-passphrase', 'That passphrase is not right.'))).toBe(es['error.store.wrong-passphrase'])
    expect(errorText(new InviteLinkError('expired'))).toBe(es['error.invite.expired'])
    expect(errorText(new ModelError('not-core', 'Only core members can do this.'))).toBe(es['error.model.not-core'])
    expect(errorText(new Error('something unforeseen'))).toBe('something unforeseen')
    await setLocale('en')
  })
})

describe('the language kept in the vault', () => {
  it('a stored language that is not a language tag is ignored: the phone’s language is used', async () => {
    const { decodeSettings, encodeSettings, DEFAULT_SETTINGS } = await import('../../src/model/settings')
    const { utf8 } = await import('../../src/crypto')
    expect(decodeSettings(encodeSettings({ ...DEFAULT_SETTINGS, language: 'fa' })).language).toBe('fa')
    for (const bad of [123, null, '', '<script>', 'fa\u202e', 'x'.repeat(200), ['fa'], { toString: 'fa' }]) {
      expect(decodeSettings(utf8(JSON.stringify({ ...DEFAULT_SETTINGS, language: bad }))).language).toBe('')
    }
    expect(decodeSettings(utf8('{"language": "fa"')).language).toBe('')
  })
})
