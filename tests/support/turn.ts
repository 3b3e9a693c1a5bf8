// Debian's coturn for tests, and the least TURN client that asks it for an allocation (RFC 5766
// Allocate with RFC 5389 long-term credentials over UDP), so a test can check for real that a
// credential the app server made is one coturn accepts, and that an expired or forged one is not.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'

export interface Turnserver {
  readonly process: ChildProcess
  stop(): void
}

/** coturn with the shared-secret scheme (--use-auth-secret), on `ip`:`port`, relaying on `ip`. */
export async function startTurnserver({ ip, port, secret, extra = [], netns }: { ip: string; port: number; secret: string; extra?: string[]; netns?: number }): Promise<Turnserver> {
  const args = [
    '-n', // no config file
    `--listening-ip=${ip}`,
    `--relay-ip=${ip}`,
    `--listening-port=${port}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=blossom.test',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-stdout-log',
    '--log-file=stdout',
    '--simple-log',
    ...extra,
  ]
  const child = netns === undefined ? spawn('turnserver', args, { stdio: 'ignore' }) : spawn('nsenter', ['-t', String(netns), '-n', 'turnserver', ...args], { stdio: 'ignore' })
  // Ready once it answers a STUN binding request.
  const deadline = Date.now() + 10_000
  while (!(await bindingAnswered(ip, port))) {
    if (Date.now() > deadline) throw new Error('turnserver did not start')
  }
  return { process: child, stop: () => void child.kill('SIGTERM') }
}

const MAGIC = 0x2112a442
const ATTR = { username: 0x0006, integrity: 0x0008, error: 0x0009, realm: 0x0014, nonce: 0x0015, transport: 0x0019, relayed: 0x0016 } as const

function message(type: number, attrs: [number, Buffer][], integrityKey?: Buffer): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => attribute(t, v)))
  const header = Buffer.alloc(20)
  header.writeUInt16BE(type, 0)
  header.writeUInt32BE(MAGIC, 4)
  randomBytes(12).copy(header, 8)
  if (!integrityKey) {
    header.writeUInt16BE(body.length, 2)
    return Buffer.concat([header, body])
  }
  // The length counts MESSAGE-INTEGRITY itself (24 bytes) when its HMAC is computed.
  header.writeUInt16BE(body.length + 24, 2)
  const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header, body])).digest()
  return Buffer.concat([header, body, attribute(ATTR.integrity, mac)])
}

function attribute(type: number, value: Buffer): Buffer {
  const a = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4)
  a.writeUInt16BE(type, 0)
  a.writeUInt16BE(value.length, 2)
  value.copy(a, 4)
  return a
}

function attributes(packet: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>()
  for (let at = 20; at + 4 <= packet.length; ) {
    const type = packet.readUInt16BE(at)
    const length = packet.readUInt16BE(at + 2)
    found.set(type, packet.subarray(at + 4, at + 4 + length))
    at += 4 + Math.ceil(length / 4) * 4
  }
  return found
}

async function exchange(ip: string, port: number, packets: (answer: Buffer | undefined) => Buffer | undefined): Promise<Buffer | undefined> {
  const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4')
  try {
    let answer: Buffer | undefined
    for (let packet = packets(undefined); packet; packet = packets(answer)) {
      answer = await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 1_000)
        socket.once('message', (m) => (clearTimeout(timer), resolve(m)))
        socket.send(packet, port, ip)
      })
      if (!answer) return undefined
    }
    return answer
  } finally {
    socket.close()
  }
}

async function bindingAnswered(ip: string, port: number): Promise<boolean> {
  let sent = false
  const answer = await exchange(ip, port, () => (sent ? undefined : ((sent = true), message(0x0001, []))))
  return answer?.readUInt16BE(0) === 0x0101
}

export type AllocateResult = { ok: true } | { ok: false; code: number }

/** Asks `ip`:`port` for a UDP relay with this username and password (401, then the authenticated request). */
export async function allocate(ip: string, port: number, username: string, password: string): Promise<AllocateResult> {
  const udp: [number, Buffer] = [ATTR.transport, Buffer.from([17, 0, 0, 0])]
  let step = 0
  const answer = await exchange(ip, port, (previous) => {
    if (step++ === 0) return message(0x0003, [udp])
    if (step > 2 || !previous || previous.readUInt16BE(0) !== 0x0113) return undefined
    const attrs = attributes(previous)
    const realm = attrs.get(ATTR.realm)
    const nonce = attrs.get(ATTR.nonce)
    if (!realm || !nonce) return undefined
    const key = createHash('md5').update(`${username}:${realm.toString('utf8')}:${password}`).digest()
    return message(0x0003, [udp, [ATTR.username, Buffer.from(username)], [ATTR.realm, realm], [ATTR.nonce, nonce]], key)
  })
  if (!answer) return { ok: false, code: 0 }
  if (answer.readUInt16BE(0) === 0x0103) return { ok: true }
  const error = attributes(answer).get(ATTR.error)
  return { ok: false, code: error ? error[2]! * 100 + error[3]! : 0 }
}
