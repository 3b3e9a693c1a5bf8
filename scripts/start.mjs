#!/usr/bin/env node
// `npm start`: builds the app when dist/ is missing or older than its sources, then runs the app
// server (src/server/main.ts, through tsx) in this process. HOST, PORT and DIST_DIR pass through.
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = process.env['DIST_DIR'] ? path.resolve(process.env['DIST_DIR']) : path.join(root, 'dist')

/** What the build reads. The server (src/server) is not bundled, so it does not count. */
const SOURCES = ['index.html', 'vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'src', 'sw', 'public', 'scripts']
const NOT_BUNDLED = new Set([path.join(root, 'src', 'server')])

function newestMtime(entry) {
  if (NOT_BUNDLED.has(entry)) return 0
  let info
  try {
    info = statSync(entry)
  } catch {
    return 0
  }
  if (!info.isDirectory()) return info.mtimeMs
  let newest = 0
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)))
  return newest
}

function staleReason() {
  const outputs = ['index.html', 'sw.js'].map((name) => path.join(dist, name))
  if (!outputs.every((file) => existsSync(file))) return `${path.relative(root, dist) || dist}/ has no build`
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs))
  const changed = Math.max(...SOURCES.map((name) => newestMtime(path.join(root, name))))
  return changed > built ? 'sources changed since the last build' : null
}

const reason = staleReason()
if (reason !== null) {
  console.log(`Building Blossom (${reason})…`)
  const { build } = await import('vite')
  try {
    await build({ root, configFile: path.join(root, 'vite.config.ts'), build: { outDir: dist } })
  } catch (error) {
    console.error('Build failed:', error instanceof Error ? error.message : error)
    process.exit(1)
  }
}

// The server is TypeScript: load it through tsx's ESM loader. It prints its URL once listening.
const { register } = await import('tsx/esm/api')
register()
process.env['DIST_DIR'] = dist
await import(path.join(root, 'src', 'server', 'main.ts'))
