// This phone's own settings, kept encrypted in the vault like everything else.
import { fromUtf8, utf8 } from '../crypto'
import type { TransportSettings } from '../transport'

export interface DeviceSettings {
  /** Relay frames through the signaling server beside the WebRTC mesh. */
  readonly serverRelay: boolean
  /** Use TURN relays only, so other phones never learn this phone's IP address. */
  readonly relayOnly: boolean
  readonly iceServers: readonly RTCIceServer[]
  /** Show a neutral name and icon in the tab and window title. */
  readonly discreet: boolean
  /** Lock after this many minutes without use. */
  readonly idleLockMinutes: number
  /** The app's language, a BCP 47 tag the UI ships; '' follows the phone's. */
  readonly language: string
}

export const DEFAULT_SETTINGS: DeviceSettings = { serverRelay: true, relayOnly: false, iceServers: [], discreet: false, idleLockMinutes: 5, language: '' }

export function decodeSettings(bytes: Uint8Array | undefined): DeviceSettings {
  if (!bytes) return DEFAULT_SETTINGS
  try {
    const j = JSON.parse(fromUtf8(bytes)) as Partial<DeviceSettings>
    return {
      serverRelay: typeof j.serverRelay === 'boolean' ? j.serverRelay : DEFAULT_SETTINGS.serverRelay,
      relayOnly: typeof j.relayOnly === 'boolean' ? j.relayOnly : DEFAULT_SETTINGS.relayOnly,
      iceServers: Array.isArray(j.iceServers) ? j.iceServers : DEFAULT_SETTINGS.iceServers,
      discreet: j.discreet === true,
      idleLockMinutes: typeof j.idleLockMinutes === 'number' && j.idleLockMinutes >= 1 && j.idleLockMinutes <= 60 ? j.idleLockMinutes : DEFAULT_SETTINGS.idleLockMinutes,
      language: typeof j.language === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(j.language) ? j.language : '',
    }
  } catch {
    return DEFAULT_SETTINGS
  }
}

export const encodeSettings = (s: DeviceSettings): Uint8Array => utf8(JSON.stringify(s))

export const applySettings = (base: TransportSettings, s: DeviceSettings): TransportSettings => ({
  ...base,
  serverRelay: s.serverRelay,
  relayOnly: s.relayOnly,
  iceServers: s.iceServers.length > 0 ? s.iceServers : base.iceServers,
})
