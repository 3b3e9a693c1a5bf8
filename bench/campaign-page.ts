// One phone of the real-WebRTC campaign benchmark (bench/campaign.ts), in a Chromium page: Vite
// bundles this file into a small page the app's own server serves (as the time-lock browser test
// does). A coordinator's page runs its campaign seat and its cell's brief in RoomLinks (patched
// y-webrtc over Chromium's WebRTC, the server relay as set); a participant's page runs the cell's
// brief in a RoomLink and a BriefView that opens the location once released. Times are Date.now()
// in the page: every page's clock is this machine's.
import * as Y from 'yjs'
import { cryptoReady, fromBase64Url, newIdentity } from '../src/crypto'
import { SecureDoc } from '../src/doc'
import { accessFromJson } from '../src/model/access'
import { BriefView } from '../src/model/brief'
import type { StageId } from '../src/model/stage'
import { RoomLink, type TransportSettings } from '../src/transport'
import { CoordinatorPhone, type CoordinatorState, type ParticipantState } from './campaign-cell'

export interface PageTransport {
  readonly signalingUrl: string
  readonly serverRelay: boolean
}

/** What the page puts on window, for the benchmark to call through page.evaluate. */
export interface CampaignPage {
  coordinator(state: CoordinatorState, transport: PageTransport): void
  participant(state: ParticipantState, transport: PageTransport): void
  /** WebRTC peers connected, per room this phone is in. */
  peers(): number[]
  /** A coordinator gives Go now; returns when (Date.now() just before the order is written). */
  go(): number
  releasedAt(): number | undefined
  revealedAt(): number | undefined
  /** Anything thrown in the phone's own code (a defect: the run's figures are void). */
  errors(): string[]
  leave(): void
}

const settings = (t: PageTransport): TransportSettings => ({ signalingUrls: [t.signalingUrl], iceServers: [], relayOnly: false, serverRelay: t.serverRelay })

let links: RoomLink[] = []
let coordinator: CoordinatorPhone | undefined
let participantDoc: SecureDoc | undefined
let revealedAt: number | undefined
const errors: string[] = []
addEventListener('error', (e) => errors.push(String(e.message)))
addEventListener('unhandledrejection', (e) => errors.push(String(e.reason)))

const page: CampaignPage = {
  coordinator(state, transport) {
    const phone = new CoordinatorPhone(state, [transport.signalingUrl])
    coordinator = phone
    // As the app's session does: the seat joins the campaign's room (and answers its invites), the brief its own.
    phone.campaign.connect(accessFromJson(state.campaign), settings(transport))
    links = [new RoomLink(phone.brief, accessFromJson(state.brief).keys.get(0)!, settings(transport))]
  },
  participant(state, transport) {
    const access = accessFromJson(state.brief)
    const doc = new SecureDoc({ docId: access.docId, keys: access.keys, roster: access.roster, identity: newIdentity() })
    Y.applyUpdate(doc.transport, fromBase64Url(state.briefDoc))
    participantDoc = doc
    const view = new BriefView(doc.plain, access.docId, () => doc.writers())
    revealedAt = undefined
    view.onChange(() => {
      if (revealedAt === undefined && view.isReleased(state.stage as StageId)) revealedAt = Date.now()
    })
    links = [new RoomLink(doc, access.keys.get(0)!, settings(transport))]
  },
  peers() {
    const campaignPeers = coordinator ? [coordinator.campaign.status()?.peers ?? 0] : []
    return [...campaignPeers, ...links.map((l) => l.status().peers)]
  },
  go() {
    const at = Date.now()
    coordinator!.campaign.order('go')
    return at
  },
  releasedAt: () => coordinator?.releasedAt,
  revealedAt: () => revealedAt,
  errors: () => errors,
  leave() {
    for (const link of links) link.leave()
    links = []
    void coordinator?.close()
    void participantDoc?.close()
    coordinator = undefined
    participantDoc = undefined
  },
}

;(window as unknown as { campaign: CampaignPage }).campaign = page
await cryptoReady()
document.body.dataset['ready'] = 'yes'
