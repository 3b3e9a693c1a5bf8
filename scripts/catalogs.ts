// Message catalogs (src/ui/i18n/locales/<locale>.json, ICU MessageFormat) are compiled when
// they are bundled, so the app ships Lingui's small runtime and no message parser, and
// nothing is evaluated as code (the CSP allows no eval). `import('catalog:es')` gets one.
//
// A language's messages come in two parts: the first screens' (locales/<locale>.json: unlock, the
// actions, a participant's brief), and those of the screens that load later (locales/later/
// <locale>.json: the core's plan, campaigns, settings), `import('catalog-later:es')`, loaded with
// those screens, so the first load carries only what a phone shows before them.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileMessageOrThrow } from '@lingui/message-utils/compileMessage'
import type { Plugin } from 'vite'

export type CatalogPart = 'first' | 'later'

const PREFIXES: Readonly<Record<CatalogPart, string>> = { first: 'catalog:', later: 'catalog-later:' }

export const catalogPath = (locale: string, part: CatalogPart = 'first'): string =>
  path.join(fileURLToPath(new URL('../src/ui/i18n/locales/', import.meta.url)), ...(part === 'later' ? ['later'] : []), `${locale}.json`)

const readPart = (locale: string, part: CatalogPart): Record<string, string> => JSON.parse(readFileSync(catalogPath(locale, part), 'utf8')) as Record<string, string>

/** One catalog's source messages, by id: both parts (an id in both is an error). */
export function readCatalog(locale: string): Record<string, string> {
  const first = readPart(locale, 'first')
  const later = readPart(locale, 'later')
  const twice = Object.keys(later).filter((key) => Object.hasOwn(first, key))
  if (twice.length > 0) throw new Error(`${locale}: messages in both parts: ${twice.join(', ')}`)
  return { ...first, ...later }
}

/** `catalog:es` → ['es', 'first'], `catalog-later:es` → ['es', 'later'] (undefined: not a catalog). */
function catalogOf(source: string): [string, CatalogPart] | undefined {
  for (const part of ['first', 'later'] as const) {
    const locale = source.startsWith(PREFIXES[part]) ? source.slice(PREFIXES[part].length) : undefined
    if (locale !== undefined && /^[A-Za-z-]+$/.test(locale)) return [locale, part]
  }
  return undefined
}

export function catalogs(): Plugin {
  return {
    name: 'blossom-catalogs',
    enforce: 'pre',
    resolveId: (source) => (catalogOf(source) ? `\0${source}` : undefined),
    load(id) {
      const catalog = id.startsWith('\0') ? catalogOf(id.slice(1)) : undefined
      if (!catalog) return undefined
      const [locale, part] = catalog
      const file = catalogPath(locale, part)
      this.addWatchFile(file)
      if (part === 'first') readCatalog(locale) // (checks that no message is in both parts)
      const compiled = Object.fromEntries(
        Object.entries(readPart(locale, part)).map(([key, message]) => {
          try {
            return [key, compileMessageOrThrow(message)]
          } catch (e) {
            throw new Error(`${path.relative(process.cwd(), file)}: message ${key} is not valid ICU MessageFormat: ${e instanceof Error ? e.message : String(e)}`)
          }
        }),
      )
      return `export default ${JSON.stringify(compiled)}`
    },
  }
}
