// The app: set up or unlock, then the actions on this phone. Holds the one Phone
// session; screens get strings and callbacks, never keys or bytes.
import { useEffect, useRef, useState } from 'preact/hooks'
import type * as Model from '../model'
import { strings } from './strings'
import { Home } from './screens/Home'
import { Passphrase } from './screens/Passphrase'
import { Plan } from './screens/Plan'
import { Brief } from './screens/Brief'
import { Settings } from './screens/Settings'

export type CryptoState = 'loading' | 'ready' | 'failed'

export interface AppProps {
  readonly crypto: CryptoState
  readonly buildId: string
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
  document.title = discreet ? strings.discreetName : strings.appName
  const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]')
  if (icon) icon.href = discreet ? '/icons/neutral.svg' : '/icons/icon-192.png'
}

const isDiscreet = (): boolean => localStorage.getItem(DISCREET_FLAG) === '1'

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

export function App({ crypto, buildId, model }: AppProps) {
  const [screen, setScreen] = useState<Screen>({ name: 'starting' })
  const [, rerender] = useState(0)
  const [joinStatus, setJoinStatus] = useState<string | undefined>()
  const device = useRef<Model.Device | undefined>(undefined)
  const phone = useRef<Model.Phone | undefined>(undefined)
  const pendingInvite = useRef<string | undefined>(takeInviteFromUrl())
  const [discreet, setDiscreet] = useState(isDiscreet)
  const install = useInstallPrompt()
  useEffect(() => applyDiscretion(discreet), [discreet])

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
      if (phone.current) join(code)
      else pendingInvite.current = code
    }
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [model])

  const join = (link: string): void => {
    if (!model || !phone.current) return
    let attempt: Model.JoinAttempt
    try {
      attempt = phone.current.join(link)
    } catch (e) {
      setJoinStatus(e instanceof Error ? e.message : String(e))
      return
    }
    setJoinStatus(strings.joinAsking)
    attempt.on('waiting', () => setJoinStatus(strings.joinWaiting))
    setScreen({ name: 'home' })
    attempt.done.then(
      (id) => {
        setJoinStatus(undefined)
        setScreen({ name: 'plan', id })
      },
      (e: unknown) => setJoinStatus(e instanceof Error ? e.message : String(e)),
    )
  }

  const enter = async (mode: 'setup' | 'unlock', passphrase: string): Promise<string | undefined> => {
    if (!model || !device.current) return strings.loading
    try {
      const open = mode === 'setup' ? model.Phone.setUp : model.Phone.unlock
      phone.current = await open(device.current.db, passphrase, device.current.transport)
    } catch (e) {
      return e instanceof Error ? e.message : String(e)
    }
    setScreen({ name: 'home' })
    setDiscreet(phone.current.settings.discreet)
    const invite = pendingInvite.current
    pendingInvite.current = undefined
    if (invite) join(invite)
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
      body = <Passphrase mode={screen.name === 'setup' ? 'setup' : 'unlock'} submit={(pass) => enter(screen.name === 'setup' ? 'setup' : 'unlock', pass)} />
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
          lock={() => {
            void p!.lock().then(() => {
              phone.current = undefined
              setScreen({ name: 'locked' })
            })
          }}
        />
      )
      break
    case 'plan': {
      const session = p!.get(screen.id)
      const back = (): void => setScreen({ name: 'home' })
      body = session.role === 'core' ? <Plan key={screen.id} session={session} origin={location.origin} back={back} /> : <Brief key={screen.id} session={session} back={back} />
      break
    }
    case 'settings':
      body = (
        <Settings
          settings={p!.settings}
          change={(patch) =>
            void p!.updateSettings(patch).then(() => {
              setDiscreet(p!.settings.discreet)
              rerender((n) => n + 1)
            })
          }
          back={() => setScreen({ name: 'home' })}
        />
      )
      break
  }

  const line = crypto === 'ready' ? strings.ready : crypto === 'failed' ? strings.cryptoFailed : strings.loading
  return (
    <main class="screen">
      <h1>{discreet ? strings.discreetName : strings.appName}</h1>
      {body}
      {install && (screen.name === 'home' || screen.name === 'setup') && (
        <button type="button" class="secondary" onClick={install}>
          {strings.install}
        </button>
      )}
      <footer class="muted">
        <p class="status" role={crypto === 'failed' ? 'alert' : undefined} data-crypto={crypto}>
          {line}
        </p>
        <p class="build">{strings.version(buildId)}</p>
      </footer>
    </main>
  )
}
