// What the app needs before anyone unlocks: where its storage is, which server it
// talks to, and whether it was set up already.
import { Vault, openBlossomDB, type BlossomDB } from '../store'
import { defaultSignalingUrl, ServerIce, type TransportSettings } from '../transport'

export interface Device {
  readonly db: BlossomDB
  readonly transport: TransportSettings
}

/** One per page, kept across a wipe (it holds nothing of the phone's). */
let serverIce: ServerIce | undefined

export async function openDevice(location: { protocol: string; host: string }): Promise<Device> {
  // The server that served the app offers its STUN and TURN servers (src/server/ice.ts).
  if (!serverIce) {
    serverIce = new ServerIce(`${location.protocol}//${location.host}/network`)
    serverIce.start()
  }
  return {
    db: await openBlossomDB(),
    transport: { signalingUrls: [defaultSignalingUrl(location)], iceServers: [], serverIce, relayOnly: false },
  }
}

export const isSetUp = (device: Device): Promise<boolean> => Vault.exists(device.db)
