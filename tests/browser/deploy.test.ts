// The deploy/ guide, run as it sets a host up: Debian's nginx with a test certificate in front of
// two app instances started as blossom@.service starts them, sharing topics through the guide's
// Redis, with the guide's coturn, and Chromium phones that reach the app only through nginx, over
// https:// and wss://. The site, the unit, the environment file and the Redis and coturn
// configurations are the files in deploy/ themselves: only host names, secrets, ports and paths are
// replaced, each by a replacement that fails the test if it no longer finds its text, so the guide
// and this test cannot drift apart.
//
// The phones here cannot meet over WebRTC (Chromium without loopback peer connections, in a network
// namespace with only loopback; coturn refuses loopback peers): everything between them goes
// through nginx and the instances, so a reveal on the participant proves that path, also after an
// instance dies.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { SECURITY_HEADERS } from '../../src/release/headers'
import type { NetworkAnswer } from '../../src/server/ice'
import { allocate } from '../support/turn'
import { ROOT } from '../support/vite'
import { ARGS, PhonePage, WAIT_MS } from './harness'
import { t } from './words'

const run = promisify(execFile)
const HOST = 'blossom.test'
const TURN_SECRET = 'deploy-test-turn-secret-0123456789'
const LOCATION = 'MARKER-LOCATION: the loading bay behind the library'

let tmp: string
let cert: string
const ports = { https: 0, http: 0, redis: 0, turn: 0, turns: 0, a: 0, b: 0 }
let origin: string
let nginx: ChildProcess | undefined
let redis: ChildProcess | undefined
let coturn: ChildProcess | undefined
const instances = new Map<number, ChildProcess>()
let nginxTest = ''
let browser: Browser

const listening = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })

/** `n` distinct free ports on 127.0.0.1 (each held until all are known). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, listening))
  const found = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return found
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })

/** One Redis command over a fresh connection; the raw reply. */
function redisCommand(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(ports.redis, '127.0.0.1')
    let reply = ''
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`redis: no answer to ${args[0]}`))), 5_000)
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(reply)
    }
    socket.once('error', (e) => (clearTimeout(timer), reject(e)))
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      const bulk = /^\$(\d+)\r\n/.exec(reply)
      if (bulk ? Buffer.byteLength(reply) >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n')) done()
    })
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
  })
}

/** Redis connections that listen on a pub/sub channel: one at least per instance on the bus. */
async function busListeners(): Promise<number> {
  const clients = (await redisCommand('CLIENT', 'LIST')).split('\n')
  return clients.filter((c) => /\b(sub|psub)=[1-9]/.test(c)).length
}

/** Open TCP connections to 127.0.0.1:port (nginx's sockets to that instance), from /proc. */
async function connectionsTo(port: number): Promise<number> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  const lines = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)
  return lines.filter((l) => {
    const [, address, , state] = l.trim().split(/\s+/)
    return address === local && state === '01'
  }).length
}

/**
 * A file of deploy/ with the test's names, secrets, ports and paths: each replacement must find its
 * text, and none of `leftovers` may remain outside comments.
 */
async function fromGuide(file: string, replacements: readonly (readonly [string, string])[], leftovers: readonly string[]): Promise<string> {
  let text = await readFile(path.join(ROOT, 'deploy', file), 'utf8')
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`deploy/${file} no longer contains ${JSON.stringify(from)}: update this test with the guide`)
    text = text.split(from).join(to)
  }
  const directives = text.replace(/^\s*#.*$/gm, '')
  for (const left of leftovers) {
    if (directives.includes(left)) throw new Error(`deploy/${file} has ${JSON.stringify(left)} where this test does not replace it: update this test with the guide`)
  }
  return text
}

/** `KEY=value` lines (systemd's EnvironmentFile, or one Environment= line split at spaces). */
const envOf = (entries: readonly string[]): Record<string, string> =>
  Object.fromEntries(entries.filter((e) => /^[A-Z_]+=/.test(e)).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))

