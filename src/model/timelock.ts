// Timelock: a sealed stage's key is also encrypted to the go instant, so the stage opens at go
// even when no core phone and no marshal quorum is online. The key is encrypted with drand's
// timelock encryption (tlock-js: identity-based encryption to a round of a drand chain; drand's
// own audited implementation, not written here). The chain's nodes publish a BLS signature on each
// round when its time comes; that signature is the decryption key for the round, and it does not
// exist before. Anyone holding it can open the box, and anyone can check it against the chain's
// public key, so a phone takes a beacon from anyone: the app server's proxy (/drand, src/server/
// drand.ts: the app's CSP allows 'self' only), or another phone (beaconMessage).
//
//   plaintext  = stage id (16) | stage key (32) | brief id
//   box        = tlock ciphertext (age format, armored) of the plaintext, to round R of the chain
//   R          = roundAt(chain, goAt): the first round published at or after go, never before
//   beacon msg = version (1) | chain hash (32) | round (u64 BE) | signature (48)
//
// The box names its round and chain in the clear (as the brief does its go time, to everyone who
// holds it). openTimelock checks the beacon's round, its signature, and that the plaintext names this
// stage and brief: a box copied to another stage or action opens nothing there.
//
// tlock-js, @noble/curves and @noble/hashes come through drand-ibe.ts, imported inside the async
// functions only, so the bundler puts them in a chunk of their own that is not part of the first load.
import { concat, equalBytes, fromBase64Url, fromHex, toHex, type DocId, type SecretKey } from '../crypto'
import type { StageId } from './stage'
import { QUICKNET, roundTime, SCHEME, type DrandChain, type SealedTimelock } from './ways'

export { QUICKNET, roundTime, SCHEME, type DrandChain, type SealedTimelock }

/** The scheme's hash to curve: RFC 9380 on G1. A beacon signs sha256(round as u64 big-endian). */
export const BEACON_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_'

/** A drand beacon: the chain's signature on its round, hex. Unverified until verifyBeacon says so. */
export interface Beacon {
  readonly round: number
  readonly signature: string
}

export type TimelockProblem = 'malformed' | 'forged-beacon' | 'wrong-round' | 'wrong-key' | 'unreachable'

export class TimelockError extends Error {
  override readonly name = 'TimelockError'
  constructor(readonly problem: TimelockProblem) {
    super(
      {
        malformed: 'This time lock or time signal is damaged, or not from Blossom. Ignore it.',
        'forged-beacon': 'This time signal was not made by drand: it was changed or forged. Ignore it.',
        'wrong-round': 'This time signal is for another moment than this stage’s go time. Wait for the signal of go time.',
        'wrong-key': 'This time lock belongs to another stage, or another action.',
        unreachable: 'The time signal could not be fetched. Blossom tries again; phones nearby can also pass it on.',
      }[problem],
    )
  }
}

const HASH_HEX = /^[0-9a-f]{64}$/
const SIGNATURE_HEX = /^[0-9a-f]{96}$/
const PUBLIC_KEY_HEX = /^[0-9a-f]{192}$/
const STAGE_ID_BYTES = 16
const KEY_BYTES = 32
const MESSAGE_VERSION = 1
const SIGNATURE_BYTES = 48
const MESSAGE_BYTES = 1 + 32 + 8 + SIGNATURE_BYTES
/** A beacon or info answer is a few hundred bytes; anything much larger is not one. */
const MAX_ANSWER_BYTES = 4096

const isRound = (round: unknown): round is number => typeof round === 'number' && Number.isSafeInteger(round) && round >= 1

const usableChain = (chain: DrandChain): boolean =>
  HASH_HEX.test(chain.hash) &&
  PUBLIC_KEY_HEX.test(chain.publicKey) &&
  chain.scheme === SCHEME &&
  Number.isSafeInteger(chain.period) &&
  chain.period >= 1 &&
  Number.isSafeInteger(chain.genesisTime) &&
  chain.genesisTime > 0

/** The first round whose beacon is published at or after `ms`: a box to it never opens before that moment. */
export function roundAt(chain: DrandChain, ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError('A time lock needs a finite go time.')
  const sinceGenesis = ms - chain.genesisTime * 1000
  return Math.max(1, Math.ceil(sinceGenesis / (chain.period * 1000)) + 1)
}

const u64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

