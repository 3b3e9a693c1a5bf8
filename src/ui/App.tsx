// The app: set up or unlock, then the actions on this phone. Holds the one Phone
// session; screens get strings and callbacks, never keys or bytes.
import { useEffect, useRef, useState } from 'preact/hooks'
import type * as Model from '../model'
import { errorText } from './errors'
import { isLocale, locale, phoneLocale, setLocale, t, type MessageId } from './i18n'
import { Home, type JoinStatus } from './screens/Home'
import { Passphrase, type Invitation } from './screens/Passphrase'
import { Brief } from './screens/Brief'
import { Remote } from './screens/Remote'
import type { EnterCampaign } from './screens/Campaign'
import { later, withLaterWords } from './screens/later'
import type { RunningBuild } from './updates'

export type CryptoState = 'loading' | 'ready' | 'failed'

export interface AppProps {
  readonly crypto: CryptoState
  readonly buildId: string
  /** The running build's fingerprint, once its service worker has checked it. */
  readonly running?: RunningBuild | undefined
  /** The model, once libsodium is ready (it loads as its own chunk). */
  readonly model?: typeof Model
}

type Screen =
  | { name: 'starting' }
  | { name: 'setup' }
  | { name: 'locked' }
  | { name: 'home' }
  | { name: 'plan'; id: Model.ActionId }
  | { name: 'settings' }

// Discreet mode must hold before anyone unlocks (the tab title shows on a locked phone's
// app switcher), so it is mirrored outside the vault as one flag: it says nothing but "discreet".
const DISCREET_FLAG = 'blossom.discreet'

function applyDiscretion(discreet: boolean): void {
  if (discreet) localStorage.setItem(DISCREET_FLAG, '1')
  else localStorage.removeItem(DISCREET_FLAG)
  document.title = discreet ? t('discreetName') : t('appName')
  const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]')
  if (icon) icon.href = discreet ? '/icons/neutral.svg' : '/icons/icon-192.png'
}

const isDiscreet = (): boolean => localStorage.getItem(DISCREET_FLAG) === '1'

// Screens a participant never opens, loaded the first time they are (precached for offline use
// like every file), with their words: the first load stays small.
const Plan = later(() => withLaterWords(import('./screens/Plan')).then((m) => m.Plan))
const Settings = later(() => withLaterWords(import('./screens/Settings')).then((m) => m.Settings))

const HIDDEN_LOCK_MS = 60_000

/** An invite code in the address bar is taken out at once: it must not linger in history. */
function takeInviteFromUrl(): string | undefined {
  const match = /^#\/join\/(.+)$/.exec(location.hash)
  if (!match) return undefined
  history.replaceState(null, '', location.pathname)
  return match[1]
}

interface InstallPromptEvent extends Event {
  prompt(): Promise<void>
}

/** The browser's install offer, kept for a button of our own (undefined when not offered). */
function useInstallPrompt(): (() => void) | undefined {
  const [offer, setOffer] = useState<InstallPromptEvent | undefined>()
  useEffect(() => {
    const keep = (e: Event): void => {
      e.preventDefault()
      setOffer(e as InstallPromptEvent)
    }
    const installed = (): void => setOffer(undefined)
    addEventListener('beforeinstallprompt', keep)
    addEventListener('appinstalled', installed)
    return () => {
      removeEventListener('beforeinstallprompt', keep)
      removeEventListener('appinstalled', installed)
    }
  }, [])
  return offer ? () => void offer.prompt().finally(() => setOffer(undefined)) : undefined
}

