// The app's words as a test reads them: each catalog compiled and formatted by the same Lingui
// runtime the app ships (no build needed, so tsx scripts like screenshots.ts can use it too).
import { setupI18n } from '@lingui/core'
import { compileMessage } from '@lingui/message-utils/compileMessage'
import { readCatalog } from '../../scripts/catalogs'
import type { Locale, MessageId, MessageValues } from '../../src/ui/i18n'

const books = new Map<Locale, (id: MessageId, values?: MessageValues) => string>()

/** The words of one language. */
export function wordsOf(locale: Locale): (id: MessageId, values?: MessageValues) => string {
  let book = books.get(locale)
  if (!book) {
    const i18n = setupI18n({ locale, messages: { [locale]: readCatalog(locale) } })
    i18n.setMessagesCompiler(compileMessage)
    book = (id, values) => i18n._(id, values)
    books.set(locale, book)
  }
  return book
}

/** English, the language the browser tests' phones speak unless a test says otherwise. */
export const t = wordsOf('en')
