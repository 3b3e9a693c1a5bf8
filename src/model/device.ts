// What the app needs before anyone unlocks: where its storage is, which server it
// talks to, and whether it was set up already.
import { Vault, openBlossomDB, type BlossomDB } from '../store'
import { defaultSignalingUrl, type ServerIceSource, type TransportSettings } from '../transport'

export interface Device {
  readonly db: BlossomDB
  readonly transport: TransportSettings
}

/** One per page, kept across a wipe (it holds nothing of the phone's). */
let serverIce: ServerIceSource | undefined

/**
 * The STUN and TURN servers the app's server offers (src/server/ice.ts). Its code loads and it first
 * asks once the phone is unlocked (warm), before any room connects: the first screen waits for neither.
 */
function serverIceOf(location: { protocol: string; host: string }): ServerIceSource {
  let asking: { readonly servers: readonly RTCIceServer[] } | undefined
  let warming = false
  return {
    get servers() {
      return asking?.servers ?? []
    },
    warm() {
      if (warming) return
      warming = true
      void import('../transport/network').then(({ ServerIce }) => {
        const ice = new ServerIce(`${location.protocol}//${location.host}/network`)
        ice.start()
        asking = ice
      })
    },
  }
}

export async function openDevice(location: { protocol: string; host: string }): Promise<Device> {
  serverIce ??= serverIceOf(location)
  return {
    db: await openBlossomDB(),
    transport: { signalingUrls: [defaultSignalingUrl(location)], iceServers: [], serverIce, relayOnly: false },
  }
}

export const isSetUp = (device: Device): Promise<boolean> => Vault.exists(device.db)
