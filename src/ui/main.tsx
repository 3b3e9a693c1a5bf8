/// <reference types="vite/client" />
// Entry of the app: renders the shell at once, loads libsodium in the background, and registers
// the service worker (workbox-window) that makes the app work offline after the first visit.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Workbox } from 'workbox-window'
import { App, type CryptoState } from './App'
import type * as Model from '../model'
import { UpdatePrompt, type UpdateSource } from './UpdatePrompt'
import './styles.css'

declare const __BLOSSOM_BUILD_ID__: string

/** How often a long-open app asks for a new version (only while the browser thinks it is online). */
const UPDATE_CHECK_MS = 60 * 60 * 1000
/** If the new worker has not taken over by then, reload anyway (bounded, never stuck on "Reloading"). */
const RELOAD_FALLBACK_MS = 10_000

function noUpdates(): UpdateSource {
  return { onWaiting: () => () => undefined, apply: () => location.reload() }
}

/**
 * Registers /sw.js and reports a waiting new version. A new version never activates by itself:
 * only apply() (the user pressed "Reload") tells it to skip waiting.
 */
function serviceWorkerUpdates(): UpdateSource {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return noUpdates()
  const container = navigator.serviceWorker
  const wb = new Workbox('/sw.js', { scope: '/' })
  const listeners = new Set<() => void>()
  let registration: ServiceWorkerRegistration | undefined
  let waiting = false

  const notify = (): void => {
    if (waiting) return
    waiting = true
    for (const listener of listeners) listener()
  }
  // A worker waits only when an older one is active, i.e. this is an update, never the first install.
  const check = (): void => {
    if (registration?.waiting && container.controller) notify()
  }

  wb.addEventListener('waiting', () => {
    if (container.controller) notify()
  })
  wb.register().then(
    (reg) => {
      if (reg === undefined) return
      registration = reg
      // workbox-window misses an update the browser started (on navigation) before register() ran.
      reg.installing?.addEventListener('statechange', check)
      reg.addEventListener('updatefound', () => reg.installing?.addEventListener('statechange', check))
      check()
    },
    () => undefined, // no service worker (private mode, blocked): the app still runs while online
  )
  setInterval(() => {
    if (navigator.onLine) wb.update().catch(() => undefined)
  }, UPDATE_CHECK_MS)

  return {
    onWaiting(callback) {
      listeners.add(callback)
      if (waiting) callback()
      return () => listeners.delete(callback)
    },
    apply() {
      const reload = (): void => location.reload()
      if (!registration?.waiting) return reload() // another tab already switched to it
      container.addEventListener('controllerchange', reload, { once: true })
      setTimeout(reload, RELOAD_FALLBACK_MS)
      wb.messageSkipWaiting()
    },
  }
}

function Root({ updates }: { updates: UpdateSource }) {
  const [crypto, setCrypto] = useState<CryptoState>('loading')
  const [model, setModel] = useState<typeof Model>()
  useEffect(() => {
    // libsodium (wasm) and the model are chunks of their own; the shell paints before they arrive.
    Promise.all([import('../crypto'), import('../model')])
      .then(async ([crypto, m]) => {
        await crypto.cryptoReady()
        return m
      })
      .then(
        (m) => {
          setModel(() => m)
          setCrypto('ready')
        },
        () => setCrypto('failed'),
      )
  }, [])
  return (
    <>
      <App crypto={crypto} buildId={__BLOSSOM_BUILD_ID__} model={model} />
      <UpdatePrompt updates={updates} />
    </>
  )
}

const root = document.getElementById('app')
if (root !== null) {
  root.textContent = '' // the static "loading" text from index.html
  render(<Root updates={serviceWorkerUpdates()} />, root)
}