/** drand's chain hash: sha256(period u32 | genesis i64 | public key | group hash | beacon id unless 'default'). */
export async function chainHashOf(info: { period: number; genesisTime: number; publicKey: string; groupHash: string; beaconId: string }): Promise<string> {
  const { sha256 } = await import('./drand-ibe')
  const head = new Uint8Array(12)
  const view = new DataView(head.buffer)
  view.setUint32(0, info.period)
  view.setBigInt64(4, BigInt(info.genesisTime))
  const id = info.beaconId === '' || info.beaconId === 'default' ? new Uint8Array(0) : new TextEncoder().encode(info.beaconId)
  return toHex(sha256(concat(head, fromHex(info.publicKey), fromHex(info.groupHash), id)))
}

/** A chain from drand's /info JSON, checked: its hash must be the hash of what it says. Throws TimelockError('malformed'). */
export async function chainFromInfo(json: unknown): Promise<DrandChain> {
  if (typeof json !== 'object' || json === null) throw new TimelockError('malformed')
  const j = json as Record<string, unknown>
  const metadata = j['metadata']
  const beaconId = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)['beaconID'] : undefined
  const { public_key: publicKey, period, genesis_time: genesisTime, hash, groupHash, schemeID: scheme } = j
  if (typeof publicKey !== 'string' || typeof hash !== 'string' || typeof groupHash !== 'string' || typeof scheme !== 'string') throw new TimelockError('malformed')
  if (typeof period !== 'number' || typeof genesisTime !== 'number' || (beaconId !== undefined && typeof beaconId !== 'string')) throw new TimelockError('malformed')
  const chain: DrandChain = { hash, publicKey, period, genesisTime, scheme }
  if (!usableChain(chain) || !HASH_HEX.test(groupHash)) throw new TimelockError('malformed')
  if ((await chainHashOf({ period, genesisTime, publicKey, groupHash, beaconId: beaconId ?? 'default' })) !== hash) throw new TimelockError('malformed')
  return chain
}

const plaintextOf = (key: SecretKey, briefId: DocId, stageId: StageId): Uint8Array => concat(fromBase64Url(stageId), key, fromBase64Url(briefId))

/** Encrypts the stage key to the first round at or after goAt. Nobody, the core included, can open it before that round. */
export async function timelockStageKey(key: SecretKey, briefId: DocId, stageId: StageId, chain: DrandChain, goAt: number): Promise<SealedTimelock> {
  if (key.length !== KEY_BYTES || fromBase64Url(stageId).length !== STAGE_ID_BYTES) throw new RangeError('A time lock takes a 32-byte stage key and a 16-byte stage id.')
  if (!usableChain(chain)) throw new RangeError(`A time lock needs a drand chain of scheme ${SCHEME}.`)
  const round = roundAt(chain, goAt)
  const { timelockEncrypt, Buffer } = await import('./drand-ibe')
  const info = {
    public_key: chain.publicKey,
    period: chain.period,
    genesis_time: chain.genesisTime,
    hash: chain.hash,
    groupHash: '',
    schemeID: chain.scheme,
    metadata: { beaconID: '' },
  }
  // tlock-js asks its client for the chain's info only when encrypting; it fetches no beacon.
  const noFetch = (): Promise<never> => Promise.reject(new Error('tlock-js fetches no beacon to encrypt'))
  const client = {
    options: { disableBeaconVerification: false, noCache: true },
    latest: noFetch,
    get: noFetch,
    chain: () => ({ baseUrl: '', info: () => Promise.resolve(info) }),
  }
  const plaintext = plaintextOf(key, briefId, stageId)
  try {
    return { chain, round, box: await timelockEncrypt(round, Buffer.from(plaintext), client) }
  } finally {
    plaintext.fill(0)
  }
}

/** Whether the beacon is the chain's signature on its round (BLS on G1, RFC 9380). Never throws. */
export async function verifyBeacon(chain: DrandChain, beacon: Beacon): Promise<boolean> {
  try {
    if (!usableChain(chain) || typeof beacon !== 'object' || beacon === null) return false
    if (!isRound(beacon.round) || typeof beacon.signature !== 'string' || !SIGNATURE_HEX.test(beacon.signature)) return false
    const { bls12_381, sha256 } = await import('./drand-ibe')
    const { shortSignatures } = bls12_381
    return shortSignatures.verify(beacon.signature, shortSignatures.hash(sha256(u64(beacon.round)), BEACON_DST), chain.publicKey)
  } catch {
    return false
  }
}

/** BLS12-381's G1 generator, compressed: a well-formed signature that is no beacon's. */
const G1_GENERATOR = '97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb'

/**
 * Loads the drand code and runs one (failing) check: a phone's first pairing builds the curve's
 * tables and takes seconds on a slow phone. Done ahead of go, it is not paid at go.
 */
