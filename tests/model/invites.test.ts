// The invite handshake between phones, end to end in Node: real vaults (fake-indexeddb),
// a real signaling server on 127.0.0.1, the sealed relay. (The WebRTC mesh is switched
// off here because Node has no browser WebRTC; the browser tests run with it.)
import 'fake-indexeddb/auto'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { openBlossomDB } from '../../src/store'
import { InviteLinkError, JoinError, Phone, decodeInvite } from '../../src/model'
import { lobbyOf, readLobbyMessage, refusal, welcome } from '../../src/model/lobby'
import { holdSignaling, SealedTopic } from '../../src/transport'
import { newDocId } from '../../src/doc'
import { newIdentity, publicPart, randomKey } from '../../src/crypto'
import type { TransportSettings } from '../../src/transport'
import { startSignaling, waitFor, type Harness } from '../server/helpers'

beforeAll(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
})

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock()))
  await harness?.stop()
})

let n = 0
// Each phone gets its own socket (a distinct URL), as separate devices would.
const settings = (url: string): TransportSettings => ({ signalingUrls: [`${url}?phone=${++n}`], iceServers: [], relayOnly: false, mesh: false })

async function newPhone(url: string): Promise<Phone> {
  const phone = await Phone.setUp(await openBlossomDB(`phone-${++n}`), 'a long passphrase', settings(url))
  phones.push(phone)
  return phone
}

const ORIGIN = 'http://127.0.0.1:4173'

