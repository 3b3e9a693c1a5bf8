// A drand-compatible HTTP beacon on 127.0.0.1 for tests and benchmarks, with a key the test makes.
// Same scheme as drand's quicknet (bls-unchained-g1-rfc9380): signatures on G1 over
// sha256(round as u64 big-endian), hashed to the curve by RFC 9380 with DST
// BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_, public key on G2. The chain hash is computed as drand
// computes it (sha256 of period u32 | genesis i64 | public key | group hash | beacon id), here with
// node:crypto, apart from the app's own chainHashOf, so a test can compare the two. The group hash
// is random (drand's is the hash of its group file, which a test has none of).
//
// Serves what drand's HTTP API serves for a chain, and what the app's proxy forwards:
//   GET /{hash}/info, /{hash}/public/latest, /{hash}/public/{round}
// A round is served once publish() has reached it; before, 404 (or 425 as some relays answer).
// Nothing is tied to the wall clock: the test says which rounds exist.
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bls12_381 } from '@noble/curves/bls12-381'
import { BEACON_DST, SCHEME, type Beacon, type DrandChain } from '../../src/model/timelock'

export interface TestBeacon {
  /** http://127.0.0.1:port, no trailing slash: the chain is at `${url}/${chain.hash}`. */
  readonly url: string
  readonly chain: DrandChain
  /** drand's /info JSON of the chain. */
  readonly info: Readonly<Record<string, unknown>>
  /** Every request's path, in order. */
  readonly requests: readonly string[]
  /** Rounds up to this one are served from now on. */
  publish(round: number): void
  /** The true beacon of a round (whether published or not). */
  beacon(round: number): Beacon
  /** A beacon of this round signed with a key that is not the chain's. */
  forge(round: number): Beacon
  close(): Promise<void>
}

export interface TestBeaconOptions {
  /** Seconds between rounds; default 3 (quicknet). */
  period?: number
  /** Unix seconds of round 1; default an hour ago. */
  genesisTime?: number
  /** Status of a round not yet published; default 404. */
  futureStatus?: 404 | 425
}

const roundMessage = (round: number): Uint8Array => {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(round))
  return createHash('sha256').update(bytes).digest()
}

function signer(): { publicKey: string; sign(round: number): Beacon } {
  const { shortSignatures } = bls12_381
  const secret = bls12_381.utils.randomSecretKey()
  return {
    publicKey: shortSignatures.getPublicKey(secret).toHex(true),
    sign: (round) => ({ round, signature: shortSignatures.sign(shortSignatures.hash(roundMessage(round), BEACON_DST), secret).toHex(true) }),
  }
}

/** drand's chain hash of an info (beacon id 'default' is left out, as drand does for its first chain). */
export function drandChainHash(period: number, genesisTime: number, publicKey: string, groupHash: string, beaconId: string): string {
  const head = Buffer.alloc(12)
  head.writeUInt32BE(period, 0)
  head.writeBigInt64BE(BigInt(genesisTime), 4)
  const h = createHash('sha256').update(head).update(Buffer.from(publicKey, 'hex')).update(Buffer.from(groupHash, 'hex'))
  if (beaconId !== 'default') h.update(beaconId)
  return h.digest('hex')
}

export async function startTestBeacon(options: TestBeaconOptions = {}): Promise<TestBeacon> {
  const period = options.period ?? 3
  const genesisTime = options.genesisTime ?? Math.floor(Date.now() / 1000) - 3600
  const futureStatus = options.futureStatus ?? 404
  const key = signer()
  const impostor = signer()
  const groupHash = randomBytes(32).toString('hex')
  const beaconId = 'blossom-test'
  const hash = drandChainHash(period, genesisTime, key.publicKey, groupHash, beaconId)
  const chain: DrandChain = Object.freeze({ hash, publicKey: key.publicKey, period, genesisTime, scheme: SCHEME })
  const info = Object.freeze({ public_key: key.publicKey, period, genesis_time: genesisTime, hash, groupHash, schemeID: SCHEME, metadata: { beaconID: beaconId } })
  const signed = new Map<number, Beacon>()
  const beacon = (round: number): Beacon => {
    let b = signed.get(round)
    if (!b) signed.set(round, (b = key.sign(round)))
    return b
  }
  const json = (b: Beacon): string =>
    JSON.stringify({ round: b.round, randomness: createHash('sha256').update(Buffer.from(b.signature, 'hex')).digest('hex'), signature: b.signature })
  let published = 0
  const requests: string[] = []

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!
    requests.push(path)
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
      res.end(body)
    }
    const m = /^\/([0-9a-f]{64})\/(info|public\/(latest|\d+))$/.exec(path)
    if (req.method !== 'GET' || !m || m[1] !== hash) return send(404, '{"error":"not found"}')
    if (m[2] === 'info') return send(200, JSON.stringify(info))
    const round = m[3] === 'latest' ? published : Number(m[3])
    if (round < 1) return send(404, '{"error":"no beacon yet"}')
    if (round > published) return send(futureStatus, '{"error":"round in the future"}')
    send(200, json(beacon(round)))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    chain,
    info,
    requests,
    publish: (round) => void (published = Math.max(published, round)),
    beacon,
    forge: (round) => impostor.sign(round),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