export async function warmUp(chain: DrandChain): Promise<void> {
  await verifyBeacon(chain, { round: 1, signature: G1_GENERATOR })
  // Opening takes other paths (G2, the age format): a throwaway lock runs them.
  const { decodeArmor, decryptAge, decryptOnG2 } = await import('./drand-ibe')
  const sealed = await timelockStageKey(new Uint8Array(KEY_BYTES) as SecretKey, 'AAAAAAAAAAAAAAAAAAAAAA' as DocId, 'AAAAAAAAAAAAAAAAAAAAAA' as StageId, chain, roundTime(chain, 1))
  await decryptAge(decodeArmor(sealed.box), async (stanzas) => {
    const body = stanzas[0]!.body
    const rest = body.subarray(G2_BYTES)
    return decryptOnG2(fromHex(G1_GENERATOR), { U: body.subarray(0, G2_BYTES), V: rest.subarray(0, rest.length / 2), W: rest.subarray(rest.length / 2) })
  }).catch(() => undefined)
}

/** tlock's stanza body: U, a G2 point (96 bytes compressed), then V and W of equal length. */
const G2_BYTES = 96

/** Opens a time lock with the beacon of its round. Throws TimelockError; never anything raw. */
export async function openTimelock(sealed: SealedTimelock, beacon: Beacon, briefId: DocId, stageId: StageId): Promise<SecretKey> {
  if (typeof sealed !== 'object' || sealed === null || !usableChain(sealed.chain) || !isRound(sealed.round) || typeof sealed.box !== 'string') {
    throw new TimelockError('malformed')
  }
  if (typeof beacon !== 'object' || beacon === null || !isRound(beacon.round)) throw new TimelockError('malformed')
  if (beacon.round !== sealed.round) throw new TimelockError('wrong-round')
  if (typeof beacon.signature !== 'string' || !SIGNATURE_HEX.test(beacon.signature)) throw new TimelockError('forged-beacon')
  // The beacon is checked by opening: the IBE's own check (tlock-js's "rP check", Fujisaki-Okamoto)
  // passes only with the chain's signature on this round, as BLS signatures are unique. One pairing,
  // where verifying first would cost three: at go, on a slow phone, that is seconds. A box that does
  // not open is then told apart, by verifying, as a forged beacon or a box for something else.
  try {
    return await openWith(sealed, beacon, briefId, stageId)
  } catch (e) {
    if (!(await verifyBeacon(sealed.chain, beacon))) throw new TimelockError('forged-beacon')
    throw e
  }
}

async function openWith(sealed: SealedTimelock, beacon: Beacon, briefId: DocId, stageId: StageId): Promise<SecretKey> {
  // Decrypted with tlock-js's own parts rather than its timelockDecrypt, which also refuses while
  // this phone's clock says the round is not due: a verified beacon is the proof that it is, and a
  // phone's clock may be behind. The stanza must name the sealed round and chain.
  const { decodeArmor, isProbablyArmored, decryptAge, decryptOnG2 } = await import('./drand-ibe')
  const signature = fromHex(beacon.signature)
  let wrongKey = false
  const unwrap = async (stanzas: Array<{ type: string; args: string[]; body: Uint8Array }>): Promise<Uint8Array> => {
    const tlock = stanzas.find((s) => s.type === 'tlock')
    if (!tlock || tlock.args.length !== 2 || tlock.args[0] !== String(sealed.round) || tlock.args[1] !== sealed.chain.hash || tlock.body.length <= G2_BYTES) {
      wrongKey = true
      throw new Error('not a tlock stanza for this round and chain')
    }
    const rest = tlock.body.subarray(G2_BYTES)
    try {
      return await decryptOnG2(signature, { U: tlock.body.subarray(0, G2_BYTES), V: rest.subarray(0, rest.length / 2), W: rest.subarray(rest.length / 2) })
    } catch (e) {
      wrongKey = true
      throw e
    }
  }
  let opened: Uint8Array
  try {
    if (!isProbablyArmored(sealed.box) || sealed.box.length > 64 * 1024) throw new Error('not armored')
    opened = new Uint8Array(await decryptAge(decodeArmor(sealed.box), unwrap))
  } catch {
    // Refused by our stanza check or by the IBE: a box for another round or chain ('wrong-key').
    // Anything else (not age, a payload whose MAC fails) is a damaged box.
    throw new TimelockError(wrongKey ? 'wrong-key' : 'malformed')
  }
  const id = fromBase64Url(stageId)
  const brief = fromBase64Url(briefId)
  const key = opened.slice(STAGE_ID_BYTES, STAGE_ID_BYTES + KEY_BYTES) as SecretKey
  const fits =
    opened.length === STAGE_ID_BYTES + KEY_BYTES + brief.length &&
    equalBytes(opened.subarray(0, STAGE_ID_BYTES), id) &&
    equalBytes(opened.subarray(STAGE_ID_BYTES + KEY_BYTES), brief)
  opened.fill(0)
  if (!fits) throw new TimelockError('wrong-key')
  return key
}

