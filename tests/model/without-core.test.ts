// What a peer puts in its mesh awareness reaches every phone in the room unchecked by anyone else:
// a hostile peer's fields must be read as untrusted input. Real Yjs, real libsodium, real Shamir;
// the awareness is a stand-in with the y-webrtc shape (no WebRTC in Node).
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newIdentity, publicPart, randomBytes, randomKey, toBase64Url } from '../../src/crypto'
import { newDocId } from '../../src/doc'
import { BriefEditor, BriefView } from '../../src/model/brief'
import { makeShareOffer, shareOf, splitStageKey } from '../../src/model/quorum'
import { newStageId } from '../../src/model/stage'
import { WithoutCore } from '../../src/model/without-core'
import type { PeerAwareness } from '../../src/transport'

type Listener = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void

function meshWith(states: Map<number, Record<string, unknown>>): PeerAwareness & { tell(id: number): void } {
  const listeners = new Set<Listener>()
  return {
    clientID: 1,
    setLocalStateField: (field, value) => void states.set(1, { ...states.get(1), [field]: value }),
    getStates: () => states,
    on: (_event, l) => void listeners.add(l),
    off: (_event, l) => void listeners.delete(l),
    tell: (id) => listeners.forEach((l) => l({ added: [], updated: [id], removed: [] }, null)),
  }
}

describe('a hostile mesh peer’s awareness fields', () => {
  it('are read as untrusted: garbage, oversized and wrongly typed entries are ignored; one valid offer counts once', async () => {
    const briefId = newDocId()
    const stage = newStageId()
    const key = randomKey()
    const marshals = [newIdentity(), newIdentity(), newIdentity()]
    const doc = new Y.Doc()
    const editor = new BriefEditor(doc, briefId)
    editor.sealStage(stage, 'location', key, { text: 'the old tram depot' })
    const quorum = await splitStageKey(key, briefId, stage, 2, marshals.map(publicPart))
    editor.setQuorum(stage, quorum)
    const brief = new BriefView(doc, briefId, () => [])
    const saved: Uint8Array[][] = []
    const ways = new WithoutCore({ brief, briefId, me: newIdentity(), stored: { offers: [], beacons: [] }, save: (h) => void saved.push(h.offers), drand: undefined, changed: () => {} })
    const valid = toBase64Url(makeShareOffer(briefId, stage, shareOf(marshals[0]!, quorum, stage)!, marshals[0]!))
    const states = new Map<number, Record<string, unknown>>()
    const mesh = meshWith(states)
    ways.attach(key, [], mesh, false)
    const junk: Record<string, unknown>[] = [
      { offers: 'not a list', beacons: 42 },
      { offers: [1, null, {}, [], '!!!not base64!!!', 'x'.repeat(10_000), toBase64Url(randomBytes(146))], beacons: ['%%%', toBase64Url(randomBytes(89)), 'y'.repeat(5_000)] },
      { offers: Array.from({ length: 10_000 }, () => valid) },
      { offers: [valid, valid, valid] },
    ]
    junk.forEach((state, i) => {
      states.set(10 + i, state)
      expect(() => mesh.tell(10 + i)).not.toThrow()
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(ways.progress(stage)).toEqual({ offered: 1, k: 2 })
    expect(brief.isReleased(stage)).toBe(false)
    // A second marshal's offer from another peer: k reached, the stage opens.
    states.set(20, { offers: [toBase64Url(makeShareOffer(briefId, stage, shareOf(marshals[1]!, quorum, stage)!, marshals[1]!))] })
    mesh.tell(20)
    await new Promise((r) => setTimeout(r, 50))
    expect(brief.stages()[0]!.content?.text).toBe('the old tram depot')
    expect(saved.at(-1)).toHaveLength(2)
    ways.close()
  })
})
