// Known-answer tests: the wire and storage formats are frozen here, so a refactor
// that changes a single derived byte fails loudly instead of silently splitting
// phones on two versions. Each vector is also re-derived from raw libsodium calls
// following the documented layout, so the vectors pin the format, not the code.
import { describe, expect, it } from 'vitest'
import sodium from 'libsodium-wrappers-sumo'
import {
  contentHash,

  deriveKey,
  fromHex,
  identityFromSeed,
  keyedHash,
  keyFromPassphrase,
  open,
  sign,
  toHex,
  utf8,
  verify,
  concat,
  framed,
  type SecretKey,
  type SigningPublicKey,
} from '../../src/crypto'
import { sealWithNonce } from '../../src/crypto/aead'


const seed = new Uint8Array(64).map((_, i) => i)
const key = new Uint8Array(32).map((_, i) => 0xa0 + i) as SecretKey
const nonce = new Uint8Array(24).map((_, i) => i * 3)
const label = (purpose: string) => framed(utf8(`blossom/v1/${purpose}`))

describe('primitives match published vectors', () => {
  it('Ed25519, RFC 8032 section 7.1 test 1', () => {
    const sk = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
    const pair = sodium.crypto_sign_seed_keypair(sk)
    expect(toHex(pair.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    expect(toHex(sodium.crypto_sign_detached(new Uint8Array(0), pair.privateKey))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
  })

  it('BLAKE2b-512 of "abc", RFC 7693 appendix A', () => {
    expect(toHex(sodium.crypto_generichash(64, utf8('abc'), null))).toBe(
      'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
    )
  })
})

describe('Blossom formats are frozen', () => {
  it('device identity from a seed', () => {
    const id = identityFromSeed(seed)
    expect(toHex(id.signingPublicKey)).toBe('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8')
    expect(toHex(id.boxPublicKey)).toBe('5730800ab340fcb18ce5111eda9d705f91388b41e4544cbd103ba5942db2233e')
  })

  it('domain-separated signature = Ed25519 over framed purpose || message', () => {
    const id = identityFromSeed(seed)
    const expected =
      'a7ce229d7cb0c86f62e3ab5d25956fbb9ee748418ef3902e02054d17cf9da50a2d3b477011bee114c11be4d4e6bb61786f82d9b8ccb9c310c3a989e292f69b07'
    expect(toHex(sign('test', utf8('blossom'), id.signingSecretKey))).toBe(expected)
    const raw = concat(label('sign/test'), utf8('blossom'))
    expect(sodium.crypto_sign_verify_detached(fromHex(expected), raw, id.signingPublicKey)).toBe(true)
    // The same signature is worthless for any other purpose.
    expect(verify('frame', utf8('blossom'), fromHex(expected), id.signingPublicKey as SigningPublicKey)).toBe(false)
  })

  it('keyed hash and derived keys = keyed BLAKE2b-256 over framed purpose || framed parts', () => {
    const kh = 'aa0564da3242d7d0f96328e40aeaa881b784975cfef5801f27e76aa4936c3cef'
    expect(toHex(keyedHash(key, 'room', utf8('brief')))).toBe(kh)
    expect(toHex(sodium.crypto_generichash(32, concat(label('room'), framed(utf8('brief'))), key))).toBe(kh)
    expect(toHex(deriveKey(key, 'doc-id'))).toBe('d371a2e34f9e0585abe1063c9ce9f80a77e040858fdc6330308dd1615f7e8bef')
    expect(toHex(contentHash(utf8('blossom')))).toBe('6f7f0690a3826404a764ebeba43ae7151b535e3e4f07af1edc423bba00fa61c9')
  })

  it('key-committing AEAD box: version | nonce | commitment | XChaCha20-Poly1305 under a per-nonce subkey', () => {
    const box = fromHex(
      '01000306090c0f1215181b1e2124272a2d303336393c3f4245c3d28b45b53b8245206bf4cb15914853db34d4234f8b60750aacdacf456be3d9938e1c099f189680cb391e81d412c22cfa44d1ce2edfc4807fb3fbc1415f7fb57ae07e89',
    )
    expect(toHex(sealWithNonce(key, utf8('meet at the fountain'), utf8('ctx'), nonce))).toBe(toHex(box))
    expect(new TextDecoder().decode(open(key, box, utf8('ctx')))).toBe('meet at the fountain')
    // Re-derive by hand from the documented layout.
    const commitment = sodium.crypto_generichash(32, concat(label('aead-commit'), framed(nonce)), key)
    const subkey = sodium.crypto_generichash(32, concat(label('aead-subkey'), framed(nonce)), key)
    expect(toHex(box.subarray(25, 57))).toBe(toHex(commitment))
    const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, box.subarray(57), utf8('ctx'), nonce, subkey)
    expect(new TextDecoder().decode(plain)).toBe('meet at the fountain')
  })

  it('Argon2id passphrase key (3 passes, 64 MiB)', () => {
    const params = { salt: new Uint8Array(16).map((_, i) => i), opsLimit: 3, memLimitBytes: 64 * 1024 * 1024 }
    const expected = '0d1a3c6523c8f06e4e0af9c515aa5b5448cfebd6838f2d52c3d8b6ef8ddc3c2e'
    expect(toHex(keyFromPassphrase('correct horse battery staple', params))).toBe(expected)
    // NFKC: a precomposed and a decomposed "é" are the same passphrase.
    const a = keyFromPassphrase('caf\u00e9 au lait', params)
    const b = keyFromPassphrase('cafe\u0301 au lait', params)
    expect(toHex(a)).toBe(toHex(b))
  })
})
