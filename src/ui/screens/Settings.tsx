import type { DeviceSettings } from '../../model'
import { strings } from '../strings'

export interface SettingsProps {
  readonly settings: DeviceSettings
  readonly change: (patch: Partial<DeviceSettings>) => void
  readonly back: () => void
}

export function Settings({ settings, change, back }: SettingsProps) {
  return (
    <div class="stack">
      <h2>{strings.settingsTitle}</h2>
      <label class="check">
        <input type="checkbox" checked={settings.serverRelay} onChange={(e) => change({ serverRelay: e.currentTarget.checked })} />
        {strings.serverRelay}
      </label>
      <label class="check">
        <input type="checkbox" checked={settings.relayOnly} onChange={(e) => change({ relayOnly: e.currentTarget.checked })} />
        {strings.relayOnly}
      </label>
      <p class="muted">{strings.ipNotice}</p>
      <label class="check">
        <input type="checkbox" checked={settings.discreet} onChange={(e) => change({ discreet: e.currentTarget.checked })} />
        {strings.discreet}
      </label>
      <button type="button" class="secondary" onClick={back}>
        {strings.back}
      </button>
    </div>
  )
}