/** An app instance as deploy/blossom@.service runs it (its command, folder and environment), on the shared Redis. */
async function startInstance(port: number): Promise<void> {
  const unit = await fromGuide(
    'blossom@.service',
    [
      ['WorkingDirectory=/opt/blossom\n', `WorkingDirectory=${ROOT}\n`],
      ['PORT=%i', `PORT=${port}`],
      ['DIST_DIR=/opt/blossom/dist', `DIST_DIR=${inject('shellBuilds').a.dist}`],
    ],
    [],
  )
  const setting = (key: string): string => {
    const value = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]
    if (value === undefined) throw new Error(`deploy/blossom@.service has no ${key}= line: update this test with the guide`)
    return value
  }
  const settings = await fromGuide(
    'blossom.env.example',
    [
      ['blossom.example.org:3478', `${HOST}:${ports.turn}`],
      ['change-me-to-the-secret-in-turnserver.conf', TURN_SECRET],
      // The guide's step for a second instance.
      ['#BLOSSOM_REDIS_URL=redis://127.0.0.1:6379', `BLOSSOM_REDIS_URL=redis://127.0.0.1:${ports.redis}`],
    ],
    ['example.org', 'change-me'],
  )
  const [command, ...args] = setting('ExecStart').split(' ')
  const child = spawn(command!, args, {
    cwd: setting('WorkingDirectory'),
    // Its own process group, so that killing the instance kills all of it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // As systemd: the environment file, and the unit's own settings (which the file must not set).
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...envOf(settings.split('\n')), ...envOf(setting('Environment').split(' ')) },
  })
  instances.set(port, child)
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  let exited = false
  child.once('exit', () => (exited = true))
  await waitFor(`the instance on port ${port} to listen`, async () => {
    if (exited) throw new Error(`the instance on port ${port} exited: ${output}`)
    return output.includes('Blossom listening on')
  })
}

/** SIGKILL to the instance's whole process group, as when its machine or process dies. */
function killInstance(port: number): void {
  const child = instances.get(port)
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
  instances.delete(port)
}

/** The guide's nginx site, with the test's names, files and ports. */
const siteFromGuide = (): Promise<string> =>
  fromGuide(
    'nginx/blossom.conf',
    [
      ['/etc/letsencrypt/live/blossom.example.org/fullchain.pem', path.join(tmp, 'cert.pem')],
      ['/etc/letsencrypt/live/blossom.example.org/privkey.pem', path.join(tmp, 'key.pem')],
      ['server_name blossom.example.org;', `server_name ${HOST};`],
      ['server 127.0.0.1:4173 ', `server 127.0.0.1:${ports.a} `],
      // The guide's second instance, commented out there until Redis runs.
      ['# server 127.0.0.1:4174 ', `server 127.0.0.1:${ports.b} `],
      ['listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`],
      ['listen [::]:443 ssl http2;', ''],
      ['listen 80;', `listen 127.0.0.1:${ports.http};`],
      ['listen [::]:80;', ''],
      ['error_log /var/log/nginx/error.log crit;', `error_log ${path.join(tmp, 'site-error.log')} crit;`],
      ['root /var/www/html;', `root ${path.join(tmp, 'webroot')};`],
    ],
    ['example.org', '/etc/', '/var/', ':4173', ':4174', ' 443', ' 80;'],
  )

/**
 * The guide's coturn. Its listening and relay address are given here: on a host coturn finds its
 * public address by itself, but it will not pick loopback, all this namespace has.
 */
async function startCoturn(): Promise<void> {
  const conf = await fromGuide(
    'turnserver.conf',
    [
      ['listening-port=3478', `listening-port=${ports.turn}`],
      ['tls-listening-port=5349', `tls-listening-port=${ports.turns}`],
      ['cert=/etc/coturn/fullchain.pem', `cert=${path.join(tmp, 'cert.pem')}`],
      ['pkey=/etc/coturn/privkey.pem', `pkey=${path.join(tmp, 'key.pem')}`],
      ['=blossom.example.org', `=${HOST}`],
      ['static-auth-secret=change-me-to-the-secret-in-blossom.env', `static-auth-secret=${TURN_SECRET}`],
    ],
    ['example.org', 'change-me', '/etc/'],
  )
  await writeFile(path.join(tmp, 'turnserver.conf'), conf)
  coturn = spawn('turnserver', ['-c', path.join(tmp, 'turnserver.conf'), '--pidfile=', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1'], { stdio: 'ignore' })
  // Up once it answers an allocation at all (here: 401, no credential).
  await waitFor(
    'coturn',
    async () => {
      const answer = await allocate('127.0.0.1', ports.turn, 'nobody', 'nothing')
      return answer.ok || answer.code !== 0
    },
    10_000,
  )
}

/** Around the site, what Debian's /etc/nginx/nginx.conf has around every site, with paths in tmp. */
function nginxConf(): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(tmp, kind)};`)
  return [
    // Root runs the test; nginx's workers otherwise drop to "nobody", who cannot read tmp.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${path.join(tmp, 'nginx.pid')};`,
    `error_log ${path.join(tmp, 'nginx-error.log')} notice;`,
    'events { worker_connections 1024; }',
    'http {',
    '  sendfile on;',
    '  tcp_nopush on;',
    '  types_hash_max_size 2048;',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    '  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;',
    '  ssl_prefer_server_ciphers on;',
    // Debian logs every request of every site here, unless the site says otherwise: ours must.
    `  access_log ${path.join(tmp, 'access.log')};`,
    '  gzip on;',
    ...temp,
    `  include ${path.join(tmp, 'blossom.conf')};`,
    '}',
    '',
  ].join('\n')
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

function answer(resolve: (a: Answer) => void, reject: (e: Error) => void) {
  return (res: IncomingMessage): void => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (d: string) => (body += d))
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    res.on('error', reject)
  }
}

