// Every opener, fed any single flipped bit, refuses with a typed CryptoError and
// never throws anything raw. Bits are exhaustive for short boxes.
import { describe, expect, it } from 'vitest'
import {
  CryptoError,

  newIdentity,
  open,
  openSealed,
  randomKey,
  seal,
  sealTo,
  sign,
  utf8,
  verify,
  assertSigned,
  keyFromPassphrase,
  fromBase64Url,
  fromUtf8,
} from '../../src/crypto'
import { sealWithNonce } from '../../src/crypto/aead'


function flipped(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice()
  copy[bit >> 3] ^= 1 << (bit & 7)
  return copy
}

function expectCode(fn: () => unknown, code: string) {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError)
    expect((e as CryptoError).code).toBe(code)
    expect((e as CryptoError).message.length).toBeGreaterThan(10)
    return
  }
  throw new Error('expected a CryptoError')
}

describe('AEAD open', () => {
  const key = randomKey()
  const box = seal(key, utf8('location: the old bridge'), utf8('doc-1'))

  it('opens the untouched box', () => {
    expect(fromUtf8(open(key, box, utf8('doc-1')))).toBe('location: the old bridge')
  })

  it('refuses every single-bit flip', () => {
    for (let bit = 0; bit < box.length * 8; bit++) {
      const code = bit < 8 ? 'malformed' : 'tampered'
      expectCode(() => open(key, flipped(box, bit), utf8('doc-1')), code)
    }
  })

  it('refuses another context, another key, truncation and garbage', () => {
    expectCode(() => open(key, box, utf8('doc-2')), 'tampered')
    expectCode(() => open(randomKey(), box, utf8('doc-1')), 'tampered')
    expectCode(() => open(key, box.subarray(0, box.length - 1), utf8('doc-1')), 'tampered')
    expectCode(() => open(key, box.subarray(0, 20)), 'malformed')
    expectCode(() => open(key, new Uint8Array(0)), 'malformed')
    expectCode(() => open(key.subarray(0, 16) as typeof key, box), 'bad-key')
  })

  it('checks the key commitment before decrypting', () => {
    // The ciphertext part is valid under key B, the commitment is key A's. Without the
    // commitment check, opening with key B would succeed; with it, neither key opens it.
    const keyA = randomKey()
    const keyB = randomKey()
    const nonce = new Uint8Array(24).fill(7)
    const boxA = sealWithNonce(keyA, utf8('x'), utf8('c'), nonce)
    const hybrid = sealWithNonce(keyB, utf8('x'), utf8('c'), nonce)
    hybrid.set(boxA.subarray(25, 57), 25)
    expectCode(() => open(keyB, hybrid, utf8('c')), 'tampered')
    expectCode(() => open(keyA, hybrid, utf8('c')), 'tampered')
  })

  it('uses a fresh nonce every time', () => {
    const a = seal(key, utf8('same'))
    const b = seal(key, utf8('same'))
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false)
  })
})

describe('sealed box open', () => {
  const alice = newIdentity()
  const box = sealTo(alice.boxPublicKey, utf8('welcome'))

  it('opens for the recipient only', () => {
    expect(fromUtf8(openSealed(alice, box))).toBe('welcome')
    expectCode(() => openSealed(newIdentity(), box), 'tampered')
  })

  it('refuses every single-bit flip and truncation', () => {
    for (let bit = 0; bit < box.length * 8; bit++) expectCode(() => openSealed(alice, flipped(box, bit)), 'tampered')
    expectCode(() => openSealed(alice, box.subarray(0, 47)), 'malformed')
  })
})

describe('signature verify', () => {
  const id = newIdentity()
  const message = utf8('release stage 1')
  const signature = sign('release', message, id.signingSecretKey)

  it('verifies, and refuses every flipped bit of signature or message', () => {
    expect(verify('release', message, signature, id.signingPublicKey)).toBe(true)
    for (let bit = 0; bit < signature.length * 8; bit++) {
      expect(verify('release', message, flipped(signature, bit), id.signingPublicKey)).toBe(false)
    }
    for (let bit = 0; bit < message.length * 8; bit++) {
      expect(verify('release', flipped(message, bit), signature, id.signingPublicKey)).toBe(false)
    }
  })

  it('refuses another purpose, another key, wrong sizes; assertSigned throws typed', () => {
    expect(verify('frame', message, signature, id.signingPublicKey)).toBe(false)
    expect(verify('release', message, signature, newIdentity().signingPublicKey)).toBe(false)
    expect(verify('release', message, signature.subarray(1), id.signingPublicKey)).toBe(false)
    expectCode(() => assertSigned('release', message, new Uint8Array(64), id.signingPublicKey), 'bad-signature')
  })
})

describe('other decoders', () => {
  it('base64url and UTF-8 refuse garbage with a typed error', () => {
    expectCode(() => fromBase64Url('***'), 'malformed')
    expectCode(() => fromUtf8(Uint8Array.of(0xff, 0xfe)), 'malformed')
  })

  it('passphrase keys refuse weakened or broken parameters', () => {
    expectCode(() => keyFromPassphrase('x', { salt: new Uint8Array(3), opsLimit: 3, memLimitBytes: 1 << 26 }), 'malformed')
    expectCode(() => keyFromPassphrase('x', { salt: new Uint8Array(16), opsLimit: 0, memLimitBytes: 1 << 26 }), 'malformed')
  })
})
