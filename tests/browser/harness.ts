// Real phones for the browser tests: Debian's Chromium (never a download) through
// playwright-core, one browser context per phone, the built app served with its
// signaling server on 127.0.0.1. Drives the app only through its UI, by label and role.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { inject } from 'vitest'
import { createAppServer, type AppServer, type AppServerOptions } from '../../src/server/app-server'
import type { Locale, MessageId, MessageValues } from '../../src/ui/i18n'
import { wordsOf } from './words'

export const WAIT_MS = 30_000

export const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC between pages on loopback (the tests run in a namespace where only lo exists).
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
]

export const launch = (extraArgs: readonly string[] = []): Promise<Browser> =>
  chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...ARGS, ...extraArgs], timeout: WAIT_MS })

/**
 * The server runs in the test process, whose event loop also drives every browser: its lag there is
 * the test's, not the server's load, so overload shedding (tests/server/overload.test.ts) is off here.
 */
export const IN_PROCESS_SIGNALING = { overloadLagMs: 60_000 } as const

export async function serve(port = 0, distRoot = inject('shellBuilds').a.dist, drand?: AppServerOptions['drand']): Promise<{ server: AppServer; url: string; port: number }> {
  const server = createAppServer({ host: '127.0.0.1', port, distRoot, signaling: IN_PROCESS_SIGNALING, ...(drand ? { drand } : {}) })
  const url = await server.listen()
  return { server, url: url.replace(/\/$/, ''), port: Number(new URL(url).port) }
}

/** What a phone's WebRTC data channels carried, recorded inside the page before the app runs. */
export interface ChannelLog {
  sent: number
  received: number
  bytes: string // latin1 of every payload, to search for markers
}

/** The phone's own language setting for each language the app ships (where its speakers are). */
export const PHONE_LANGUAGE: Readonly<Record<Locale, string>> = { en: 'en-US', es: 'es-CL', 'zh-Hant': 'zh-HK', ar: 'ar-EG', fa: 'fa-IR' }