/** GET through nginx over https, trusting only the test certificate, for the name blossom.test. */
const get = (pathname: string): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: ports.https, path: pathname, servername: HOST, ca: cert, agent: false, headers: { host: `${HOST}:${ports.https}` }, timeout: 10_000 },
      answer(resolve, reject),
    )
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: timed out`)))
    req.on('error', reject)
    req.end()
  })

/** GET on nginx's plain http port. */
const plainGet = (pathname: string): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: ports.http, path: pathname, agent: false, headers: { host: HOST }, timeout: 10_000 }, answer(resolve, reject))
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: timed out`)))
    req.on('error', reject)
    req.end()
  })

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'blossom-deploy-'))
  const keys = Object.keys(ports) as (keyof typeof ports)[]
  const found = await freePorts(keys.length)
  keys.forEach((key, i) => (ports[key] = found[i]!))
  origin = `https://${HOST}:${ports.https}`

  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST},IP:127.0.0.1`,
    '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'),
  ])
  cert = await readFile(path.join(tmp, 'cert.pem'), 'utf8')

  await writeFile(path.join(tmp, 'redis.conf'), await fromGuide('redis.conf', [['port 6379', `port ${ports.redis}`]], []))
  redis = spawn('redis-server', [path.join(tmp, 'redis.conf'), '--dir', tmp], { stdio: 'ignore' })
  await waitFor('Redis', async () => (await redisCommand('PING').catch(() => '')) === '+PONG\r\n')
  await startCoturn()
  await Promise.all([startInstance(ports.a), startInstance(ports.b)])

  await mkdir(path.join(tmp, 'webroot', '.well-known', 'acme-challenge'), { recursive: true })
  await writeFile(path.join(tmp, 'webroot', '.well-known', 'acme-challenge', 'token-1'), 'token-1.thumbprint')
  await writeFile(path.join(tmp, 'blossom.conf'), await siteFromGuide())
  const conf = path.join(tmp, 'nginx.conf')
  await writeFile(conf, nginxConf())
  // nginx -t: the same check the guide tells the operator to run before every reload.
  nginxTest = (await run('nginx', ['-t', '-c', conf]).catch((e: { stderr?: string }) => {
    throw new Error(`nginx -t refused the guide's site:\n${e.stderr ?? String(e)}`)
  })).stderr
  nginx = spawn('nginx', ['-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' })
  await waitFor('nginx', () => accepts(ports.https))

  // Only the test certificate is trusted (by its key), and blossom.test is 127.0.0.1. No
  // --allow-loopback-in-peer-connection: phones have no WebRTC path to each other here.
  const spki = createHash('sha256').update(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64')
  const args = ARGS.filter((a) => a !== '--allow-loopback-in-peer-connection')
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...args, `--ignore-certificate-errors-spki-list=${spki}`, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    timeout: WAIT_MS,
  })
}, 4 * WAIT_MS)

