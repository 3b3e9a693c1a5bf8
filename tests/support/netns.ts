// Home networks behind NAT, made of network namespaces inside the test's own (private) one, so a
// test can put phones where real phones are: each on its own private network (192.168.k.0/24)
// behind its own router, which masquerades it behind one "public" address (10.0.k.2). The test's
// namespace plays the internet: it routes between the routers and holds the public address of the
// servers (PUBLIC_IP, on its loopback). Nothing here reaches outside the test's namespace.
//
// A namespace is held by a `sleep` started under `unshare -n`; commands enter it with nsenter.
// Needs root inside the test's namespace (the browser tests run as root in `unshare -n`).
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const PUBLIC_IP = '10.0.0.1'

/** How a router maps a phone's connections: `cone` keeps the source port for every destination (what
 * Linux does by default, and most home routers); `symmetric` picks a new random port for each
 * destination (many carrier NATs), so what a STUN server saw is of no use to another phone. */
export type NatKind = 'cone' | 'symmetric'

export interface Home {
  /** The phone's namespace (a process id for nsenter). */
  readonly phone: number
  readonly router: number
  /** The router's public address: what the internet sees of this phone. */
  readonly publicIp: string
  readonly privateIp: string
  setNat(kind: NatKind): void
}

export interface Homes {
  readonly homes: Home[]
  /** A Chromium executable (a script entering the phone's namespace, then Debian's /usr/bin/chromium). */
  chromiumIn(home: Home): string
  close(): void
}

const run = (cmd: string, args: readonly string[]): void => void execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
const inNs = (pid: number, cmd: string, ...args: string[]): void => run('nsenter', ['-t', String(pid), '-n', cmd, ...args])

const netnsOf = (pid: number | 'self'): string => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`)
  } catch {
    return ''
  }
}

/** A new namespace, once its holder has entered it (until then, links moved to it land in ours). */
async function namespace(): Promise<number> {
  const holder = spawn('unshare', ['-n', 'sleep', '3600'], { stdio: 'ignore', detached: false })
  if (holder.pid === undefined) throw new Error('could not start a namespace (unshare)')
  const ours = netnsOf('self')
  for (let tries = 0; netnsOf(holder.pid) === ours || netnsOf(holder.pid) === ''; tries++) {
    if (tries > 100) throw new Error('unshare did not enter a new network namespace')
    await new Promise((r) => setTimeout(r, 20))
  }
  return holder.pid
}

/** `count` homes, each a phone behind its own NAT router. */
export async function makeHomes(count: number): Promise<Homes> {
  run('ip', ['link', 'set', 'lo', 'up'])
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1') // /proc/sys/net is the opener's namespace's
  run('ip', ['addr', 'replace', `${PUBLIC_IP}/32`, 'dev', 'lo'])
  const dir = mkdtempSync(path.join(tmpdir(), 'blossom-homes-'))
  const holders: number[] = []
  const homes: Home[] = []
  for (let k = 1; k <= count; k++) {
    const router = await namespace()
    const phone = await namespace()
    holders.push(router, phone)
    const wan = `wan${k}`
    run('ip', ['link', 'add', wan, 'type', 'veth', 'peer', 'name', 'up0', 'netns', String(router)])
    run('ip', ['addr', 'add', `10.0.${k}.1/24`, 'dev', wan])
    run('ip', ['link', 'set', wan, 'up'])
    inNs(router, 'ip', 'link', 'set', 'lo', 'up')
    inNs(router, 'ip', 'addr', 'add', `10.0.${k}.2/24`, 'dev', 'up0')
    inNs(router, 'ip', 'link', 'set', 'up0', 'up')
    inNs(router, 'ip', 'route', 'add', 'default', 'via', `10.0.${k}.1`)
    inNs(router, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward')
    inNs(router, 'ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(phone))
    inNs(router, 'ip', 'addr', 'add', `192.168.${k}.1/24`, 'dev', 'lan0')
    inNs(router, 'ip', 'link', 'set', 'lan0', 'up')
    inNs(phone, 'ip', 'link', 'set', 'lo', 'up')
    inNs(phone, 'ip', 'addr', 'add', `192.168.${k}.2/24`, 'dev', 'eth0')
    inNs(phone, 'ip', 'link', 'set', 'eth0', 'up')
    inNs(phone, 'ip', 'route', 'add', 'default', 'via', `192.168.${k}.1`)
    const home: Home = {
      phone,
      router,
      publicIp: `10.0.${k}.2`,
      privateIp: `192.168.${k}.2`,
      setNat(kind) {
        // Masquerade what leaves for the internet; nothing comes in unless it answers what went out.
        const rules = [
          'flush ruleset',
          'table ip nat {',
          '  chain post { type nat hook postrouting priority 100; oifname "up0" masquerade' + (kind === 'symmetric' ? ' random,fully-random' : '') + '; }',
          '}',
          'table ip filter {',
          '  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; iifname "lan0" accept; }',
          // Dropped here, an unsolicited packet leaves no conntrack entry behind (an unconfirmed one
          // dies with its packet); a kept one would take the port a phone's next flow maps to, and
          // break hole punching as a real router's firewall does not.
          '  chain input { type filter hook input priority 0; policy drop; ct state established,related accept; iifname { "lo", "lan0" } accept; }',
          '}',
        ].join('\n')
        // Flows already mapped keep their mapping; the phone's next connections get the new kind.
        execFileSync('nsenter', ['-t', String(router), '-n', 'nft', '-f', '-'], { input: rules })
      },
    }
    home.setNat('cone')
    homes.push(home)
  }
  return {
    homes,
    chromiumIn(home) {
      const file = path.join(dir, `chromium-${home.phone}`)
      writeFileSync(file, `#!/bin/sh\nexec nsenter -t ${home.phone} -n /usr/bin/chromium "$@"\n`)
      chmodSync(file, 0o755)
      return file
    },
    close() {
      for (const pid of holders) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      run('ip', ['addr', 'del', `${PUBLIC_IP}/32`, 'dev', 'lo'])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
