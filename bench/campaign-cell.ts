// A coordinator's phone in a campaign, for the campaign benchmarks: the simulated campaign
// (bench/campaign.ts) runs it in Node, the real-WebRTC one in Chromium pages (bench/campaign-page.ts).
//
// Real code: the campaign document (a SecureDoc every coordinator writes) with the model's own
// Campaign seat, whose signed orders campaignTiming folds; the cell's brief and plan (SecureDocs the
// coordinator, the cell's one core phone, writes). What stands in for the app's Session is only how
// it acts on the order in force (session.ts applyCampaign and goNow, the same calls in the same
// order): the full Session needs a store, a clock and a vault, none of which go at Go now.
import * as Y from 'yjs'
import { fromBase64Url, identityFromSeed, publicPart, randomBytes, randomKey, toBase64Url, type DeviceIdentity, type SecretKey } from '../src/crypto'
import { newDocId, SecureDoc } from '../src/doc'
import { accessFromJson, accessToJson, type AccessJson, type DocAccess } from '../src/model/access'
import { BriefEditor, BriefView } from '../src/model/brief'
import { Campaign } from '../src/model/campaign'
import type { CampaignTiming } from '../src/model/campaign-order'
import { newStageId, type StageId } from '../src/model/stage'

/** What one coordinator's phone holds before go, as strings: it crosses into a browser page. */
export interface CoordinatorState {
  readonly campaign: AccessJson
  /** The coordinator's identity in this campaign only, and the campaign document's transport state. */
  readonly campaignSeed: string
  readonly campaignDoc: string
  /** The cell's core identity, and its brief and plan. */
  readonly coreSeed: string
  readonly brief: AccessJson
  readonly briefDoc: string
  readonly plan: AccessJson
  readonly planDoc: string
  /** The cell's sealed location and its key (the plan holds it; here, beside it). */
  readonly stage: string
  readonly stageKey: string
  readonly cell: { readonly cell: string; readonly name: string; readonly timeZone: string }
}

/** What a participant's phone of a cell holds before go. */
export interface ParticipantState {
  readonly brief: AccessJson
  readonly briefDoc: string
  readonly stage: string
}

const LOCATION = { text: 'The fountain on the north side of the square', lat: 52.52, lon: 13.405 }
const open = (access: DocAccess, identity: DeviceIdentity, state?: string): SecureDoc => {
  const doc = new SecureDoc({ docId: access.docId, keys: access.keys, roster: access.roster, identity })
  if (state) Y.applyUpdate(doc.transport, fromBase64Url(state))
  return doc
}
/** The Campaign seat's change handler runs in a microtask: let it (and what it writes) run. */
export const settled = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await Promise.resolve()
}

export class CoordinatorPhone {
  readonly campaignDoc: SecureDoc
  readonly campaign: Campaign
  readonly brief: SecureDoc
  readonly plan: SecureDoc
  /** When this phone released its cell's location (Date.now()), once it has. */
  releasedAt: number | undefined
  private readonly core: DeviceIdentity
  private readonly stage: StageId
  private readonly stageKey: SecretKey
  private readonly view: BriefView
  private readonly editor: BriefEditor
  private written: Uint8Array[] = []

  constructor(
    readonly state: CoordinatorState,
    signalingUrls: readonly string[] = [],
  ) {
    const campaignAccess = accessFromJson(state.campaign)
    this.core = identityFromSeed(fromBase64Url(state.coreSeed))
    this.campaignDoc = open(campaignAccess, identityFromSeed(fromBase64Url(state.campaignSeed)), state.campaignDoc || undefined)
    this.brief = open(accessFromJson(state.brief), this.core, state.briefDoc || undefined)
    this.plan = open(accessFromJson(state.plan), this.core, state.planDoc || undefined)
    this.stage = state.stage as StageId
    this.stageKey = fromBase64Url(state.stageKey) as SecretKey
    this.view = new BriefView(this.brief.plain, this.brief.docId, () => this.brief.writers())
    this.editor = new BriefEditor(this.brief.plain, this.brief.docId)
    this.brief.transport.on('update', (u: Uint8Array) => this.written.push(u))
    this.campaign = new Campaign(this.campaignDoc, campaignAccess, identityFromSeed(fromBase64Url(state.campaignSeed)), { cell: () => state.cell, apply: (t) => this.apply(t), changed: () => {} }, signalingUrls)
  }

