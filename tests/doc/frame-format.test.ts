// The frame format, frozen: this frame was written once and must always parse,
// verify and open. If a refactor changes the layout, this fails before phones on
// two versions stop understanding each other.
import { describe, expect, it } from 'vitest'
import sodium from 'libsodium-wrappers-sumo'
import { concat, framed, fromHex, identityFromSeed, toBase64Url, utf8, type DocId, type SecretKey } from '../../src/crypto'
import { FrameKind, openFrame, parseFrame } from '../../src/doc'

const FRAME =
  '01010000000303a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b80000000701b87c850ce96024bf15ef740f93f91760e62adb5f8ce4bb9bed62a70a18af4e085a8648b6a867da7baa9fb7ebeaf6ae2dd5b314087cf49cdfe49fe0c1695af78a6de3f2d8e011386c82062462029a8ad39474252e7110157bfa65dbc1b60e0e2133e31a518f144ff5ef5ee1e226c0990898c957769259d4ce67c7df915061cf7d5503f89ba34f4ec2bf7f286f3f591ded3f3eb25ee210b976dfb34809'
const author = identityFromSeed(new Uint8Array(64).map((_, i) => i))
const key = new Uint8Array(32).map((_, i) => 0xa0 + i) as SecretKey
const docIdBytes = new Uint8Array(32).map((_, i) => 0x10 + i)
const docId = toBase64Url(docIdBytes) as DocId

describe('frame format v1', () => {
  it('parses, verifies and opens the frozen frame', () => {
    const parsed = parseFrame(fromHex(FRAME), docId)
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.frame).toMatchObject({ kind: FrameKind.update, epoch: 3, counter: 7 })
    expect(parsed.frame.author).toEqual(author.signingPublicKey)
    expect(new TextDecoder().decode(openFrame(parsed.frame, key))).toBe('meet at the fountain')
  })

  it('follows the documented layout: header 42 bytes, signature over document id || header || box', () => {
    const bytes = fromHex(FRAME)
    expect(bytes[0]).toBe(1)
    expect(bytes[1]).toBe(FrameKind.update)
    expect(bytes.subarray(6, 38)).toEqual(author.signingPublicKey)
    const signed = concat(framed(utf8('blossom/v1/sign/frame')), docIdBytes, bytes.subarray(0, bytes.length - 64))
    expect(sodium.crypto_sign_verify_detached(bytes.subarray(bytes.length - 64), signed, author.signingPublicKey)).toBe(true)
    // The document id itself is never in the frame.
    expect(Buffer.from(bytes).includes(Buffer.from(docIdBytes))).toBe(false)
  })
})
