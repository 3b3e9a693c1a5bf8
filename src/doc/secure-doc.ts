// A document that exists in the clear only in this device's memory.
//
//   plain      the plaintext Y.Doc the model edits; never stored, never sent
//   transport  a Y.Doc whose map `frames` holds frame id -> frame bytes: this is
//              what peers sync (y-webrtc) and what the store keeps
//
// Local edits are batched into frames. A frame from anywhere (the transport doc,
// the server relay, the store) is applied only if it parses, belongs to this
// document, its signature holds, its author may write its epoch, and it opens.
// Anyone in the room can write to the transport doc, so honest replicas remove
// entries that can never be valid and put back valid frames someone deleted.
// An epoch ends with a closure frame (closure.ts): from then on only the frames it
// names count in that epoch, the next epoch's writers are the ones it names, and the
// next key is the one it sealed to this device. When closures compete, epochs.ts says
// which one ends the epoch, the same on every phone.
import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { CryptoError, toBase64Url, wipe, type DeviceIdentity, type DocId, type FrameId, type SecretKey, type SigningPublicKey } from '../crypto'
import { decodeClosure, keyCommitOf, makeClosure, openNextKey, reaches, type Closure } from './closure'
import { settleEpoch, type Settlement } from './epochs'
import { FrameKind, frameIdOf, openFrame, parseFrame, sealFrame, type FrameFault, type SignedFrame } from './frame'
import { Roster, type RosterBase } from './roster'
import { decodeRosterEntry, decodeSnapshot, encodeRosterEntry, encodeSnapshot, type Coverage } from './payload'
import type { PublicIdentity } from '../crypto'
import type { DocStore } from '../store'

/** What happened to one incoming frame. */
export type Verdict =
  | 'accepted'
  | 'duplicate' // already held, or already inside a snapshot we hold
  | FrameFault // 'malformed' | 'forged' (also: signed for another document): can never be valid
  | 'unauthorized' // signed, but its author is not (yet) a writer: held back
  | 'unknown-epoch' // signed, but we hold no key for its epoch (yet): held back
  | 'undecryptable' // signed by a writer, but does not open under the epoch's key
  | 'bad-payload' // opened, but what is inside is not valid
  | 'closed' // in an epoch whose closure does not name it: written after the epoch ended
  | 'revoked' // a roster entry naming someone removed from this document

export type DocStats = Record<Verdict | 'healed' | 'garbage-removed' | 'pending-dropped', number>

/** What a closure asks for: who is out, who writes next, who reads next (writers included). */
export interface ClosureRequest {
  readonly removed: readonly SigningPublicKey[]
  readonly writers: readonly PublicIdentity[]
  readonly stay: readonly PublicIdentity[]
}

export interface SecureDocOptions {
  readonly docId: DocId
  /** Document key per epoch. The highest epoch is the one new frames are written in. */
  readonly keys: ReadonlyMap<number, SecretKey>
  readonly roster: RosterBase
  readonly identity: DeviceIdentity
  readonly store?: DocStore
  /** How long local edits gather before they become one frame. */
  readonly batchMs?: number
}

export type DocErrorCode = 'read-only' | 'no-key'

export class DocError extends Error {
  override readonly name = 'DocError'
  constructor(readonly code: DocErrorCode, message: string) {
    super(message)
  }
}

type DocEvents = {
  /** A frame entered the log: `local` when this device wrote it. The relay sends local ones. */
  frame: (frame: SignedFrame, local: boolean) => void
  /** Storage failed (full, say); everything stays in memory and is saved again on the next change. */
  'store-error': (error: unknown) => void
  /** The keys this device holds changed (a closure's next key, or a race lost): the model saves them and moves rooms. */
  keys: () => void
  /** A closure arrived that excludes frames already applied here: reopen the document from the store. */
  rewind: () => void
  /** The closures of an epoch changed (a removal, a race, a conflict). */
  epochs: (epoch: number) => void
  /** A writer was added to the roster. */
  roster: () => void
}

/** Frames we cannot judge yet (unknown author or epoch) are held up to these bounds. */
export const MAX_PENDING_FRAMES = 4096
export const MAX_PENDING_PER_AUTHOR = 256
export const MAX_PENDING_BYTES = 16 * 1024 * 1024
/** Frames dropped from the hold are remembered (by id) up to this many, to judge again later. */
const MAX_DROPPED_IDS = 16_384
/** Stored updates gather until this many, then one full state replaces them. */
const APPENDS_BEFORE_REPLACE = 100
/** Removing this much garbage triggers a full rewrite, so the garbage leaves the disk too. */
const GARBAGE_BEFORE_REPLACE = 32
const DEFAULT_BATCH_MS = 300

// Transaction origins, so each observer knows who caused a change.
const REMOTE = Symbol('remote')
const STORED = Symbol('stored')

const authorKey = (pk: SigningPublicKey): string => toBase64Url(pk)
/** A frame's epoch straight from its header (frame.ts), before any check: for sorting and scanning only. */
const readEpoch = (bytes: Uint8Array): number => ((bytes[2]! << 24) >>> 0) + (bytes[3]! << 16) + (bytes[4]! << 8) + bytes[5]!