  /** The brief's updates since the last call, as one (at go: the release, as the cell's mesh gets it). */
  takeWritten(): Uint8Array | undefined {
    const written = this.written
    this.written = []
    return written.length ? Y.mergeUpdates(written) : undefined
  }

  /** Everything this phone holds, to open it again elsewhere (a browser page). */
  save(): CoordinatorState {
    const encode = (doc: SecureDoc): string => toBase64Url(Y.encodeStateAsUpdate(doc.transport))
    return { ...this.state, campaignDoc: encode(this.campaignDoc), briefDoc: encode(this.brief), planDoc: encode(this.plan) }
  }

  participant(): ParticipantState {
    return { brief: this.state.brief, briefDoc: toBase64Url(Y.encodeStateAsUpdate(this.brief.transport)), stage: this.state.stage }
  }

  async close(): Promise<void> {
    this.campaign.close()
    await Promise.all([this.campaignDoc, this.brief, this.plan].map((doc) => doc.close()))
  }

  /** As session.ts applyCampaign: once per order (recorded in the plan); Go now is goNow. */
  private apply(t: CampaignTiming): void {
    if (!t.order) return
    const m = this.plan.plain.getMap('campaign')
    if (m.get('applied') === t.order.id) return
    const b = this.view.read()
    m.set('applied', t.order.id)
    this.plan.flush()
    if (b.state === 'called-off') return
    if (t.state === 'went') {
      // goNow: go is now, and every sealed stage is released (this cell has one, the location).
      this.editor.setTimes({ goAt: Date.now() })
      this.editor.setState('scheduled')
      if (!this.editor.isReleased(this.stage)) this.editor.release(this.stage, this.stageKey, this.core)
      this.brief.flush()
      this.releasedAt = Date.now()
      return
    }
    if (t.goAt !== undefined && b.goAt !== t.goAt) {
      this.editor.setTimes({ goAt: t.goAt })
      this.brief.flush()
    }
  }
}

/**
 * A campaign of `cells` cells as every coordinator holds it before go: each cell's entry in the
 * campaign, the campaign scheduled an hour ahead (each cell acted on it), each brief with the
 * location sealed. Returns the coordinators' phones, live (in this process).
 */
export async function campaignBeforeGo(cells: number): Promise<CoordinatorPhone[]> {
  const campaignSeeds = Array.from({ length: cells }, () => randomBytes(64))
  const campaign: DocAccess = { docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: campaignSeeds.map((s) => publicPart(identityFromSeed(s))) } }
  const phones = campaignSeeds.map((seed, i) => {
    const coreSeed = randomBytes(64)
    const core = identityFromSeed(coreSeed)
    const access = (): DocAccess => ({ docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: [publicPart(core)] } })
    const brief = access()
    const stage = newStageId()
    const stageKey = randomKey()
    // The brief as the core wrote it before go: the staging point, and the location sealed.
    const doc = open(brief, core)
    const editor = new BriefEditor(doc.plain, brief.docId)
    editor.set('stagingPoint', `The bakery on the corner of ${i + 1}th and Main`)
    editor.sealStage(stage, 'location', stageKey, LOCATION)
    doc.flush()
    const briefDoc = toBase64Url(Y.encodeStateAsUpdate(doc.transport))
    void doc.close()
    const state: CoordinatorState = {
      campaign: accessToJson(campaign),
      campaignSeed: toBase64Url(seed),
      campaignDoc: '',
      coreSeed: toBase64Url(coreSeed),
      brief: accessToJson(brief),
      briefDoc,
      plan: accessToJson(access()),
      planDoc: '',
      stage,
      stageKey: toBase64Url(stageKey),
      cell: { cell: toBase64Url(randomBytes(16)), name: `Cell ${i + 1}`, timeZone: 'Europe/Berlin' },
    }
    return new CoordinatorPhone(state)
  })
  // Every coordinator's seat writes its cell's entry; then all hold all; then one schedules go.
  const sync = async (): Promise<void> => {
    await settled()
    const all = Y.mergeUpdates(phones.map((p) => Y.encodeStateAsUpdate(p.campaignDoc.transport)))
    for (const p of phones) Y.applyUpdate(p.campaignDoc.transport, all)
    await settled()
  }
  await sync()
  phones[0]!.campaign.order('schedule', Date.now() + 3600_000)
  await sync()
  for (const p of phones) p.takeWritten()
  return phones
}
