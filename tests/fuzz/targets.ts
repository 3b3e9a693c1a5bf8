// Fuzz targets: every decoder that takes bytes from outside (a peer, the server, a link, a QR code,
// storage). Each gets arbitrary input and mutations of a valid one (bits flipped, cut short, grown,
// bytes replaced), and must: throw nothing but its own typed error, accept no input it should not
// (a changed signed message never verifies), and keep its memory bounded. `npm run fuzz` runs them
// long (scripts/fuzz.ts); tests/fuzz/fuzz.test.ts runs a short pass in CI.
import fc from 'fast-check'
import * as Y from 'yjs'
import { CryptoError, newIdentity, publicPart, randomBytes, toBase64Url, utf8, type DocId, type RoomName, type SecretKey } from '../../src/crypto'
import { FrameKind, openFrame, parseFrame, sealFrame } from '../../src/doc'
import { decodeClosure, makeClosure } from '../../src/doc/closure'
import { checkinMessage, readCheckin, type CheckinKeys } from '../../src/model/checkin'
import { decodeAction, encodeAction, type ActionId } from '../../src/model/action'
import { decodeInvite, encodeInvite, InviteLinkError, newInvite } from '../../src/model/invite-link'
import { joinRequest, readLobbyMessage } from '../../src/model/lobby'
import { ModelError } from '../../src/model/errors'
import { makeShareOffer, QuorumError, readShareOffer, shareOf, splitStageKey } from '../../src/model/quorum'
import { decodeSettings, DEFAULT_SETTINGS } from '../../src/model/settings'
import { beaconMessage, readBeaconMessage, TimelockError, verifyBeacon } from '../../src/model/timelock'
import { offerFromCode } from '../../src/model/without-core'
import { startTestBeacon } from '../support/test-beacon'
import { makeRelease, readRelease, releaseCode, releaseFromCode, ReleaseError as StageReleaseError, type StageId } from '../../src/model/stage'
import { fileHash, newReleaseSecret, parseManifestDocument, parseSignatureDocument, ReleaseError, signManifest, verifyManifest, CONTENT_SECURITY_POLICY, type ReleaseManifest } from '../../src/release'
import { parseClientMessage } from '../../src/server/protocol'
import { DEFAULT_LIMITS } from '../../src/server/limits'
import { SealedTopic, sealPieces, type SignalingSocket } from '../../src/transport'
import { readNetworkOffer } from '../../src/transport/network'
import { decodeCounts } from '../../src/transport/relay'
import { readPublish } from '../../src/server/cluster'
import { giveOrder, ordersOf, readOrder } from '../../src/model/campaign-order'
import { openVouchBox, vouchBoxFor } from '../../src/model/vouch'
import { fromBase64Url } from '../../src/crypto'

export interface FuzzTarget {
  readonly name: string
  /** Runs `runs` cases (fast-check); throws with the smallest failing input if one breaks the contract. */
  readonly run: (runs: number, seed?: number) => Promise<void>
}

interface Fuzz<T> {
  readonly arbitrary: fc.Arbitrary<T>
  readonly check: (input: T) => void | Promise<void>
}

/** A target whose keys and valid samples are made once, outside the cases. */
export function target<T>(name: string, setup: () => Fuzz<T> | Promise<Fuzz<T>>): FuzzTarget {
  return {
    name,
    run: async (runs, seed) => {
      const { arbitrary, check } = await setup()
      await fc.assert(
        fc.asyncProperty(arbitrary, async (input) => {
          await check(input)
        }),
        { numRuns: runs, ...(seed === undefined ? {} : { seed }), endOnFailure: true },
      )
    },
  }
}

/** A broken contract, with what broke it. */
class Finding extends Error {
  override readonly name = 'Finding'
}

/** Throws unless `run` returns or throws one of `allowed` (the decoder's own typed errors). */
export function onlyTyped(run: () => unknown, ...allowed: (new (...args: never[]) => Error)[]): unknown {
  try {
    return run()
  } catch (error) {
    if (allowed.some((type) => error instanceof type)) return undefined
    throw new Finding(`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`)
  }
}

async function onlyTypedAsync(run: () => Promise<unknown>, ...allowed: (new (...args: never[]) => Error)[]): Promise<unknown> {
  try {
    return await run()
  } catch (error) {
    if (allowed.some((type) => error instanceof type)) return undefined
    throw new Finding(`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`)
  }
}

