// What the app needs before anyone unlocks: where its storage is, which server it
// talks to, and whether it was set up already.
import { Vault, openBlossomDB, type BlossomDB } from '../store'
import { defaultSignalingUrl, type TransportSettings } from '../transport'

export interface Device {
  readonly db: BlossomDB
  readonly transport: TransportSettings
}

export async function openDevice(location: { protocol: string; host: string }): Promise<Device> {
  return {
    db: await openBlossomDB(),
    transport: { signalingUrls: [defaultSignalingUrl(location)], iceServers: [], relayOnly: false },
  }
}

export const isSetUp = (device: Device): Promise<boolean> => Vault.exists(device.db)