export class SecureDoc extends ObservableV2<DocEvents> {
  readonly docId: DocId
  readonly plain = new Y.Doc()
  readonly transport = new Y.Doc()
  readonly frames: Y.Map<Uint8Array> = this.transport.getMap('frames')
  readonly stats: DocStats = {
    accepted: 0,
    duplicate: 0,
    malformed: 0,
    forged: 0,
    unauthorized: 0,
    'unknown-epoch': 0,
    undecryptable: 0,
    'bad-payload': 0,
    closed: 0,
    revoked: 0,
    healed: 0,
    'garbage-removed': 0,
    'pending-dropped': 0,
  }

  private readonly identity: DeviceIdentity
  private readonly roster: Roster
  private readonly keys = new Map<number, SecretKey>()
  private readonly store: DocStore | undefined
  private readonly batchMs: number

  /** Valid frames we hold and would put back if deleted (frames inside a snapshot are dropped). */
  private readonly accepted = new Map<FrameId, SignedFrame>()
  private readonly pending = new Map<FrameId, SignedFrame>()
  /** Held frames per author, oldest first: a flood from one key evicts that key's frames. */
  private readonly pendingBy = new Map<string, FrameId[]>()
  private pendingBytes = 0
  /** Frames evicted from the hold that may still sit in the transport doc. */
  private readonly dropped = new Set<FrameId>()
  private garbageSinceReplace = 0
  /** Counters of every frame applied, per author: what a snapshot can claim to cover. */
  private readonly counters = new Map<string, Set<number>>()
  private readonly authorKeys = new Map<string, SigningPublicKey>()
  /** Next free counter per author (also raised by snapshots, whose frames we may never see). */
  private readonly highWater = new Map<string, number>()
  private readonly snapshots = new Map<FrameId, Coverage>()
  /** Valid closures per epoch, and what they settle. */
  private readonly closures = new Map<number, Map<FrameId, { author: string; closure: Closure }>>()
  private readonly settled = new Map<number, Settlement & { closure: Closure | undefined }>()
  /** Every frame applied per epoch (closures aside), also those a snapshot covers since. */
  private readonly epochFrames = new Map<number, Map<FrameId, SigningPublicKey>>()
  /** Epochs whose closures changed since they were last settled. */
  private readonly unsettled = new Set<number>()
  /** Keys set aside by commitment: a key a welcome gave, or one a race took away, may be the winner's. */
  private readonly spare = new Map<string, SecretKey>()
  /** This device's own frames a closure left out: sealed again in the next epoch it writes. */
  private carry: { kind: FrameKind; payload: Uint8Array }[] = []
  /**
   * Per snapshot this device wrote: its own edits the snapshot folded. If a closure leaves the
   * snapshot out, these are what it carries into the next epoch, never the snapshot's state, which
   * holds what others wrote too (a writer being removed, say). Kept until a closure names the
   * snapshot; in memory only (after a restart, such a snapshot left out takes its edits with it).
   */
  private readonly folded = new Map<FrameId, Uint8Array[]>()
  /** Who each roster entry added (and who signed it, in which epoch), so an entry a closure leaves out can be taken back. */
  private readonly rosterEntries = new Map<FrameId, { member: PublicIdentity; author: string; epoch: number }>()
  /** Set when a roster entry or a key arrives: held frames may now be judged. */
  private retryPending = false
  /** Frames from outside, applied but not yet in the transport doc (see receive). */
  private readonly unshared = new Map<FrameId, ReturnType<typeof setTimeout>>()
  private shareAfterMs = 0

  private queue: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private saving: Promise<void> = Promise.resolve()
  private appendsSinceReplace = 0
  private storeFailed = false
  private closed = false

