// Check-in messages come from anyone holding the brief key: garbage, forgeries and
// messages for someone else are ignored, never thrown.
import { describe, expect, it } from 'vitest'
import { boxKeysFromSeed, newIdentity, randomBytes, toBase64Url, utf8, type DocId } from '../../src/crypto'
import { ackMessage, checkinMessage, isAckFor, readCheckin } from '../../src/model/checkin'

const briefId = toBase64Url(randomBytes(32)) as DocId
const core = boxKeysFromSeed(randomBytes(32))

describe('check-in input', () => {
  it('reads a real check-in and acknowledges only its sender', () => {
    const me = newIdentity()
    const c = readCheckin(briefId, core, checkinMessage(briefId, me, core.boxPublicKey))
    expect(c?.who).toEqual(me.signingPublicKey)
    const ack = ackMessage(c!)
    expect(isAckFor(me, ack)).toBe(true)
    expect(isAckFor(newIdentity(), ack)).toBe(false)
  })

  it('ignores garbage, forgeries, other briefs and other cores', () => {
    const me = newIdentity()
    const junk = [utf8(''), utf8('{'), utf8('null'), utf8('{"t":"in"}'), utf8('{"t":"in","box":"AAAA"}'), randomBytes(300)]
    for (const bytes of junk) {
      expect(readCheckin(briefId, core, bytes)).toBeUndefined()
      expect(isAckFor(me, bytes)).toBe(false)
    }
    const otherBrief = toBase64Url(randomBytes(32)) as DocId
    expect(readCheckin(briefId, core, checkinMessage(otherBrief, me, core.boxPublicKey))).toBeUndefined()
    const otherCore = boxKeysFromSeed(randomBytes(32))
    expect(readCheckin(briefId, core, checkinMessage(briefId, me, otherCore.boxPublicKey))).toBeUndefined()
  })
})
