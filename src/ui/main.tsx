/// <reference types="vite/client" />
// Entry of the app: renders the shell at once, loads libsodium in the background, and registers
// the service worker that makes the app work offline after the first visit (updates.ts).
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { App, type CryptoState } from './App'
import type * as Model from '../model'
import { onLocaleChange, phoneLocale, setLocale } from './i18n'
import { UpdatePrompt } from './UpdatePrompt'
import { noUpdates, serviceWorkerUpdates, type RunningBuild, type UpdateSource } from './updates'
import './styles.css'

declare const __BLOSSOM_BUILD_ID__: string

function Root({ updates }: { updates: UpdateSource }) {
  const [crypto, setCrypto] = useState<CryptoState>('loading')
  const [model, setModel] = useState<typeof Model>()
  const [running, setRunning] = useState<RunningBuild>()
  // Every screen takes its words when it renders: a new language renders the whole tree again.
  const [, relabel] = useState(0)
  useEffect(() => onLocaleChange(() => relabel((n) => n + 1)), [])
  useEffect(() => void updates.running().then(setRunning, () => undefined), [updates])
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
      <App crypto={crypto} buildId={__BLOSSOM_BUILD_ID__} running={running} model={model} />
      <UpdatePrompt updates={updates} />
    </>
  )
}

const root = document.getElementById('app')
if (root !== null) {
  // The phone's language first (its first screens' messages are a small precached chunk; English
  // is built in); the rest of its words load with the screens that say them.
  void setLocale(phoneLocale(), 'shown')
    .catch(() => undefined)
    .then(() => {
      root.textContent = '' // the static "loading" text from index.html
      render(<Root updates={import.meta.env.PROD ? serviceWorkerUpdates() : noUpdates()} />, root)
    })
}
