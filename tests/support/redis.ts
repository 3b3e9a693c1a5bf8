// Debian's redis-server for tests, on 127.0.0.1 and a port of its own, keeping nothing on disk.
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection, createServer } from 'node:net'

export interface TestRedis {
  readonly url: string
  readonly port: number
  readonly process: ChildProcess
  stop(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'))
    socket.once('data', (d) => (socket.destroy(), resolve(d.toString().startsWith('+PONG'))))
    socket.once('error', () => resolve(false))
  })

export async function startRedis(port?: number): Promise<TestRedis> {
  const at = port ?? (await freePort())
  const child = spawn('redis-server', ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  while (!(await answers(at))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: `redis://127.0.0.1:${at}`,
    port: at,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      }),
  }
}