/** A beacon as a phone passes it to another (mesh, QR): fixed size, checked by the receiver with verifyBeacon. */
export function beaconMessage(chainHash: string, beacon: Beacon): Uint8Array {
  if (!HASH_HEX.test(chainHash) || !isRound(beacon.round) || !SIGNATURE_HEX.test(beacon.signature)) throw new TimelockError('malformed')
  return concat(Uint8Array.of(MESSAGE_VERSION), fromHex(chainHash), u64(beacon.round), fromHex(beacon.signature))
}

/** Reads a passed-on beacon. Throws TimelockError('malformed'); says nothing of its truth (verifyBeacon does). */
export function readBeaconMessage(bytes: Uint8Array): { readonly chainHash: string; readonly beacon: Beacon } {
  if (!(bytes instanceof Uint8Array) || bytes.length !== MESSAGE_BYTES || bytes[0] !== MESSAGE_VERSION) throw new TimelockError('malformed')
  const round = new DataView(bytes.buffer, bytes.byteOffset + 33, 8).getBigUint64(0)
  if (round < 1n || round > BigInt(Number.MAX_SAFE_INTEGER)) throw new TimelockError('malformed')
  return { chainHash: toHex(bytes.subarray(1, 33)), beacon: { round: Number(round), signature: toHex(bytes.subarray(41)) } }
}

/** Reads at most `max` bytes of a response's body, or undefined if it is longer. */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  const reader = response.body?.getReader()
  if (!reader) return undefined
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    parts.push(value)
  }
  return new TextDecoder().decode(concat(...parts))
}

/** GET one beacon; undefined if it is not out (404, 425). Throws TimelockError ('unreachable' or 'malformed'). */
async function getBeacon(url: string, fetchFn: typeof fetch): Promise<Beacon | undefined> {
  let response: Response
  try {
    response = await fetchFn(url, { cache: 'no-store', credentials: 'omit', redirect: 'error' })
  } catch {
    throw new TimelockError('unreachable')
  }
  if (response.status === 404 || response.status === 425) {
    await response.body?.cancel().catch(() => undefined)
    return undefined
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined)
    throw new TimelockError('unreachable')
  }
  let json: unknown
  try {
    const text = await readCapped(response, MAX_ANSWER_BYTES)
    if (text === undefined) throw new TimelockError('malformed')
    json = JSON.parse(text)
  } catch {
    throw new TimelockError('malformed')
  }
  const j = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
  const { round, signature } = j
  if (!isRound(round) || typeof signature !== 'string' || !SIGNATURE_HEX.test(signature)) throw new TimelockError('malformed')
  return { round, signature }
}

/**
 * The beacon of `round` from the app server's drand proxy (baseUrl, e.g. '/drand'), or undefined
 * while it is not out (ask again later). Not verified: openTimelock and verifyBeacon check it.
 *
 * Privacy: asking for round R before it is due would tell the server (and whoever watches it) the
 * go time. So this asks for the latest beacon first, which every phone asks alike; only once the
 * latest round has passed R does it ask for R by number, when R is history and says little. The
 * latest beacon itself is R's when they are equal. Throws TimelockError ('unreachable', 'malformed').
 */
export async function fetchBeacon(baseUrl: string, chain: DrandChain, round: number, fetchFn: typeof fetch = fetch): Promise<Beacon | undefined> {
  if (!HASH_HEX.test(chain.hash) || !isRound(round)) throw new TimelockError('malformed')
  const base = `${baseUrl.replace(/\/+$/, '')}/${chain.hash}/public`
  const latest = await getBeacon(`${base}/latest`, fetchFn)
  if (latest === undefined || latest.round < round) return undefined
  if (latest.round === round) return latest
  // Asking for the round by number names it: only once a true later round shows it is history (a
  // server saying "latest" is past it before its time would learn the go time from this phone).
  if (!(await verifyBeacon(chain, latest))) throw new TimelockError('forged-beacon')
  const past = await getBeacon(`${base}/${round}`, fetchFn)
  if (past !== undefined && past.round !== round) throw new TimelockError('malformed')
  return past
}
