// Crypto cost per frame: seal + sign, and verify + open, for 100 B, 1 KB and 64 KB payloads,
// against plain XChaCha20-Poly1305 (no commitment, no signature) as the baseline.
import sodium from 'libsodium-wrappers-sumo'
import { newIdentity, randomBytes, randomKey, toBase64Url, type DocId } from '../src/crypto'
import { FrameKind, openFrame, parseFrame, sealFrame } from '../src/doc'
import { medianMs, type Row } from './table'

export function cryptoRows(quick: boolean): Row[] {
  const rows: Row[] = []
  const id = newIdentity()
  const key = randomKey()
  const docId = toBase64Url(randomBytes(32)) as DocId
  const runs = quick ? 200 : 2000
  for (const [label, size] of [['100 B', 100], ['1 KB', 1024], ['64 KB', 65536]] as const) {
    const payload = randomBytes(size)
    let counter = 0
    const frame = sealFrame({ kind: FrameKind.update, docId, epoch: 0, counter: 0 }, payload, key, id)
    const sealMs = medianMs(runs, () => void sealFrame({ kind: FrameKind.update, docId, epoch: 0, counter: counter++ }, payload, key, id))
    const openMs = medianMs(runs, () => {
      const parsed = parseFrame(frame.bytes, docId)
      if (parsed.ok) openFrame(parsed.frame, key)
    })
    const nonce = randomBytes(24)
    const plainSeal = medianMs(runs, () => void sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(payload, null, null, nonce, key))
    const box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(payload, null, null, nonce, key)
    const plainOpen = medianMs(runs, () => void sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, box, null, nonce, key))
    rows.push({ figure: `frame seal + sign, ${label}`, value: sealMs * 1000, unit: 'µs', baseline: plainSeal * 1000, baselineName: 'bare AEAD' })
    rows.push({ figure: `frame verify + open, ${label}`, value: openMs * 1000, unit: 'µs', baseline: plainOpen * 1000, baselineName: 'bare AEAD' })
  }
  return rows
}
