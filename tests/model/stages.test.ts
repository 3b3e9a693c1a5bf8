// Stages are identified by what they are, not by words: and phones of the version before kinds
// (which wrote, and look for, the English label 'Action location') still agree on which stage
// is the location, in both directions.
import * as Y from 'yjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { cryptoReady } from '../../src/crypto'
import { locationOf, newStageId, type StageId } from '../../src/model/stage'
import { PlanView } from '../../src/model/plan'

beforeAll(cryptoReady)

const stored = (doc: Y.Doc) => doc.getMap<Record<string, unknown>>('stages')

describe('stage kinds', () => {
  it('a stage stored before kinds (a label, no kind) is the location, and sealing again updates it rather than adding one', () => {
    const doc = new Y.Doc()
    const old = newStageId()
    stored(doc).set(old, { label: 'Action location', key: 'A'.repeat(43), text: 'the tram depot' })
    const plan = new PlanView(doc)
    expect(plan.stages()).toMatchObject([{ id: old, kind: 'location', content: { text: 'the tram depot' } }])
    expect(locationOf(plan.stages())?.id).toBe(old)
    plan.putStage(locationOf(plan.stages())!.id, 'location', { text: 'the river steps' })
    expect(plan.stages()).toHaveLength(1)
    // Written for both versions: a kind for this one, the old label for phones that look for it.
    expect(stored(doc).get(old)).toMatchObject({ kind: 'location', label: 'Action location', text: 'the river steps' })
  })

  it('a kind this version does not know is never taken for the location', () => {
    const doc = new Y.Doc()
    const future = newStageId()
    stored(doc).set(future, { kind: 'dispersal-route', key: 'A'.repeat(43), text: 'leave by the north gate' })
    const plan = new PlanView(doc)
    expect(plan.stages()).toMatchObject([{ id: future, kind: 'other' }])
    expect(locationOf(plan.stages())).toBeUndefined()
  })

  it('two location stages (made by two phones apart): every phone picks the same one', () => {
    const ids = [newStageId(), newStageId(), newStageId()] as StageId[]
    const stages = ids.map((id) => ({ id, kind: 'location' as const }))
    const first = [...ids].sort()[0]
    expect(locationOf(stages)?.id).toBe(first)
    expect(locationOf([...stages].reverse())?.id).toBe(first)
  })
})