afterAll(async () => {
  await browser?.close()
  nginx?.kill('SIGTERM')
  for (const port of [...instances.keys()]) killInstance(port)
  redis?.kill('SIGKILL')
  coturn?.kill('SIGKILL')
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

/** Every WebSocket a phone opened, and how many of them closed. */
interface Sockets {
  urls: string[]
  closed: number
}

async function phone(): Promise<{ p: PhonePage; sockets: Sockets }> {
  const p = await PhonePage.open(browser, origin)
  const sockets: Sockets = { urls: [], closed: 0 }
  p.page.on('websocket', (ws) => {
    sockets.urls.push(ws.url())
    ws.on('close', () => sockets.closed++)
  })
  return { p, sockets }
}

async function coreWithAction(title: string): Promise<{ p: PhonePage; sockets: Sockets }> {
  const core = await phone()
  await core.p.goto()
  await core.p.setUp()
  await core.p.createAction(title)
  await core.p.page.getByLabel(t('location')).fill(LOCATION)
  await core.p.page.getByRole('button', { name: t('saveLocation') }).click()
  await core.p.page.getByText(t('locationSealed')).waitFor()
  return core
}

async function joined(link: string): Promise<{ p: PhonePage; sockets: Sockets }> {
  expect(link.startsWith(`${origin}/`)).toBe(true)
  const joiner = await phone()
  await joiner.p.page.goto(link)
  await joiner.p.page.locator('[data-crypto="ready"]').waitFor()
  await joiner.p.setUp()
  return joiner
}

const revealed = (p: PhonePage): Promise<unknown> => p.page.locator('[data-reveal]', { hasText: LOCATION }).waitFor()

function throughNginx(...all: Sockets[]): void {
  const urls = all.flatMap((s) => s.urls)
  expect(urls.length).toBeGreaterThan(0)
  for (const url of urls) expect(url).toMatch(new RegExp(`^wss://${HOST.replace('.', '\\.')}:${ports.https}/signal\\?s=[A-Za-z0-9_-]+$`))
}

/** Nothing went over WebRTC: no data channel carried a byte, so all went through nginx. */
async function noWebRtc(...phones: PhonePage[]): Promise<void> {
  for (const p of phones) {
    const { sent, received } = await p.channels()
    expect({ sent, received }).toEqual({ sent: 0, received: 0 })
  }
}

describe('a host set up as deploy/ says: nginx in front of two instances that share topics through Redis, and coturn', () => {
  it('serves the app over https as the app sends it: headers unchanged, /network never cached, http only redirects and answers certbot', async () => {
    expect(nginxTest).toContain('test is successful')
    expect(nginxTest).not.toMatch(/\[(warn|emerg|alert)\]/)

    const app = await get('/')
    expect(app.status).toBe(200)
    expect(app.body).toContain('<!doctype html>')
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(app.headers[name.toLowerCase()], name).toBe(value)
    expect(app.headers['strict-transport-security']).toBe('max-age=31536000')
    expect(app.headers['server']).toBe('nginx')

    const network = await get('/network')
    expect(network.status).toBe(200)
    expect(network.headers['cache-control']).toBe('no-store')
    expect(network.headers['content-security-policy']).toBe(SECURITY_HEADERS['Content-Security-Policy'])

    // /signal without an upgrade reaches the app, which says it speaks WebSocket only.
    expect((await get('/signal')).status).toBe(426)

    const redirect = await plainGet('/some/page?x=1')
    expect(redirect.status).toBe(301)
    expect(redirect.headers['location']).toBe(`https://${HOST}/some/page?x=1`)
    const challenge = await plainGet('/.well-known/acme-challenge/token-1')
    expect(challenge.status).toBe(200)
    expect(challenge.body).toBe('token-1.thumbprint')
  })

  it('the guide’s coturn takes the TURN credential that /network hands out through nginx, and no other', async () => {
    const network = JSON.parse((await get('/network')).body) as NetworkAnswer
    expect(network.iceServers).toContainEqual({ urls: [`stun:${HOST}:${ports.turn}`] })
    const turn = network.iceServers.find((s) => s.username !== undefined)
    expect(turn?.urls).toEqual([`turn:${HOST}:${ports.turn}?transport=udp`, `turn:${HOST}:${ports.turn}?transport=tcp`])
    expect(await allocate('127.0.0.1', ports.turn, turn!.username!, turn!.credential!)).toEqual({ ok: true })
    expect(await allocate('127.0.0.1', ports.turn, turn!.username!, 'a made-up password')).toEqual({ ok: false, code: 401 })
  })

  it('a core phone and a participant meet over wss:// through nginx, on both instances, and the participant sees the reveal after Go now', async () => {
    const core = await coreWithAction('Through the proxy')
    const participant = await joined(await core.p.invite('participant', 'P'))
    await participant.p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
    await participant.p.page.getByText(t('sealedLocation')).waitFor()

    // Round robin put the phones' sockets on both instances, and both instances are on the bus.
    await expect.poll(() => connectionsTo(ports.a), { timeout: WAIT_MS }).toBeGreaterThan(0)
    await expect.poll(() => connectionsTo(ports.b), { timeout: WAIT_MS }).toBeGreaterThan(0)
    await expect.poll(busListeners, { timeout: WAIT_MS }).toBeGreaterThanOrEqual(2)

    await core.p.goNow()
    await revealed(participant.p)
    throughNginx(core.sockets, participant.sockets)
    await noWebRtc(core.p, participant.p)
    expect(participant.p.pageErrors).toEqual([])
    await core.p.close()
    await participant.p.close()
  }, 5 * WAIT_MS)

  it('when an instance dies mid-action, phones reconnect through nginx to the other, and an edit and Go now still arrive', async () => {
    const a = await coreWithAction('One instance dies')
    const b = await joined(await a.p.invite('core', 'B'))
    await b.p.notes().waitFor()
    await a.p.page.locator('[data-core-size="2"]').waitFor()
    const participant = await joined(await a.p.invite('participant', 'P'))
    await participant.p.page.getByText(t('sealedLocation')).waitFor()

    await expect.poll(() => connectionsTo(ports.a), { timeout: WAIT_MS }).toBeGreaterThan(0)
    const opened = [a, b, participant].map((phone) => phone.sockets.urls.length)
    const closed = [a, b, participant].reduce((n, phone) => n + phone.sockets.closed, 0)
    killInstance(ports.a)
    await waitFor('the killed instance to stop accepting', async () => !(await accepts(ports.a)))

    // Its sockets closed, and the phones opened new ones (through nginx: checked below).
    await expect.poll(() => [a, b, participant].reduce((n, phone) => n + phone.sockets.closed, 0), { timeout: WAIT_MS }).toBeGreaterThan(closed)
    await expect.poll(() => [a, b, participant].some((phone, i) => phone.sockets.urls.length > opened[i]!), { timeout: WAIT_MS }).toBe(true)

    await a.p.typeNotes('after one instance died')
    await b.p.waitNotes((n) => n.includes('after one instance died'), 'an edit after one instance died')
    await a.p.goNow()
    await revealed(participant.p)
    throughNginx(a.sockets, b.sockets, participant.sockets)
    await noWebRtc(a.p, b.p, participant.p)

    // The operator keeps as little as possible: no request was logged, and the failed connections
    // to the dead instance left no address and no socket tag in the error log.
    expect((await stat(path.join(tmp, 'access.log')).catch(() => ({ size: 0 }))).size).toBe(0)
    const errors = await readFile(path.join(tmp, 'site-error.log'), 'utf8').catch(() => '')
    expect(errors).not.toContain('/signal')
    expect(errors).not.toContain('client:')
    for (const phone of [a, b, participant]) await phone.p.close()
  }, 6 * WAIT_MS)
})
