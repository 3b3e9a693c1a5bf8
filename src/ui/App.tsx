// Placeholder screen until the plan screen lands: the name, whether encryption has loaded, the build.
import { strings } from './strings'

export type CryptoState = 'loading' | 'ready' | 'failed'

export interface AppProps {
  crypto: CryptoState
  buildId: string
}

export function App({ crypto, buildId }: AppProps) {
  const line = crypto === 'ready' ? strings.ready : crypto === 'failed' ? strings.cryptoFailed : strings.loading
  return (
    <main class="screen">
      <h1>{strings.appName}</h1>
      <p class="status" role={crypto === 'failed' ? 'alert' : undefined} data-crypto={crypto}>
        {line}
      </p>
      <p class="build">{strings.version(buildId)}</p>
    </main>
  )
}
