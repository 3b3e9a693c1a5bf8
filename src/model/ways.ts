// What the brief says about the ways a stage opens besides a core phone's release, as data:
// a marshals' quorum (quorum.ts does the splitting and combining) and a time lock (timelock.ts does
// the drand encryption). Kept apart so the brief and the screens read them without loading either
// library: those load only on a phone whose action arms one.

/** Shamir over GF(256) allows 255 shares; a crowd's marshals are a handful. */
export const MAX_MARSHALS = 32

export interface QuorumShare {
  /** The marshal's action signing key, base64url. */
  readonly marshal: string
  readonly box: Uint8Array
  readonly commit: string
}

export interface SealedQuorum {
  readonly k: number
  readonly keyId: string
  readonly shares: readonly QuorumShare[]
}

export interface DrandChain {
  /** The chain's hash, hex: sha256 of its info (chainHashOf). */
  readonly hash: string
  /** BLS12-381 public key, hex (on G2 for the supported scheme). */
  readonly publicKey: string
  /** Seconds between rounds. */
  readonly period: number
  /** Unix seconds of round 1. */
  readonly genesisTime: number
  readonly scheme: string
}

/** The only scheme supported: signatures on G1, unchained, RFC 9380 hash to curve (drand's quicknet). */
export const SCHEME = 'bls-unchained-g1-rfc9380'

/** drand mainnet "quicknet" (from tlock-js 0.9.0's MAINNET_CHAIN_INFO; its hash checks with chainHashOf). */
export const QUICKNET: DrandChain = Object.freeze({
  hash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  publicKey:
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  period: 3,
  genesisTime: 1692803367,
  scheme: SCHEME,
})

export interface SealedTimelock {
  readonly chain: DrandChain
  readonly round: number
  /** tlock ciphertext, armored (age format). */
  readonly box: string
}

/** When a round's beacon is published, in ms (round 1 at genesis). */
export const roundTime = (chain: DrandChain, round: number): number => (chain.genesisTime + (round - 1) * chain.period) * 1000