  constructor(options: SecureDocOptions) {
    super()
    if (options.keys.size === 0) throw new DocError('no-key', 'A document needs at least one key.')
    this.docId = options.docId
    this.identity = options.identity
    this.roster = new Roster(options.roster)
    for (const [epoch, key] of options.keys) this.keys.set(epoch, key.slice() as SecretKey)
    this.store = options.store
    this.batchMs = options.batchMs ?? DEFAULT_BATCH_MS

    this.plain.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.enqueue(update)
    })
    this.frames.observe((event, txn) => {
      if (txn.origin !== this) this.onTransportChange(event)
    })
    this.transport.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== STORED) this.persist(update)
    })
  }

  /** Opens a document and replays what the store holds for it. */
  static async open(options: SecureDocOptions): Promise<SecureDoc> {
    const doc = new SecureDoc(options)
    if (options.store) {
      // One batch: closures are judged before the frames of the epochs they close.
      const updates = await options.store.load(options.docId)
      if (updates.length > 0) Y.applyUpdate(doc.transport, Y.mergeUpdates(updates), STORED)
    }
    return doc
  }

  get epoch(): number {
    return Math.max(...this.keys.keys())
  }

  /** A writer of the current epoch, while it is open (a settled epoch, closed or in conflict, takes no more). */
  get canWrite(): boolean {
    return this.roster.isWriter(this.identity.signingPublicKey, this.epoch) && !this.settled.has(this.epoch)
  }

  writers(epoch = this.epoch): PublicIdentity[] {
    return this.roster.writers(epoch)
  }

  /**
   * Edits held one frame each that a snapshot written now would fold (those after a gap in their
   * author's counters stay loose whatever is written: counting them would compact for ever).
   */
  get looseFrames(): number {
    let n = 0
    const prefix = new Map<string, number>()
    for (const f of this.accepted.values()) {
      if (f.kind !== FrameKind.update) continue
      const author = authorKey(f.author)
      if (!prefix.has(author)) prefix.set(author, this.prefix(author))
      if (f.counter < prefix.get(author)!) n++
    }
    return n
  }

  /**
   * Per author, how many of its frames from counter 0 on this replica holds, or holds a snapshot of,
   * without a gap: a summary another replica answers with framesPast (a catch-up in frames, not in
   * the transport doc's history, which keeps a trace of every frame a snapshot removed).
   */
  heldCounts(): Map<string, number> {
    const authors = new Set(this.counters.keys())
    for (const coverage of this.snapshots.values()) for (const author of coverage.keys()) authors.add(author)
    return new Map([...authors].map((author) => [author, this.prefix(author)]))
  }

  /** The frames this replica holds that one with `counts` lacks (each author's frames from its count on; authors are base64url keys). */
  framesPast(counts: ReadonlyMap<string, number>): SignedFrame[] {
    return [...this.accepted.values()].filter((f) => f.counter >= (counts.get(authorKey(f.author)) ?? 0))
  }

  /** Frames held back until a roster entry or an epoch key arrives. */
  get pendingCount(): number {
    return this.pending.size
  }

  /**
   * A frame from outside the transport doc (the server relay). It is applied at once. With
   * `shareAfterMs`, it enters the transport doc only if the mesh has not brought it by then:
   * the author's own entry usually arrives that way, and in a crowd every phone adding its own
   * Yjs entry for the same relayed frame would flood the mesh with N copies of it.
   */
  receive(bytes: unknown, shareAfterMs = 0): Verdict {
    this.shareAfterMs = shareAfterMs
    try {
      const { verdict } = this.ingest(bytes)
      this.settle()
      return verdict
    } finally {
      this.shareAfterMs = 0
    }
  }

  /** A key for another epoch (after a rotation); frames waiting for it are applied. */
  addKey(epoch: number, key: SecretKey): void {
    this.keys.set(epoch, key.slice() as SecretKey)
    this.retryPending = true
    this.settle()
  }

  hasKey(epoch: number): boolean {
    return this.keys.has(epoch)
  }

  /** The epochs this device holds keys for, oldest first. */
  keyEpochs(): number[] {
    return [...this.keys.keys()].sort((x, y) => x - y)
  }

  /** A copy of the key this device holds for `epoch` (it may have come from a closure while opening). */
  keyOf(epoch: number): SecretKey | undefined {
    return this.keys.get(epoch)?.slice() as SecretKey | undefined
  }

  /**
   * Ends the current epoch: writes a closure naming every frame of it this device holds,
   * who is out, who writes next and who reads next (sealed the new key), and moves to
   * the new epoch at once. Another core phone's concurrent closure may win (epochs.ts);
   * then this device takes up that one's key instead ('key' event).
   */
  closeEpoch(request: ClosureRequest): number {
    this.flush()
    const epoch = this.epoch
    const key = this.keys.get(epoch)!
    if (this.hasClosed(epoch)) throw new DocError('read-only', 'This device already closed this epoch.')
    const { payload } = makeClosure(key, {
      prev: this.settled.get(epoch - 1)?.winner,
      seen: this.closures.get(epoch)?.keys() ?? [],
      allow: this.epochFrames.get(epoch)?.keys() ?? [],
      removed: request.removed,
      writers: request.writers,
      stay: request.stay,
    })
    this.write(FrameKind.closure, payload)
    this.settle()
    return this.epoch
  }

  /** The settlement of an epoch: who is out, and the closure that ends it (undefined: still open, or in conflict). */
  settlement(epoch: number): Settlement | undefined {
    return this.settled.get(epoch)
  }

  /** Everyone a settled closure of this document removed, in any epoch. */
  removedWriters(): Set<string> {
    const out = new Set<string>()
    for (const s of this.settled.values()) s.removed.forEach((r) => out.add(r))
    return out
  }

  /** True when the epoch this device reads was closed without a key for it: it was removed. */
  get removedHere(): boolean {
    const s = this.settled.get(this.epoch)
    return s?.winner !== undefined
  }

  /** Does the closure of `epoch` still hand the next key to `member`? (A removal that lost a race.) */
  stillReads(epoch: number, member: SigningPublicKey): boolean {
    const s = this.settled.get(epoch)
    const key = this.keys.get(epoch)
    return !!s?.closure && !!key && reaches(s.closure, key, member)
  }

  /** May this device end the current epoch: a writer of it, the epoch open or in conflict, and no closure of its own there yet? */
  get canClose(): boolean {
    const epoch = this.epoch
    return this.roster.isWriter(this.identity.signingPublicKey, epoch) && this.settled.get(epoch)?.winner === undefined && !this.hasClosed(epoch)
  }

  /** Did this device write a closure of `epoch`? (One each: a second would be equivocation.) */
  hasClosed(epoch: number): boolean {
    const me = authorKey(this.identity.signingPublicKey)
    return [...(this.closures.get(epoch)?.values() ?? [])].some((c) => c.author === me)
  }

  /** Lets `member` write this document from the current epoch on. */
  addWriter(member: PublicIdentity): SignedFrame {
    const frame = this.write(FrameKind.roster, encodeRosterEntry(member))
    this.settle()
    return frame
  }

  /** Turns the edits gathered so far into one frame now. */
  flush(): SignedFrame | undefined {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.queue.length === 0) return undefined
    // Edits wait while the epoch is settled and its next key is not here yet; for a device
    // that is no writer (yet: a new core member before its roster entry arrives) they wait
    // too, and the caller is told.
    if (!this.canWrite) {
      if (this.roster.isWriter(this.identity.signingPublicKey, this.epoch)) return undefined
      throw new DocError('read-only', 'This device may read this document but not change it.')
    }
    const update = this.queue.length === 1 ? this.queue[0] : Y.mergeUpdates(this.queue)
    this.queue = []
    return this.write(FrameKind.update, update)
  }

  /**
   * Writes a snapshot of the whole state and removes the frames it covers, here and
   * in the transport doc, along with frames from keys that write nothing here (a
   * writer knows the roster; nobody heals frames they never accepted). Roster entries
   * are kept: they prove who may write.
   */
  compact(): SignedFrame {
    this.flush()
    const coverage = new Map<string, number>()
    for (const author of this.counters.keys()) coverage.set(author, this.prefix(author))
    const before = [...this.accepted.keys()]
    const own = this.ownEdits()
    const snapshot = this.write(FrameKind.snapshot, encodeSnapshot(coverage, Y.encodeStateAsUpdate(this.plain), this.authorKeys))
    // Writing the snapshot dropped the frames it covers from `accepted`; drop them from the transport doc too.
    const covered = before.filter((id) => !this.accepted.has(id))
    const mine: Uint8Array[] = []
    for (const id of covered) {
      mine.push(...(own.get(id) ?? []))
      this.folded.delete(id)
    }
    this.folded.set(snapshot.id, mine)
    const junk: string[] = []
    this.frames.forEach((bytes, id) => {
      if (this.accepted.has(id as FrameId)) return
      const parsed = parseFrame(bytes, this.docId)
      // Not from a writer of an epoch whose key we hold, or after its closure: can never be applied by anyone honest.
      if (!parsed.ok || !this.keys.has(parsed.frame.epoch) || parsed.frame.kind === FrameKind.roster || parsed.frame.kind === FrameKind.closure) return
      if (!this.roster.isWriter(parsed.frame.author, parsed.frame.epoch) || this.isClosedOut(parsed.frame)) junk.push(id)
    })
    this.transport.transact(() => {
      for (const id of covered) this.frames.delete(id)
      for (const id of junk) this.frames.delete(id)
    }, this)
    for (const id of junk) this.unhold(id as FrameId)
    this.saveAll()
    return snapshot
  }

  /** This device's own edits, per frame it holds: an update's payload, or what a snapshot of its own folded. */
  private ownEdits(): Map<FrameId, Uint8Array[]> {
    const me = authorKey(this.identity.signingPublicKey)
    const own = new Map<FrameId, Uint8Array[]>()
    for (const f of this.accepted.values()) {
      if (authorKey(f.author) !== me) continue
      if (f.kind === FrameKind.snapshot) own.set(f.id, this.folded.get(f.id) ?? [])
      const key = this.keys.get(f.epoch)
      if (f.kind === FrameKind.update && key) {
        try {
          own.set(f.id, [openFrame(f, key)])
        } catch {
          // Cannot happen for a frame this device sealed and accepted; nothing to keep if it does.
        }
      }
    }
    return own
  }

  /** Resolves when everything so far has reached the store (or failed, see 'store-error'). */
  whenSaved(): Promise<void> {
    return this.saving
  }

  /** Flushes, saves, and forgets keys and plaintext. The object is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return
    for (const id of [...this.unshared.keys()]) this.share(id)
    if (this.canWrite) this.flush()
    clearTimeout(this.timer)
    this.closed = true
    await this.saving
    for (const key of [...this.keys.values(), ...this.spare.values()]) wipe(key)
    this.keys.clear()
    this.spare.clear()
    this.carry = []
    this.folded.clear()
    this.plain.destroy()
    this.transport.destroy()
    super.destroy()
  }

  // --- incoming -------------------------------------------------------------

  private shareLater(id: FrameId): void {
    if (!this.unshared.has(id)) this.unshared.set(id, setTimeout(() => this.share(id), this.shareAfterMs))
  }

  private share(id: FrameId): void {
    clearTimeout(this.unshared.get(id))
    this.unshared.delete(id)
    const frame = this.accepted.get(id)
    // Not there any more: a snapshot covers it.
    if (frame && !this.closed && this.frames.get(id) === undefined) this.transport.transact(() => this.frames.set(id, frame.bytes), this)
  }

  private ingest(bytes: unknown): { verdict: Verdict; frame?: SignedFrame } {
    // The same bytes as a frame we hold were verified already: in a crowd each frame
    // arrives many times (the mesh, the relay), and a signature check costs ~100× a hash.
    if (bytes instanceof Uint8Array) {
      const id = frameIdOf(bytes)
      const known = this.accepted.get(id) ?? this.pending.get(id)
      if (known) return { verdict: this.count('duplicate'), frame: known }
    }
    const parsed = parseFrame(bytes, this.docId)
    if (!parsed.ok) return { verdict: this.count(parsed.fault) }
    const frame = parsed.frame
    if (this.accepted.has(frame.id) || this.pending.has(frame.id)) return { verdict: this.count('duplicate'), frame }
    if (this.isCovered(frame)) {
      this.applyCovered(frame)
      return { verdict: this.count('duplicate'), frame }
    }
    return { verdict: this.count(this.admit(frame)), frame }
  }

  /**
   * An edit a snapshot already covers by its author's counter is applied anyway (Yjs ignores what the
   * state holds already), never kept: a writer that crashed between sending a frame and storing it
   * reuses that counter for its next edit, and a snapshot that saw the first frame would otherwise
   * swallow the second. Only what admit() would accept; nothing is held back or healed.
   */
  private applyCovered(frame: SignedFrame): void {
    if (frame.kind !== FrameKind.update || this.isClosedOut(frame) || !this.roster.isWriter(frame.author, frame.epoch)) return
    const key = this.keys.get(frame.epoch)
    if (!key) return
    try {
      Y.applyUpdate(this.plain, openFrame(frame, key), REMOTE)
    } catch {
      // Does not open, or not an update: as worthless as any other bad frame.
    }
  }

  /** A frame of a settled epoch that its closure does not name. */
  private isClosedOut(frame: SignedFrame): boolean {
    const closure = this.settled.get(frame.epoch)?.closure
    return frame.kind !== FrameKind.closure && closure !== undefined && !closure.allow.has(frame.id)
  }

  private admit(frame: SignedFrame): Verdict {
    const key = this.keys.get(frame.epoch)
    if (this.isClosedOut(frame)) return 'closed'
    // Two closures by one author already prove equivocation; more only cost memory and time.
    if (frame.kind === FrameKind.closure && [...(this.closures.get(frame.epoch)?.values() ?? [])].filter((c) => c.author === authorKey(frame.author)).length >= 2) return 'closed'
    const allowed = frame.kind === FrameKind.roster ? this.roster.mayAdd(frame.author, frame.epoch) : this.roster.isWriter(frame.author, frame.epoch)
    if (!key || !allowed) {
      this.hold(frame)
      return key ? 'unauthorized' : 'unknown-epoch'
    }
    let payload: Uint8Array
    try {
      payload = openFrame(frame, key)
    } catch (e) {
      if (e instanceof CryptoError) return 'undecryptable'
      throw e
    }
    try {
      if (frame.kind === FrameKind.roster && this.removedWriters().has(toBase64Url(decodeRosterEntry(payload).signingPublicKey))) return 'revoked'
      this.apply(frame, payload)
    } catch {
      // A writer's frame whose content does not decode (PayloadError, or Yjs refusing the update).
      return 'bad-payload'
    }
    this.unhold(frame.id)
    this.dropped.delete(frame.id)
    this.record(frame, false)
    return 'accepted'
  }

  /** Applies a frame's payload (a closure only marks its epoch to be settled again). */
  private apply(frame: SignedFrame, payload: Uint8Array): void {
    switch (frame.kind) {
      case FrameKind.update:
        Y.applyUpdate(this.plain, payload, REMOTE)
        return
      case FrameKind.snapshot: {
        const { coverage, state } = decodeSnapshot(payload)
        Y.applyUpdate(this.plain, state, REMOTE)
        this.noteSnapshot(frame, coverage)
        return
      }
      case FrameKind.roster: {
        const member = decodeRosterEntry(payload)
        this.rosterEntries.set(frame.id, { member, author: authorKey(frame.author), epoch: frame.epoch })
        if (this.roster.add(frame.epoch, member)) {
          this.retryPending = true
          // Screens that count members follow (the plaintext itself did not change).
          queueMicrotask(() => !this.closed && this.emit('roster', []))
        }
        return
      }
      case FrameKind.closure: {
        const closure = decodeClosure(payload)
        let mine = this.closures.get(frame.epoch)
        if (!mine) this.closures.set(frame.epoch, (mine = new Map()))
        mine.set(frame.id, { author: authorKey(frame.author), closure })
        this.unsettled.add(frame.epoch)
        return
      }
    }
  }

  /** Settles every epoch whose closures changed, oldest first (each may change the key of the next). */
  private settleEpochs(upTo = Number.POSITIVE_INFINITY): void {
    for (;;) {
      const epoch = Math.min(...this.unsettled)
      if (!Number.isFinite(epoch) || epoch > upTo) break
      this.unsettled.delete(epoch)
      this.resettle(epoch)
    }
    this.carryOver()
  }

  /** Seals again, in the epoch this device now writes, its own frames a closure left out; sends edits that waited. */
  private carryOver(): void {
    if (this.queue.length > 0 && this.canWrite && this.timer === undefined) this.timer = setTimeout(() => this.flushQuietly(), 0)
    if (this.carry.length === 0 || !this.canWrite) return
    const carried = this.carry
    this.carry = []
    for (const { kind, payload } of carried) {
      try {
        if (kind === FrameKind.roster) {
          if (!this.removedWriters().has(toBase64Url(decodeRosterEntry(payload).signingPublicKey))) this.write(FrameKind.roster, payload)
        } else this.write(FrameKind.update, payload)
      } catch (e) {
        this.emit('store-error', [e])
      }
    }
  }

  /**
   * Who may close `epoch`: its opening writers, and whoever a roster entry of it added, unless
   * that entry's signer is removed by a closure that does not name the entry. So a removed
   * writer cannot name a stand-in after the fact to answer its removal for it.
   */
  private closers(epoch: number, closures: readonly Closure[]): Set<string> {
    const out = new Set(this.roster.openingWriters(epoch).map((w) => authorKey(w.signingPublicKey)))
    const entries = [...this.rosterEntries].filter(([, e]) => e.epoch === epoch)
    for (let grew = true; grew; ) {
      grew = false
      for (const [id, e] of entries) {
        const k = authorKey(e.member.signingPublicKey)
        if (out.has(k) || !out.has(e.author)) continue
        if (closures.some((c) => c.removed.has(e.author) && !c.allow.has(id))) continue
        out.add(k)
        grew = true
      }
    }
    return out
  }

  /**
   * Which closures still compete for `epoch`. One this device has gone past (it holds the
   * next key and the one after: kept in its record, given in every welcome) is pinned:
   * only closures by writers it kept on may still contest it (two core phones that each
   * closed twice while apart), never one by a writer it removed, so a made-up history of
   * an old epoch moves nothing, now or after a restart.
   */
  private contenders(epoch: number, standing: [FrameId, { author: string; closure: Closure }][]): [FrameId, { author: string; closure: Closure }][] {
    const next = this.keys.get(epoch + 1)
    const pinned = next && this.keys.has(epoch + 2) ? standing.find(([, c]) => c.closure.keyCommit === keyCommitOf(next)) : undefined
    if (!pinned) return standing
    const kept = new Set(pinned[1].closure.writers.map((w) => authorKey(w.signingPublicKey)).filter((w) => !pinned[1].closure.removed.has(w)))
    return standing.filter(([id, c]) => id === pinned[0] || kept.has(c.author))
  }

  /**
   * Decides which closure ends `epoch` (epochs.ts), and acts on it: the next epoch's
   * writers and key, and the frames of this epoch that no longer count. When a race
   * turns out the other way, this device leaves the losing closure's epochs behind.
   */
  private resettle(epoch: number): void {
    const all = this.closures.get(epoch)
    const key = this.keys.get(epoch)
    if (!all || !key) return
    const eligible = this.closers(epoch, [...all.values()].map((c) => c.closure))
    const standing = [...all].filter(([, c]) => eligible.has(c.author))
    const pool = this.contenders(epoch, standing)
    const outcome = settleEpoch(pool.map(([id, c]) => ({ id, author: c.author, seen: c.closure.seen, removed: c.closure.removed })))
    const closure = outcome.winner ? all.get(outcome.winner)!.closure : undefined
    this.settled.set(epoch, { ...outcome, closure })
    this.retryPending = true
    const held = this.keys.get(epoch + 1)
    // A key the winner did not make (or no winner: a conflict) is set aside, and the epochs read under it are left.
    if (held && keyCommitOf(held) !== closure?.keyCommit) this.leaveAfter(epoch)
    if (closure) {
      this.roster.open(epoch + 1, closure.writers.filter((w) => !outcome.removed.has(authorKey(w.signingPublicKey))))
      if (!this.keys.has(epoch + 1)) {
        const next = openNextKey(closure, key, this.identity) ?? this.spare.get(closure.keyCommit)
        if (next) {
          this.keys.set(epoch + 1, next.slice() as SecretKey)
          this.emit('keys', [])
        }
      }
      this.dropOutside(epoch, closure)
    }
    this.emit('epochs', [epoch])
  }

  /**
   * Frames applied here that the closure leaves out no longer count anywhere: they leave
   * the log. Those of writers who write on raced the closure honestly: their authors
   * seal their own left-out frames again under the next key, so what they said stays. Those of
   * a writer the closure removed must leave the plaintext too: the document is opened
   * again from the store, where the closure is judged before them.
   */
  private dropOutside(epoch: number, closure: Closure): void {
    const applied = this.epochFrames.get(epoch) ?? new Map<FrameId, SigningPublicKey>()
    // A snapshot of ours the closure names is settled: what it folded need not be carried any more.
    for (const id of [...this.folded.keys()]) if (closure.allow.has(id)) this.folded.delete(id)
    const outside = [...applied].filter(([id]) => !closure.allow.has(id))
    if (outside.length === 0) return
    const removed = outside.filter(([, author]) => !this.roster.isWriter(author, epoch + 1))
    // A snapshot's state holds whatever its writer held, the edits of a writer now removed too.
    const snapshots = outside.filter(([id]) => this.accepted.get(id)?.kind === FrameKind.snapshot)
    this.setAside(epoch, outside.map(([id]) => id))
    // A phone that was removed itself reads nothing new anyway.
    if ((removed.length > 0 || snapshots.length > 0) && this.keys.has(epoch + 1)) this.rewindSoon()
  }

  /**
   * Takes frames out of the log: this device's own are kept to be sealed again in the next
   * epoch it writes (so nothing it said is lost, and nothing anyone else said rides along);
   * a roster entry's writer is taken back.
   */
  private setAside(epoch: number, ids: readonly FrameId[]): void {
    const key = this.keys.get(epoch)
    const me = authorKey(this.identity.signingPublicKey)
    for (const id of ids) {
      const frame = this.accepted.get(id)
      if (frame && frame.kind === FrameKind.snapshot && authorKey(frame.author) === me) {
        // Only our own edits it folded: its state holds others' too.
        for (const payload of this.folded.get(id) ?? []) this.carry.push({ kind: FrameKind.update, payload })
        this.folded.delete(id)
      } else if (frame && key && authorKey(frame.author) === me && frame.kind !== FrameKind.closure) {
        try {
          this.carry.push({ kind: frame.kind, payload: openFrame(frame, key) })
        } catch {
          // Not ours to carry after all.
        }
      }
      const entry = this.rosterEntries.get(id)
      if (entry) this.roster.remove(epoch, entry.member)
      this.rosterEntries.delete(id)
      this.epochFrames.get(epoch)?.delete(id)
      this.accepted.delete(id)
    }
    this.transport.transact(() => ids.forEach((id) => this.frames.delete(id)), this)
  }

  private rewindSoon(): void {
    queueMicrotask(() => !this.closed && this.emit('rewind', []))
  }

  /** Leaves every epoch after `epoch`: their keys came from a closure that lost. Their frames leave the log here. */
  private leaveAfter(epoch: number): void {
    const later = [...this.keys.keys()].filter((e) => e > epoch).sort((x, y) => x - y)
    const me = authorKey(this.identity.signingPublicKey)
    let othersShown = false
    for (const e of new Set([...later, ...[...this.closures.keys()].filter((c) => c > epoch)])) {
      const applied = [...(this.epochFrames.get(e) ?? [])]
      if (applied.some(([, author]) => authorKey(author) !== me)) othersShown = true
      this.setAside(e, [...applied.map(([id]) => id), ...(this.closures.get(e)?.keys() ?? [])])
      const key = this.keys.get(e)
      if (key) this.spare.set(keyCommitOf(key), key)
      this.keys.delete(e)
      this.roster.forget(e)
      this.settled.delete(e)
      this.unsettled.delete(e)
      this.epochFrames.delete(e)
      this.closures.delete(e)
    }
    if (later.length > 0) this.emit('keys', [])
    // What others wrote under a key that lost must leave the plaintext (its honest authors carry it over).
    if (othersShown) this.rewindSoon()
  }

  private noteSnapshot(frame: SignedFrame, coverage: Coverage): void {
    this.snapshots.set(frame.id, coverage)
    for (const [author, count] of coverage) {
      if (count > (this.highWater.get(author) ?? 0)) this.highWater.set(author, count)
    }
    // Frames inside the snapshot need no healing any more.
    for (const f of this.accepted.values()) {
      if (this.isCovered(f)) {
        this.accepted.delete(f.id)
        this.snapshots.delete(f.id)
      }
    }
  }

  private hold(frame: SignedFrame): void {
    const author = authorKey(frame.author)
    let queue = this.pendingBy.get(author)
    if (!queue) this.pendingBy.set(author, (queue = []))
    queue.push(frame.id)
    this.pending.set(frame.id, frame)
    this.pendingBytes += frame.bytes.length
    if (queue.length > MAX_PENDING_PER_AUTHOR) this.evict(author)
    while (this.pending.size > MAX_PENDING_FRAMES || this.pendingBytes > MAX_PENDING_BYTES) {
      let biggest = author
      for (const [a, q] of this.pendingBy) if (q.length > (this.pendingBy.get(biggest)?.length ?? 0)) biggest = a
      this.evict(biggest)
    }
  }

  /**
   * Drops an author's oldest held frame from memory. It stays in the transport doc (a
   * replica that cannot judge a frame must not delete it: one that can would put it back,
   * and they would fight), and its id is kept to judge again if the author turns out to
   * be a writer after all. Writers remove such frames when they compact.
   */
  private evict(author: string): void {
    const id = this.pendingBy.get(author)?.shift()
    if (id === undefined) return
    if (this.pendingBy.get(author)!.length === 0) this.pendingBy.delete(author)
    this.unhold(id)
    this.stats['pending-dropped']++
    if (this.dropped.size >= MAX_DROPPED_IDS) this.dropped.delete(this.dropped.values().next().value!)
    this.dropped.add(id)
  }

  private unhold(id: FrameId): void {
    const frame = this.pending.get(id)
    if (!frame) return
    this.pending.delete(id)
    this.pendingBytes -= frame.bytes.length
    const queue = this.pendingBy.get(authorKey(frame.author))
    const at = queue?.indexOf(id) ?? -1
    if (queue && at >= 0) queue.splice(at, 1)
    if (queue?.length === 0) this.pendingBy.delete(authorKey(frame.author))
  }

  /** Re-judges held frames until nothing more can be applied (a roster entry may unlock others). */
  private settle(): void {
    this.settleEpochs()
    while (this.retryPending) {
      this.retryPending = false
      for (const frame of [...this.pending.values()]) {
        this.unhold(frame.id)
        const verdict = this.admit(frame)
        if (verdict === 'accepted') this.count('accepted')
      }
      // Frames once evicted from the hold, and still in the transport doc, get another look.
      for (const id of [...this.dropped]) {
        const bytes = this.frames.get(id)
        if (bytes === undefined) continue
        this.dropped.delete(id)
        const parsed = parseFrame(bytes, this.docId)
        if (parsed.ok && this.admit(parsed.frame) === 'accepted') this.count('accepted')
      }
      this.settleEpochs()
    }
  }

  private onTransportChange(event: Y.YMapEvent<Uint8Array>): void {
    const added: string[] = []
    const deleted: string[] = []
    event.changes.keys.forEach((change, key) => (change.action === 'delete' ? deleted : added).push(key))
    // Oldest epoch first; in each, roster entries (a new writer's frames are then judged
    // knowing it), then closures (the frames of the epoch they close are judged against them).
    const order = (key: string): number => {
      const v = this.frames.get(key)
      if (!(v instanceof Uint8Array) || v.length < 6) return Number.MAX_SAFE_INTEGER
      const rank = v[1] === FrameKind.roster ? 0 : v[1] === FrameKind.closure ? 1 : 2
      return readEpoch(v) * 4 + rank
    }
    added.sort((a, b) => order(a) - order(b))
    const remove: string[] = []
    const restore = new Set<FrameId>()
    // Additions first: a snapshot that arrives with the deletions it caused must be
    // known before we decide that those deletions need healing.
    for (const key of added) {
      // The closures of earlier epochs are settled before any frame they may exclude is judged.
      this.settleEpochs(Math.floor(order(key) / 4) - (order(key) % 4 === 2 ? 0 : 1))
      const { verdict, frame } = this.ingest(this.frames.get(key))
      const neverValid = !frame || verdict === 'undecryptable' || verdict === 'bad-payload' || verdict === 'closed' || verdict === 'revoked'
      if (neverValid || frame.id !== key) {
        remove.push(key)
        this.stats['garbage-removed']++
        this.garbageSinceReplace++
        if (this.accepted.has(key as FrameId)) restore.add(key as FrameId)
        if (frame && !neverValid && this.accepted.has(frame.id) && !this.frames.has(frame.id)) restore.add(frame.id)
      }
    }
    this.settle()
    for (const key of deleted) {
      if (this.accepted.has(key as FrameId)) {
        restore.add(key as FrameId)
        this.stats.healed++
      }
    }
    if (remove.length === 0 && restore.size === 0) return
    this.transport.transact(() => {
      for (const key of remove) this.frames.delete(key)
      for (const id of restore) this.frames.set(id, this.accepted.get(id)!.bytes)
    }, this)
    if (this.garbageSinceReplace >= GARBAGE_BEFORE_REPLACE) this.saveAll()
  }

  // --- outgoing -------------------------------------------------------------

  private enqueue(update: Uint8Array): void {
    if (this.closed) return
    this.queue.push(update)
    if (this.timer === undefined) this.timer = setTimeout(() => this.flushQuietly(), this.batchMs)
  }

  private flushQuietly(): void {
    this.timer = undefined
    if (this.closed) return
    try {
      this.flush()
    } catch (e) {
      if (!(e instanceof DocError)) this.emit('store-error', [e])
    }
  }

  private write(kind: FrameKind, payload: Uint8Array): SignedFrame {
    const epoch = this.epoch
    const key = this.keys.get(epoch)
    if (!key) throw new DocError('no-key', 'This device holds no key for this document.')
    const me = this.identity.signingPublicKey
    const settled = this.settled.get(epoch)
    const open = !settled || (kind === FrameKind.closure && settled.winner === undefined)
    const allowed = open && (kind === FrameKind.roster ? this.roster.mayAdd(me, epoch) : this.roster.isWriter(me, epoch))
    if (!allowed) {
      this.queue = []
      throw new DocError('read-only', 'This device may read this document but not change it.')
    }
    const counter = this.highWater.get(authorKey(me)) ?? 0
    const frame = sealFrame({ kind, docId: this.docId, epoch, counter }, payload, key, this.identity)
    if (kind === FrameKind.roster || kind === FrameKind.closure) this.apply(frame, payload)
    this.record(frame, true)
    if (kind === FrameKind.snapshot) this.noteSnapshot(frame, decodeSnapshot(payload).coverage)
    if (kind === FrameKind.closure) this.settleEpochs()
    return frame
  }

  private record(frame: SignedFrame, local: boolean): void {
    const author = authorKey(frame.author)
    this.authorKeys.set(author, frame.author)
    let seen = this.counters.get(author)
    if (!seen) this.counters.set(author, (seen = new Set()))
    seen.add(frame.counter)
    if (frame.counter + 1 > (this.highWater.get(author) ?? 0)) this.highWater.set(author, frame.counter + 1)
    if (!this.isCovered(frame)) this.accepted.set(frame.id, frame)
    if (frame.kind !== FrameKind.closure) {
      let ids = this.epochFrames.get(frame.epoch)
      if (!ids) this.epochFrames.set(frame.epoch, (ids = new Map()))
      ids.set(frame.id, frame.author)
    }
    if (this.frames.get(frame.id) === undefined) {
      if (this.shareAfterMs > 0 && !local) this.shareLater(frame.id)
      else this.transport.transact(() => this.frames.set(frame.id, frame.bytes), this)
    }
    this.emit('frame', [frame, local])
  }

  // --- coverage -------------------------------------------------------------

  /** How many of `author`'s frames, from counter 0 on, the state holds without a gap. */
  private prefix(author: string): number {
    let n = 0
    for (const coverage of this.snapshots.values()) n = Math.max(n, coverage.get(author) ?? 0)
    const seen = this.counters.get(author)
    while (seen?.has(n)) n++
    return n
  }

  private isCovered(frame: SignedFrame): boolean {
    if (frame.kind === FrameKind.roster || frame.kind === FrameKind.closure) return false
    const author = authorKey(frame.author)
    for (const [id, coverage] of this.snapshots) {
      if (id !== frame.id && (coverage.get(author) ?? 0) > frame.counter) return true
    }
    return false
  }

  // --- storage --------------------------------------------------------------

  private persist(update: Uint8Array): void {
    if (!this.store || this.closed) return
    if (this.storeFailed || ++this.appendsSinceReplace >= APPENDS_BEFORE_REPLACE) return this.saveAll()
    const store = this.store
    this.saving = this.saving.then(() => store.append(this.docId, update)).catch((e: unknown) => this.storeError(e))
  }

  private saveAll(): void {
    if (!this.store) return
    const store = this.store
    const state = Y.encodeStateAsUpdate(this.transport)
    this.appendsSinceReplace = 0
    this.garbageSinceReplace = 0
    this.saving = this.saving
      .then(() => store.replace(this.docId, state))
      .then(() => {
        this.storeFailed = false
      })
      .catch((e: unknown) => this.storeError(e))
  }

  private storeError(e: unknown): void {
    this.storeFailed = true
    this.emit('store-error', [e])
  }

  private count(verdict: Verdict): Verdict {
    this.stats[verdict]++
    return verdict
  }
}
