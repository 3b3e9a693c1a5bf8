// Message catalogs (src/ui/i18n/locales/<locale>.json, ICU MessageFormat) are compiled when
// they are bundled, so the app ships Lingui's small runtime and no message parser, and
// nothing is evaluated as code (the CSP allows no eval). `import('catalog:es')` gets one.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileMessageOrThrow } from '@lingui/message-utils/compileMessage'
import type { Plugin } from 'vite'

const PREFIX = 'catalog:'
const RESOLVED = '\0catalog:'

export const catalogPath = (locale: string): string => path.join(fileURLToPath(new URL('../src/ui/i18n/locales/', import.meta.url)), `${locale}.json`)

/** One catalog's source messages, by id. */
export const readCatalog = (locale: string): Record<string, string> => JSON.parse(readFileSync(catalogPath(locale), 'utf8')) as Record<string, string>

export function catalogs(): Plugin {
  return {
    name: 'blossom-catalogs',
    enforce: 'pre',
    resolveId: (source) => (source.startsWith(PREFIX) && /^[A-Za-z-]+$/.test(source.slice(PREFIX.length)) ? RESOLVED + source.slice(PREFIX.length) : undefined),
    load(id) {
      if (!id.startsWith(RESOLVED)) return undefined
      const locale = id.slice(RESOLVED.length)
      this.addWatchFile(catalogPath(locale))
      const compiled = Object.fromEntries(
        Object.entries(readCatalog(locale)).map(([key, message]) => {
          try {
            return [key, compileMessageOrThrow(message)]
          } catch (e) {
            throw new Error(`${locale}.json: message ${key} is not valid ICU MessageFormat: ${e instanceof Error ? e.message : String(e)}`)
          }
        }),
      )
      return `export default ${JSON.stringify(compiled)}`
    },
  }
}