/** Mutations of a valid input that always change it. */
export function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const at = fc.nat({ max: Math.max(0, valid.length - 1) })
  return fc
    .oneof(
      fc.tuple(at, fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const out = valid.slice()
        out[i] = out[i]! ^ x
        return out
      }),
      fc.nat({ max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n)),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Uint8Array.from([...valid, ...tail])),
      fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([i, bytes]) => {
        const out = valid.slice()
        out.set(bytes.subarray(0, out.length - i), i)
        return out
      }),
    )
    .filter((m) => m.length !== valid.length || m.some((b, i) => b !== valid[i]))
}

export const bytesOrMutated = (valid: Uint8Array, maxLength = 512): fc.Arbitrary<Uint8Array> => fc.oneof(fc.uint8Array({ maxLength }), mutated(valid))
const textOrMutated = (valid: string): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), mutated(utf8(valid)).map((b) => new TextDecoder().decode(b)))

/** A document id (made when a target starts: libsodium must be loaded). */
const newDoc = (): DocId => toBase64Url(randomBytes(32)) as DocId

export const targets: readonly FuzzTarget[] = [
  target('frame (signed, sealed document frame)', () => {
    const DOC = newDoc()
    const key = randomBytes(32) as SecretKey
    const author = newIdentity()
    const doc = new Y.Doc()
    doc.getMap('m').set('k', 'v')
    const valid = sealFrame({ kind: FrameKind.update, docId: DOC, epoch: 0, counter: 1 }, Y.encodeStateAsUpdate(doc), key, author).bytes
    return {
      arbitrary: bytesOrMutated(valid, 2048),
      check: (bytes) => {
        const parsed = onlyTyped(() => parseFrame(bytes, DOC)) as ReturnType<typeof parseFrame>
        // Only an unchanged frame verifies; a changed or random one never does.
        if (parsed.ok) {
          onlyTyped(() => openFrame(parsed.frame, key), CryptoError)
          throw new Finding('a changed or random frame verified')
        }
      },
    }
  }),

  target('closure payload', () => {
    const oldKey = randomBytes(32) as SecretKey
    const writer = newIdentity()
    const { payload } = makeClosure(oldKey, { prev: undefined, seen: [], allow: [], removed: [], writers: [writer], stay: [writer] })
    return { arbitrary: bytesOrMutated(payload, 1024), check: (bytes) => void onlyTyped(() => decodeClosure(bytes), CryptoError) }
  }),

  target('invite link', () => {
    const valid = encodeInvite(newInvite('participant', Date.now() + 3600_000))
    return { arbitrary: textOrMutated(`https://blossom.example/#/join/${valid}`), check: (text) => void onlyTyped(() => decodeInvite(text), InviteLinkError) }
  }),

  target('lobby message (join request, welcome, refusal)', () => {
    const secret = randomBytes(32) as SecretKey
    const joiner = newIdentity()
    const at = Date.now()
    const valid = joinRequest(secret, joiner, at)
    return {
      arbitrary: bytesOrMutated(valid, 1024),
      check: (bytes) => {
        const m = onlyTyped(() => readLobbyMessage(secret, bytes), ModelError) as ReturnType<typeof readLobbyMessage> | undefined
        // A changed join request never passes as the joiner's with other content. (base64 spends spare
        // bits on the last character: another spelling of the same bytes is the same request.)
        const same = (a: Uint8Array, b: Uint8Array): boolean => toBase64Url(a) === toBase64Url(b)
        if (m?.t === 'join' && same(m.joiner.signingPublicKey, joiner.signingPublicKey) && (m.at !== Math.floor(at / 1000) * 1000 || !same(m.joiner.boxPublicKey, joiner.boxPublicKey))) {
          throw new Finding('a changed join request verified')
        }
      },
    }
  }),

  target('sealed relay pieces (server relay, lobbies, check-ins)', () => {
    const key = randomBytes(32) as SecretKey
    const topic = toBase64Url(randomBytes(32)) as RoomName
    const listeners = new Set<(m: unknown) => void>()
    const socket = {
      url: 'ws://127.0.0.1/fuzz',
      connected: false,
      send: () => undefined,
      on: (event: string, listener: (m: unknown) => void) => void (event === 'message' && listeners.add(listener)),
      off: (_event: string, listener: (m: unknown) => void) => void listeners.delete(listener),
    } as unknown as SignalingSocket
    let delivered = 0
    const sealed = new SealedTopic(topic, key, 64 * 1024, () => delivered++)
    sealed.attach(socket)
    const validPiece = utf8(sealPieces(utf8('hello'), key, topic)[0]!)
    // First pieces of messages whose other pieces never come (more than the 16 kept): state must stay bounded.
    const firstPieces = Array.from({ length: 40 }, () => sealPieces(randomBytes(100 * 1024), key, topic)[0]!)
    const data = fc.oneof(fc.string({ maxLength: 300 }), mutated(validPiece).map((b) => new TextDecoder().decode(b)), fc.nat({ max: firstPieces.length - 1 }).map((i) => firstPieces[i]!))
    const message = fc.oneof(
      data.map((d) => ({ type: 'publish', topic, data: d, clients: 2 })),
      fc.anything().map((x) => ({ type: 'publish', topic, data: x })),
      fc.anything(),
    )
    return {
      arbitrary: message,
      check: (m) => {
        for (const listener of listeners) onlyTyped(() => listener(m))
        const inside = sealed as unknown as { partial: Map<string, unknown>; partialBytes: number }
        if (inside.partial.size > 16) throw new Finding(`${inside.partial.size} partial messages kept`)
        if (inside.partialBytes > 16 * 1024 * 1024) throw new Finding(`${inside.partialBytes} partial bytes kept`)
        if (delivered > 0) throw new Finding('a changed or random piece was delivered')
      },
    }
  }),

  target('release code (QR at the staging point)', () => {
    const DOC = newDoc()
    const core = newIdentity()
    const key = randomBytes(32) as SecretKey
    const stageId = toBase64Url(randomBytes(16)) as StageId
    const valid = makeRelease(DOC, stageId, key, core)
    return {
      arbitrary: fc.oneof(textOrMutated(releaseCode(valid)), bytesOrMutated(valid).map(releaseCode)),
      check: (code) => {
        const bytes = onlyTyped(() => releaseFromCode(code), StageReleaseError) as Uint8Array | undefined
        if (!bytes) return
        const release = onlyTyped(() => readRelease(bytes, DOC, [core]), StageReleaseError)
        if (release && code.trim() !== releaseCode(valid)) throw new Finding('a changed release verified')
      },
    }
  }),

  target('marshal share offer (a marshal releasing at go)', async () => {
    const DOC = newDoc()
    const stageId = toBase64Url(randomBytes(16)) as StageId
    const marshals = [newIdentity(), newIdentity(), newIdentity()]
    const quorum = await splitStageKey(randomBytes(32) as SecretKey, DOC, stageId, 2, marshals.map(publicPart))
    const valid = makeShareOffer(DOC, stageId, shareOf(marshals[0]!, quorum, stageId)!, marshals[0]!)
    return {
      arbitrary: bytesOrMutated(valid),
      check: (bytes) => {
        const offer = onlyTyped(() => readShareOffer(bytes, DOC, (id) => (id === stageId ? quorum : undefined)), QuorumError)
        if (offer && toBase64Url(bytes) !== toBase64Url(valid)) throw new Finding('a changed share offer was accepted')
      },
    }
  }),

  target('marshal share QR code (scanned from a marshal with no network)', async () => {
    const DOC = newDoc()
    const stageId = toBase64Url(randomBytes(16)) as StageId
    const marshal = newIdentity()
    const quorum = await splitStageKey(randomBytes(32) as SecretKey, DOC, stageId, 2, [publicPart(marshal), publicPart(newIdentity())])
    const valid = makeShareOffer(DOC, stageId, shareOf(marshal, quorum, stageId)!, marshal)
    const code = `BLOSSOM-SHARE:${toBase64Url(valid)}`
    return {
      arbitrary: textOrMutated(code),
      check: (text) => {
        const bytes = onlyTyped(() => offerFromCode(text), QuorumError) as Uint8Array | undefined
        if (!bytes) return
        const offer = onlyTyped(() => readShareOffer(bytes, DOC, (id) => (id === stageId ? quorum : undefined)), QuorumError)
        if (offer && toBase64Url(bytes) !== toBase64Url(valid)) throw new Finding('a changed share code was accepted')
      },
    }
  }),

  target('drand beacon (passed phone to phone)', async () => {
    // The test chain's beacon, made once; its server is closed before the cases run.
    const beacon = await startTestBeacon({ period: 3 })
    const valid = beaconMessage(beacon.chain.hash, beacon.beacon(1000))
    const chain = beacon.chain
    await beacon.close()
    return {
      arbitrary: bytesOrMutated(valid),
      check: async (bytes) => {
        const read = onlyTyped(() => readBeaconMessage(bytes), TimelockError) as ReturnType<typeof readBeaconMessage> | undefined
        if (!read) return
        // The chain hash is a label (a phone checks the beacon against the chain its lock names); the signature is the truth.
        const truth = readBeaconMessage(valid).beacon
        const verified = await verifyBeacon(chain, read.beacon)
        if (verified && (read.beacon.round !== truth.round || read.beacon.signature !== truth.signature)) throw new Finding('a changed beacon verified')
      },
    }
  }),

  target('server protocol (client messages)', () => {
    const valid = JSON.stringify({ type: 'subscribe', topics: ['a'.repeat(43)], peers: { ['a'.repeat(43)]: 'p1' } })
    return {
      arbitrary: fc.oneof(textOrMutated(valid), fc.json({ maxDepth: 6 }), fc.anything().map((x) => JSON.stringify(x) ?? '')),
      check: (t) => {
        const result = onlyTyped(() => parseClientMessage(t, DEFAULT_LIMITS)) as ReturnType<typeof parseClientMessage>
        if (!result.ok && (typeof result.code !== 'number' || typeof result.reason !== 'string')) throw new Finding('a refusal without a code')
      },
    }
  }),

  target("the server's ICE servers (/network, read by every phone)", () => {
    const valid = { iceServers: [{ urls: ['stun:turn.example.org:3478'] }, { urls: ['turn:turn.example.org:3478?transport=udp'], username: '1767312000:abc', credential: 'c2VjcmV0' }], expiresAt: 1_767_312_000_000 }
    return {
      arbitrary: fc.oneof(fc.anything(), fc.json({ maxDepth: 5 }).map((t) => JSON.parse(t) as unknown), textOrMutated(JSON.stringify(valid)).map((t) => {
        try {
          return JSON.parse(t) as unknown
        } catch {
          return t
        }
      })),
      check: (json) => {
        const offer = onlyTyped(() => readNetworkOffer(json)) as ReturnType<typeof readNetworkOffer>
        if (!offer) return
        if (offer.iceServers.length > 8) throw new Finding('more ICE servers than a phone takes')
        for (const server of offer.iceServers) {
          const urls = Array.isArray(server.urls) ? server.urls : [server.urls]
          if (urls.some((u) => !/^(stuns?|turns?):\S+$/.test(u))) throw new Finding('an ICE URL that is neither stun: nor turn:')
        }
      },
    }
  }),

  target('relay catch-up counts (a hello or an answer from a room member)', () => {
    const valid = Uint8Array.from([0, 0, 0, 1, ...randomBytes(32), 0, 0, 1, 0])
    return {
      arbitrary: bytesOrMutated(valid, 512),
      check: (bytes) => {
        const counts = onlyTyped(() => decodeCounts(bytes), RangeError) as Map<string, number> | undefined
        if (counts && counts.size > 1024) throw new Finding('more authors than a summary may name')
      },
    }
  }),

  target('cluster bus message (another instance, through Redis)', () => {
    const valid = JSON.stringify({ from: 'abc', payload: '{"type":"publish","topic":"t","data":"x"}', sample: { abc: 2, def: 1 } })
    return {
      arbitrary: fc.oneof(textOrMutated(valid), fc.anything().map((x) => JSON.stringify(x) ?? '')),
      check: (text) => {
        const m = onlyTyped(() => readPublish(text)) as ReturnType<typeof readPublish>
        if (!m) return
        if (typeof m.payload !== 'string' || typeof m.from !== 'string') throw new Finding('a bus message of the wrong shape')
        for (const k of Object.values(m.sample ?? {})) if (!Number.isSafeInteger(k) || k < 0) throw new Finding('a sample count that is no count')
      },
    }
  }),

  target('stored records (action record, settings)', () => {
    const DOC = newDoc()
    const valid = encodeAction({ id: 'a'.repeat(22) as ActionId, role: 'participant', brief: { docId: DOC, keys: new Map([[0, randomBytes(32) as SecretKey]]), roster: { epoch: 0, writers: [] } } })
    return {
      arbitrary: bytesOrMutated(valid, 1024),
      check: (bytes) => {
        onlyTyped(() => decodeAction(bytes), ModelError)
        const settings = onlyTyped(() => decodeSettings(bytes)) as typeof DEFAULT_SETTINGS
        if (typeof settings.idleLockMinutes !== 'number' || !Array.isArray(settings.iceServers)) throw new Finding('settings of the wrong shape')
        if (settings.language !== '' && !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(settings.language)) throw new Finding('a stored language that is no language tag')
      },
    }
  }),

  target('check-in (sealed to the core)', () => {
    const DOC = newDoc()
    const core = newIdentity()
    const keys: CheckinKeys = core
    const participant = newIdentity()
    const valid = checkinMessage(DOC, participant, core.boxPublicKey)
    return {
      arbitrary: bytesOrMutated(valid, 1024),
      check: (bytes) => {
        const checkin = onlyTyped(() => readCheckin(DOC, keys, bytes)) as { who: Uint8Array } | undefined
        // A changed check-in may still open (the outer JSON has slack), but never as another identity.
        if (checkin && toBase64Url(checkin.who) !== toBase64Url(participant.signingPublicKey)) throw new Finding('a forged check-in identity')
      },
    }
  }),

  target('release manifest and signature (a new version of the app)', async () => {
    const { secret, key } = await newReleaseSecret()
    const manifest: ReleaseManifest = {
      app: 'urn:blossom:app',
      version: '1.0.0',
      default_csp: CONTENT_SECURITY_POLICY,
      extra_csp: {},
      default_index: 'index.html',
      default_fallback: '/index.html',
      files: { '/index.html': await fileHash(utf8('<html>')) },
      wasm: [],
    }
    const valid = utf8(JSON.stringify({ manifest, signatures: {} }))
    const signatureBytes = utf8(JSON.stringify(await signManifest(manifest, secret)))
    return {
      arbitrary: fc.tuple(bytesOrMutated(valid, 1024), fc.oneof(fc.constant(signatureBytes), bytesOrMutated(signatureBytes, 256))),
      check: async ([m, s]) => {
        const doc = onlyTyped(() => parseManifestDocument(new TextDecoder().decode(m)), ReleaseError) as ReturnType<typeof parseManifestDocument> | undefined
        const sig = onlyTyped(() => parseSignatureDocument(new TextDecoder().decode(s)), ReleaseError) as ReturnType<typeof parseSignatureDocument> | undefined
        if (!doc) return
        const verified = await onlyTypedAsync(async () => (await verifyManifest(doc.manifest, sig, key), true), ReleaseError)
        if (verified && JSON.stringify(doc.manifest) !== JSON.stringify(manifest)) throw new Finding('a changed manifest verified')
      },
    }
  }),

  target('campaign order (a coordinator’s signed Hold, Resume, Schedule or Go now)', () => {
    const campaign = newDoc()
    const me = newIdentity()
    const doc = new Y.Doc()
    const order = giveOrder(doc, campaign, me, 'schedule', 1_900_000_000_000, 1)
    const valid = fromBase64Url(ordersOf(doc).get(order.id)!)
    return {
      arbitrary: bytesOrMutated(valid, 256),
      check: (bytes) => {
        // Never throws: a stored order is read or ignored. A changed order never reads as signed.
        const read = readOrder(campaign, order.id, toBase64Url(bytes))
        if (read && toBase64Url(bytes) !== toBase64Url(valid)) throw new Finding('a changed order verified')
      },
    }
  }),

  target('vouch box (invites a participant may pass on, sealed to it)', () => {
    const me = newIdentity()
    const valid = vouchBoxFor(me.boxPublicKey, ['AQIAAAAA'])
    return {
      arbitrary: bytesOrMutated(valid, 2048),
      check: (bytes) => {
        const codes = openVouchBox(me, bytes)
        if (codes && toBase64Url(bytes) !== toBase64Url(valid)) throw new Finding('a changed box opened')
      },
    }
  }),
]