export function App({ crypto, buildId, running, model }: AppProps) {
  const [screen, setScreen] = useState<Screen>({ name: 'starting' })
  const [, rerender] = useState(0)
  const [joinStatus, setJoinStatus] = useState<JoinStatus | undefined>()
  /** Why the app locked itself: a message id, shown in whatever language the locked app speaks. */
  const [lockNote, setLockNote] = useState<MessageId | undefined>()
  const joining = useRef<Model.JoinAttempt | undefined>(undefined)
  const [historyNote, setHistoryNote] = useState(false)
  const device = useRef<Model.Device | undefined>(undefined)
  const phone = useRef<Model.Phone | undefined>(undefined)
  const pendingInvite = useRef<string | undefined>(takeInviteFromUrl())
  const [invitation, setInvitation] = useState<Invitation | undefined>()
  const [discreet, setDiscreet] = useState(isDiscreet)
  const install = useInstallPrompt()
  useEffect(() => applyDiscretion(discreet), [discreet, locale()])

  // Another tab wiped this phone (panic wipe, duress passphrase): this tab has let go of the
  // database; reloading forgets every key it held and shows what is there now.
  useEffect(() => model?.onLetGo(() => location.reload()), [model])

  // What an opened invite link admits to, said before the passphrase is asked for.
  const describe = (code: string | undefined): void => {
    if (!model || code === undefined) return setInvitation(undefined)
    try {
      const { tier } = model.Phone.describeInvite(code)
      // A campaign's invite joins an action to a campaign, from that action's plan: not a phone to an action.
      if (tier === 'cell') throw new model.InviteLinkError('campaign')
      setInvitation({ tier })
    } catch (e) {
      setInvitation({ problem: errorText(e) })
    }
  }
  useEffect(() => describe(pendingInvite.current), [model])

  useEffect(() => {
    if (!model) return
    void model.openDevice(location).then(async (d) => {
      device.current = d
      setScreen((await model.isSetUp(d)) ? { name: 'locked' } : { name: 'setup' })
    })
  }, [model])

  // A link opened while the app is already open arrives as a hash change.
  useEffect(() => {
    const onHash = (): void => {
      const code = takeInviteFromUrl()
      if (!code) return
      if (phone.current) join(code, true)
      else {
        pendingInvite.current = code
        describe(code)
      }
    }
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [model])

  /** `opened`: the link was opened in the browser, so the browser's history keeps it (SECURITY.md). */
  const join = (link: string, opened = false): void => {
    if (!model || !phone.current) return
    let attempt: Model.JoinAttempt
    try {
      attempt = phone.current.join(link)
    } catch (e) {
      setJoinStatus({ error: errorText(e) })
      setScreen({ name: 'home' })
      return
    }
    joining.current = attempt
    attempt.on('progress', (step) => setJoinStatus({ step }))
    setScreen({ name: 'home' })
    attempt.done.then(
      (id) => {
        joining.current = undefined
        setJoinStatus(undefined)
        setHistoryNote(opened)
        setScreen({ name: 'plan', id })
      },
      (e: unknown) => {
        joining.current = undefined
        setJoinStatus({ error: errorText(e) })
      },
    )
  }

  const lock = async (reason?: MessageId): Promise<void> => {
    const current = phone.current
    if (!current) return
    phone.current = undefined
    // A join still asking stops: its answer would come to a locked phone.
    joining.current?.cancel()
    joining.current = undefined
    setJoinStatus(undefined)
    setScreen({ name: 'locked' })
    setLockNote(reason)
    // The chosen language is kept in the vault: a locked app speaks the phone's.
    void setLocale(phoneLocale(), 'shown')
    await current.lock()
  }

  /** Panic wipe: every key and every stored byte, then an app that looks freshly installed. */
  const wipeAll = async (): Promise<void> => {
    const current = phone.current
    phone.current = undefined
    await current?.panicWipe()
    setDiscreet(false)
    localStorage.clear()
    void setLocale(phoneLocale(), 'shown')
    if (model) device.current = await model.openDevice(location)
    setScreen({ name: 'setup' })
  }

  // Lock after the chosen idle time, and when out of sight for more than a minute.
  useEffect(() => {
    if (screen.name === 'locked' || screen.name === 'setup' || screen.name === 'starting') return
    let last = Date.now()
    let hiddenAt: number | undefined
    const touch = (): void => void (last = Date.now())
    const check = (): void => {
      const idleMs = (phone.current?.settings.idleLockMinutes ?? 5) * 60_000
      // Waiting for a core phone to let this one in is not idleness (the screen says: keep it open).
      if (joining.current) touch()
      if (hiddenAt !== undefined && Date.now() - hiddenAt > HIDDEN_LOCK_MS) void lock('lockedHidden')
      else if (Date.now() - last > idleMs) void lock()
    }
    const visibility = (): void => {
      if (document.visibilityState === 'hidden') hiddenAt = Date.now()
      else {
        check()
        hiddenAt = undefined
        touch()
      }
    }
    const events = ['pointerdown', 'keydown', 'input', 'scroll'] as const
    for (const e of events) addEventListener(e, touch, { passive: true })
    document.addEventListener('visibilitychange', visibility)
    const timer = setInterval(check, 5_000)
    return () => {
      for (const e of events) removeEventListener(e, touch)
      document.removeEventListener('visibilitychange', visibility)
      clearInterval(timer)
    }
  }, [screen.name === 'locked' || screen.name === 'setup'])

  // An action can vanish (expired and wiped): show the list again, never a dead screen.
  useEffect(() => {
    const p = phone.current
    if (!p) return
    return p.onActionsChange(() => {
      setScreen((s) => (s.name === 'plan' && !p.list().some((a) => a.id === s.id) ? { name: 'home' } : s))
      rerender((n) => n + 1)
    })
  }, [phone.current])

  // The list names each action by its plan's title (or brief's staging point): it follows their edits too.
  const listed = phone.current?.list().map((a) => a.id).join() ?? ''
  useEffect(() => {
    const p = phone.current
    if (!p || screen.name !== 'home') return
    const stops = p.list().map((a) => p.get(a.id).onChange(() => rerender((n) => n + 1)))
    return () => stops.forEach((stop) => stop())
  }, [phone.current, screen.name, listed])

  const enter = async (mode: 'setup' | 'unlock', passphrase: string): Promise<string | undefined> => {
    if (!model || !device.current) return t('loading')
    try {
      const open = mode === 'setup' ? model.Phone.setUp : model.Phone.unlock
      phone.current = await open(device.current.db, passphrase, device.current.transport)
      // After a duress unlock the phone lives in a new database.
      device.current = { ...device.current, db: phone.current.db }
    } catch (e) {
      return errorText(e)
    }
    const chosen = phone.current.settings.language
    await setLocale(isLocale(chosen) ? chosen : phoneLocale(), 'shown').catch(() => undefined)
    setLockNote(undefined)
    setInvitation(undefined)
    setScreen({ name: 'home' })
    setDiscreet(phone.current.settings.discreet)
    const invite = pendingInvite.current
    pendingInvite.current = undefined
    if (invite) join(invite, true)
    return undefined
  }

  const p = phone.current
  let body
  switch (screen.name) {
    case 'starting':
      body = null
      break
    case 'setup':
    case 'locked':
      body = (
        <>
          {lockNote && <p role="status">{t(lockNote)}</p>}
          <Passphrase mode={screen.name === 'setup' ? 'setup' : 'unlock'} invitation={invitation} submit={(pass) => enter(screen.name === 'setup' ? 'setup' : 'unlock', pass)} />
        </>
      )
      break
    case 'home':
      body = (
        <Home
          actions={p!.list()}
          joinStatus={joinStatus}
          open={(id) => setScreen({ name: 'plan', id })}
          create={(title) => void p!.createAction(title).then((id) => setScreen({ name: 'plan', id }))}
          join={join}
          settings={() => setScreen({ name: 'settings' })}
          lock={() => void lock()}
        />
      )
      break
    case 'plan': {
      const { id } = screen
      const session = p!.get(id)
      const back = (): void => setScreen({ name: 'home' })
      // Starting or joining a campaign opens the action anew (a new session, so a new key here).
      const enterCampaign: EnterCampaign = {
        start: (name, cellName) => p!.startCampaign(id, name, cellName),
        join: (link, cellName) => p!.joinCampaign(id, link, cellName),
      }
      const key = `${id}:${session.serial}`
      body =
        session.role === 'core' ? (
          <Plan key={key} session={session} origin={location.origin} enterCampaign={enterCampaign} back={back} />
        ) : session.role === 'remote' ? (
          <Remote key={key} session={session} back={back} />
        ) : (
          <Brief key={key} session={session} origin={location.origin} back={back} />
        )
      break
    }
    case 'settings':
      body = (
        <Settings
          settings={p!.settings}
          change={(patch) =>
            void p!.updateSettings(patch).then(async () => {
              setDiscreet(p!.settings.discreet)
              const chosen = p!.settings.language
              if (patch.language !== undefined) await setLocale(isLocale(chosen) ? chosen : phoneLocale()).catch(() => undefined)
              rerender((n) => n + 1)
            })
          }
          changePassphrase={(current, next) => p!.changePassphrase(current, next).then(() => undefined, errorText)}
          setDuress={(current, duress, decoy) => p!.setDuressPassphrase(current, duress, decoy).then(() => undefined, errorText)}
          wipe={() => void wipeAll()}
          build={{ id: buildId, running }}
          back={() => setScreen({ name: 'home' })}
        />
      )
      break
  }

  const line = crypto === 'ready' ? t('ready') : crypto === 'failed' ? t('cryptoFailed') : t('loading')
  return (
    <main class="screen">
      <h1>{discreet ? t('discreetName') : t('appName')}</h1>
      {historyNote && screen.name === 'plan' && (
        <div class="stack" role="status">
          <p>{t('inviteInHistory')}</p>
          <button type="button" class="secondary" onClick={() => setHistoryNote(false)}>
            {t('understood')}
          </button>
        </div>
      )}
      {body}
      {install && (screen.name === 'home' || screen.name === 'setup') && (
        <button type="button" class="secondary" onClick={install}>
          {t('install')}
        </button>
      )}
      <footer class="muted">
        <p class="status" role={crypto === 'failed' ? 'alert' : undefined} data-crypto={crypto}>
          {line}
        </p>
        <p class="build">
          <span>{t('version', { id: buildId })}</span>
          {running && (
            <>
              {' · '}
              <span data-fingerprint={running.fingerprint}>{t('fingerprint', { short: running.fingerprint })}</span>
            </>
          )}
        </p>
      </footer>
    </main>
  )
}
