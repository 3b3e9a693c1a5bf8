import type { ActionSession } from '../../model'
import { strings } from '../strings'
import { useLive } from './live'

/** Online or offline, and how many phones are connected directly. */
export function Status({ session }: { session: ActionSession }) {
  const status = useLive(() => session.status(), (cb) => session.onStatus(cb), 2000)
  return (
    <>
      <p role="status" class={status.online ? 'online' : 'offline'} data-peers={status.peers}>
        {status.online ? strings.online(status.peers) : strings.offline}
      </p>
      {status.lastReceivedAt !== undefined && <p class="muted">{strings.lastReceived(new Date(status.lastReceivedAt).toLocaleTimeString())}</p>}
    </>
  )
}