describe('one-time invites', () => {
  it('a core member invites another; the new phone gets the plan and both edit it', async () => {
    harness = await startSignaling()
    const a = await newPhone(harness.url)
    const id = await a.createAction('Spring mob')
    a.get(id).plan!.set('notes', 'meet by the fountain')
    const link = a.invite(id, 'core', ORIGIN)
    expect(link.startsWith(`${ORIGIN}/#/join/`)).toBe(true)
    expect(a.get(id).invites().map((i) => i.state)).toEqual(['open'])

    expect(Phone.describeInvite(link).tier).toBe('core')
    const b = await newPhone(harness.url)
    const attempt = b.join(link)
    const steps: string[] = []
    attempt.on('progress', (step) => steps.push(step))
    const joined = await attempt.done
    // A core phone was online and answered: the joining phone never said nobody answers.
    expect(steps).toContain('admitted')
    expect(steps).not.toContain('unanswered')
    const plan = b.get(joined).plan!
    await waitFor(() => plan.read().notes === 'meet by the fountain', 'plan synced to the new phone', 10_000)
    expect(plan.read().title).toBe('Spring mob')
    expect(a.get(id).invites().map((i) => i.state)).toEqual(['used'])

    plan.set('notes', 'meet by the fountain, north side')
    b.get(joined).planDoc!.flush()
    await waitFor(() => a.get(id).plan!.read().notes === 'meet by the fountain, north side', 'edit from the new core phone', 10_000)
  })

  it('a second phone opening a used link is told so and gets nothing', async () => {
    harness = await startSignaling()
    const a = await newPhone(harness.url)
    const id = await a.createAction('Mob')
    const link = a.invite(id, 'core', ORIGIN)
    const b = await newPhone(harness.url)
    await b.join(link).done
    const c = await newPhone(harness.url)
    const error = await c.join(link).done.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(JoinError)
    expect((error as JoinError).problem).toBe('used')
    expect((error as JoinError).message).toMatch(/already used/)
    expect(c.list()).toEqual([])
  })

  it('on the wire every lobby message of an invite is one size: join request, welcome and refusal, also for a large core', async () => {
    harness = await startSignaling()
    const a = await newPhone(harness.url)
    const id = await a.createAction('Mob')
    // A core of 17: its welcome no longer fits the lobby's 4 KiB floor, and a refusal must follow it.
    for (let i = 0; i < 16; i++) {
      const other = publicPart(newIdentity())
      a.get(id).planDoc!.addWriter(other)
      a.get(id).briefDoc.addWriter(other)
    }
    a.get(id).planDoc!.flush()
    a.get(id).briefDoc.flush()
    const sizesOn = async (link: string): Promise<{ sizes: number[]; watcher: WebSocket }> => {
      // Anyone on the server who learned the lobby's topic (the server itself) sees this.
      const { topic } = lobbyOf(decodeInvite(link).secret)
      const watcher = new WebSocket(harness!.url)
      const sizes: number[] = []
      watcher.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as { type: string; data?: unknown }
        if (m.type === 'publish' && typeof m.data === 'string') sizes.push(m.data.length)
      })
      await new Promise((resolve) => watcher.once('open', resolve))
      watcher.send(JSON.stringify({ type: 'subscribe', topics: [topic] }))
      watcher.send(JSON.stringify({ type: 'ping' }))
      await new Promise((resolve) => watcher.once('message', resolve))
      return { sizes, watcher }
    }
    const roundTrip = async (watcher: WebSocket): Promise<void> => {
      const pong = new Promise<void>((resolve) => watcher.on('message', (raw) => raw.toString().includes('"pong"') && resolve()))
      watcher.send(JSON.stringify({ type: 'ping' }))
      await pong
    }
    for (const tier of ['core', 'participant'] as const) {
      const link = a.invite(id, tier, ORIGIN)
      const seen = await sizesOn(link)
      await (await newPhone(harness.url)).join(link).done
      await roundTrip(seen.watcher)
      const answers = seen.sizes.length
      const late = await newPhone(harness.url)
      await expect(late.join(link).done).rejects.toBeInstanceOf(JoinError)
      // The refusal reached the late phone, so the server has sent it to the watcher too.
      await roundTrip(seen.watcher)
      seen.watcher.close()
      // The joiners' requests are one size; the core's answers, welcome and refusal, are one size.
      const welcomeSize = seen.sizes[answers - 1]!
      const refusalSize = seen.sizes.at(-1)!
      expect(refusalSize, `${tier}: ${seen.sizes.join(', ')}`).toBe(welcomeSize)
      expect(new Set(seen.sizes).size, `${tier}: ${seen.sizes.join(', ')}`).toBe(tier === 'core' ? 2 : 1)
    }
  })

  it('a refusal is as long as the welcome it stands for', () => {
    const secret = randomKey()
    const core = newIdentity()
    const joiner = publicPart(newIdentity())
    const access = { docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: Array.from({ length: 15 }, () => publicPart(newIdentity())) } }
    const w = welcome(secret, core, joiner, { tier: 'core', plan: access, brief: access, admittedBy: publicPart(core) })
    expect(w.length).toBeGreaterThan(4096)
    const r = refusal(secret, core, joiner, 'used', w.length)
    expect(r.length).toBe(w.length)
    expect(readLobbyMessage(secret, r)).toMatchObject({ t: 'refused', why: 'used' })
    expect(refusal(secret, core, joiner, 'used').length).toBeLessThan(300)
  })

  it('a join waits while no core phone is online and completes when one comes', async () => {
    harness = await startSignaling()
    const db = await openBlossomDB(`phone-${++n}`)
    const transport = settings(harness.url)
    let a = await Phone.setUp(db, 'a long passphrase', transport)
    const id = await a.createAction('Mob')
    const link = a.invite(id, 'core', ORIGIN)
    await a.lock()

    const b = await newPhone(harness.url)
    const attempt = b.join(link)
    const steps: string[] = []
    attempt.on('progress', (step) => steps.push(step))
    // Nobody answers: the phone says so once it asked a few times, not from the first request.
    await waitFor(() => steps.includes('unanswered'), 'told that no core phone answers', 15_000)
    expect(steps[0]).not.toBe('unanswered')
    expect(steps.filter((s) => s === 'asking').length).toBeGreaterThanOrEqual(1)
    expect(b.list()).toEqual([])

    a = await Phone.unlock(db, 'a long passphrase', transport)
    phones.push(a)
    const joined = await attempt.done
    await waitFor(() => b.get(joined).plan!.read().title === 'Mob', 'plan arrived', 10_000)
  })

  it('someone else holding the link cannot answer in the core\'s name: forged welcomes and refusals are ignored', async () => {
    harness = await startSignaling()
    const db = await openBlossomDB(`phone-${++n}`)
    const transport = settings(harness.url)
    let a = await Phone.setUp(db, 'a long passphrase', transport)
    const id = await a.createAction('The real plan')
    const link = a.invite(id, 'core', ORIGIN)
    await a.lock()

    // Eve has a copy of the link: she can enter the lobby and answer join requests.
    const invite = decodeInvite(link)
    const { topic, key } = lobbyOf(invite.secret)
    const eve = newIdentity()
    const fake = { docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: [publicPart(eve)] } }
    let answered = 0
    const evil = new SealedTopic(topic, key, 64 * 1024, (bytes) => {
      const m = readLobbyMessage(invite.secret, bytes)
      if (m.t !== 'join') return
      evil.send(welcome(invite.secret, eve, m.joiner, { tier: 'core', admittedBy: eve, plan: fake, brief: fake }))
      evil.send(refusal(invite.secret, eve, m.joiner, 'revoked'))
      answered++
    })
    evil.attach(holdSignaling(`${harness.url}?eve`, evil))

    const b = await newPhone(harness.url)
    const attempt = b.join(link)
    await waitFor(() => answered >= 2, 'Eve answered twice', 10_000)
    expect(b.list()).toEqual([])
    a = await Phone.unlock(db, 'a long passphrase', transport)
    phones.push(a)
    const joined = await attempt.done
    await waitFor(() => b.get(joined).plan!.read().title === 'The real plan', 'the real plan arrived', 10_000)
    evil.close()
  })

  it('bad links get their own clear message and no access', () => {
    const expect_ = (link: string, problem: string) => {
      try {
        decodeInvite(link, Date.now())
      } catch (e) {
        expect(e).toBeInstanceOf(InviteLinkError)
        expect((e as InviteLinkError).problem).toBe(problem)
        expect((e as InviteLinkError).message.length).toBeGreaterThan(20)
        return
      }
      throw new Error(`expected ${problem} for ${link}`)
    }
    expect_('https://example.org/#/join/hello world', 'malformed')
    expect_('not a link at all', 'malformed')
    expect_('', 'malformed')
    // Build real links to cut and to expire.
    return (async () => {
      harness = await startSignaling()
      const a = await newPhone(harness.url)
      const id = await a.createAction('Mob')
      const link = a.invite(id, 'core', ORIGIN)
      expect(decodeInvite(link).tier).toBe('core')
      expect_(link.slice(0, -3), 'incomplete')
      const typo = link.slice(0, -5) + (link.at(-5) === 'A' ? 'B' : 'A') + link.slice(-4)
      expect_(typo, 'incomplete')
      const expired = a.invite(id, 'core', ORIGIN, '', 1)
      await new Promise((r) => setTimeout(r, 1100))
      expect_(expired, 'expired')
    })()
  })
})