export class PhonePage {
  /** The words of the language this phone's UI speaks (its system language unless changed). */
  readonly t: (id: MessageId, values?: MessageValues) => string
  /** Everything thrown in the page and not caught, from the first load on: each one is a defect. */
  readonly pageErrors: string[] = []

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly origin: string,
    readonly language: Locale,
  ) {
    this.t = wordsOf(language)
    page.on('pageerror', (e) => this.pageErrors.push(e.message))
  }

  static async open(
    browser: Browser,
    origin: string,
    { language = 'en', ...options }: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark'; language?: Locale; timezoneId?: string } = {},
  ): Promise<PhonePage> {
    const context = await browser.newContext({ serviceWorkers: 'allow', locale: PHONE_LANGUAGE[language], ...options })
    context.setDefaultTimeout(WAIT_MS)
    // Chromium gathers usable host candidates for loopback only with a media permission.
    await context.grantPermissions(['microphone', 'camera'], { origin })
    await context.addInitScript(() => {
      const log = { sent: 0, received: 0, bytes: '' }
      ;(window as unknown as { __channels: typeof log }).__channels = log
      const text = (data: unknown): string => {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null
        if (!bytes) return String(data)
        let s = ''
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!)
        return s
      }
      const send = RTCDataChannel.prototype.send
      RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
        log.sent++
        log.bytes += text(data)
        return send.call(this, data)
      }
      const create = RTCPeerConnection.prototype.createDataChannel
      const watch = (channel: RTCDataChannel): void =>
        channel.addEventListener('message', (e) => {
          log.received++
          log.bytes += text(e.data)
        })
      RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, ...args: Parameters<typeof create>) {
        const channel = create.apply(this, args)
        watch(channel)
        return channel
      }
      const Native = RTCPeerConnection
      const connections: RTCPeerConnection[] = []
      ;(window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = connections
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config)
          connections.push(this)
          this.addEventListener('datachannel', (e) => watch(e.channel))
        }
      } as typeof RTCPeerConnection
    })
    const page = await context.newPage()
    return new PhonePage(context, page, origin, language)
  }

  /** A phone set up as a core member, with a new action open on its plan screen. */
  static async withAction(browser: Browser, origin: string, title: string, options: Parameters<typeof PhonePage.open>[2] = {}): Promise<PhonePage> {
    const p = await PhonePage.open(browser, origin, options)
    await p.goto()
    await p.setUp()
    await p.createAction(title)
    return p
  }

  async goto(path = '/'): Promise<void> {
    await this.page.goto(this.origin + path)
    await this.page.locator('[data-crypto="ready"]').waitFor()
  }

  async setUp(passphrase = 'correct horse battery'): Promise<void> {
    await this.page.getByLabel(this.t('passphrase'), { exact: true }).fill(passphrase)
    await this.page.getByLabel(this.t('passphraseAgain')).fill(passphrase)
    await this.page.getByRole('button', { name: this.t('setUp') }).click()
    await this.page.getByRole('button', { name: this.t('settings') }).or(this.notes()).first().waitFor()
  }

  async unlock(passphrase = 'correct horse battery'): Promise<void> {
    await this.page.getByLabel(this.t('passphrase'), { exact: true }).fill(passphrase)
    await this.page.getByRole('button', { name: this.t('unlock') }).click()
  }

  async createAction(title: string): Promise<void> {
    await this.page.getByLabel(this.t('newActionTitle')).fill(title)
    await this.page.getByRole('button', { name: this.t('createAction') }).click()
    await this.notes().waitFor()
  }

  async setServerRelay(on: boolean): Promise<void> {
    await this.page.getByRole('button', { name: this.t('settings') }).click()
    await this.page.getByLabel(this.t('serverRelay')).setChecked(on)
    await this.page.getByRole('button', { name: this.t('back') }).click()
  }

  async invite(tier: 'core' | 'participant' = 'core', label = ''): Promise<string> {
    await this.page.getByLabel(this.t('inviteLabel')).fill(label)
    await this.page.getByRole('button', { name: tier === 'core' ? this.t('inviteCore') : this.t('inviteParticipant') }).click()
    return this.page.getByRole('textbox', { name: this.t('inviteLinkLabel') }).inputValue()
  }

  /** Every key and value in this phone's IndexedDB, as latin1 text to search for markers. */
  storedBytes(): Promise<string> {
    return this.page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('blossom')
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      let out = ''
      const add = (v: unknown): void => {
        if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
          const b = v instanceof Uint8Array ? v : new Uint8Array(v)
          for (let i = 0; i < b.length; i++) out += String.fromCharCode(b[i]!)
        } else if (typeof v === 'string') out += v
        else if (Array.isArray(v)) v.forEach(add)
        else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (add(k), add(x)))
      }
      for (const name of Array.from(db.objectStoreNames)) {
        const tx = db.transaction(name)
        const [keys, values] = await Promise.all(
          [tx.objectStore(name).getAllKeys(), tx.objectStore(name).getAll()].map(
            (req) => new Promise<unknown[]>((resolve) => (req.onsuccess = () => resolve(req.result as unknown[]))),
          ),
        )
        keys!.forEach(add)
        values!.forEach(add)
      }
      db.close()
      return out
    })
  }

  /** Go now, confirmed: the decisive step takes two taps, the second apart from the first. */
  async goNow(): Promise<void> {
    await this.page.getByRole('button', { name: this.t('goNow'), exact: true }).click()
    await this.page.getByRole('button', { name: this.t('goNowYes') }).click()
  }

  notes() {
    return this.page.getByLabel(this.t('planNotes'))
  }

  title() {
    return this.page.getByLabel(this.t('planTitle'))
  }

  status() {
    return this.page.locator('[data-peers]')
  }

  async peers(): Promise<number> {
    return Number(await this.status().getAttribute('data-peers'))
  }

  async waitNoPeers(): Promise<void> {
    await this.page.waitForFunction(() => document.querySelector('[data-peers]')?.getAttribute('data-peers') === '0', undefined, { timeout: WAIT_MS })
  }

  async waitPeers(atLeast: number): Promise<void> {
    await this.page.waitForFunction((n) => Number(document.querySelector('[data-peers]')?.getAttribute('data-peers')) >= n, atLeast, { timeout: WAIT_MS })
  }

  /** Types at the end of the notes, as a person would (key by key). */
  async typeNotes(text: string, at: 'start' | 'end' = 'end'): Promise<void> {
    const notes = this.notes()
    await notes.focus()
    await this.page.keyboard.press(at === 'end' ? 'Control+End' : 'Control+Home')
    await this.page.keyboard.type(text, { delay: 5 })
  }

  async waitNotes(predicate: (notes: string) => boolean, what: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const value = await this.notes().inputValue()
      if (predicate(value)) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; notes are: ${JSON.stringify(value)}`)
      await this.page.waitForTimeout(50)
    }
  }

  /** Candidate types (host, srflx, relay) of the selected pair of every connected peer connection. */
  selectedPairs(): Promise<{ local: string; remote: string }[]> {
    return this.page.evaluate(async () => {
      const out: { local: string; remote: string }[] = []
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState !== 'connected') continue
        const stats = await pc.getStats()
        const byId = new Map<string, Record<string, unknown>>()
        stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s))
        for (const s of byId.values()) {
          if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue
          const pair = byId.get(s.selectedCandidatePairId)
          const local = byId.get(pair?.localCandidateId as string)
          const remote = byId.get(pair?.remoteCandidateId as string)
          out.push({ local: String(local?.candidateType), remote: String(remote?.candidateType) })
        }
      }
      return out
    })
  }

  channels(): Promise<ChannelLog> {
    return this.page.evaluate(() => (window as unknown as { __channels: ChannelLog }).__channels)
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined)
  }
}
