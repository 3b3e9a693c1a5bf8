// Process entry: `tsx src/server/main.ts`. Configuration from HOST, PORT and DIST_DIR only.
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { createAppServer } from './app-server'

function portFromEnv(value: string | undefined): number {
  const port = Number(value ?? '4173')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError('PORT must be an integer between 0 and 65535')
  }
  return port
}

const distRoot = process.env['DIST_DIR'] ?? fileURLToPath(new URL('../../dist', import.meta.url))
const app = createAppServer({
  host: process.env['HOST'] ?? '127.0.0.1',
  port: portFromEnv(process.env['PORT']),
  distRoot: path.resolve(distRoot),
})

const url = await app.listen()
console.log(`Blossom listening on ${url}`)

let stopping = false
const stop = (): void => {
  if (stopping) process.exit(1) // second signal: do not wait
  stopping = true
  const force = setTimeout(() => process.exit(1), 5_000)
  force.unref()
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
