// Reproducible build: two clean copies of the sources, in different folders, built under different
// time zones and locales, give byte-identical dist/ (so the same manifest and fingerprint). Anyone
// can rebuild a release and compare its fingerprint with the one the project published.
import { spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { fingerprintOf, MANIFEST_PATH, parseManifestDocument } from '../../src/release'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** What a build reads: the sources and their configuration (node_modules is shared, from package-lock.json). */
const SOURCES = ['index.html', 'package.json', 'package-lock.json', 'tsconfig.json', 'vite.config.ts', 'src', 'sw', 'public', 'scripts', 'release']
const BUILD_TIMEOUT_MS = 180_000

const temporary: string[] = []
afterAll(async () => {
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function cleanCopy(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `blossom-${name}-`))
  temporary.push(dir)
  const tree = path.join(dir, 'deeper', name, 'blossom')
  for (const entry of SOURCES) await cp(path.join(ROOT, entry), path.join(tree, entry), { recursive: true })
  await symlink(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'))
  return tree
}

function build(tree: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(tree, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: tree,
      // No git in the copies: the build id is the package version in both (a git checkout adds the commit).
      env: { ...process.env, NODE_ENV: 'production', BLOSSOM_BUILD_ID: '', GIT_DIR: path.join(tree, 'no-git'), ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`vite build in ${tree} failed (exit ${code})`))
    })
  })
}

async function files(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name)
    if (entry.isDirectory()) out.push(...(await files(dir, relative)))
    else out.push(relative)
  }
  return out.sort()
}

describe('reproducible build', () => {
  it('two clean copies build byte-identical dist/, with the same fingerprint', { timeout: 2 * BUILD_TIMEOUT_MS }, async () => {
    const one = await cleanCopy('one')
    const two = await cleanCopy('two')
    await build(one, { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' })
    await build(two, { TZ: 'Pacific/Chatham', LANG: 'fa_IR.UTF-8', LC_ALL: 'fa_IR.UTF-8' })
    const listed = await files(path.join(one, 'dist'))
    expect(listed).toContain(path.join('.well-known', 'webcat', 'manifest.json'))
    expect(listed.some((f) => f.startsWith('assets') && f.endsWith('.js'))).toBe(true)
    expect(await files(path.join(two, 'dist'))).toEqual(listed)
    for (const file of listed) {
      const a = await readFile(path.join(one, 'dist', file))
      const b = await readFile(path.join(two, 'dist', file))
      expect(a.equals(b), file).toBe(true)
    }
    const manifest = async (tree: string) => parseManifestDocument(await readFile(path.join(tree, 'dist', ...MANIFEST_PATH.split('/')), 'utf8')).manifest
    expect(await fingerprintOf(await manifest(one))).toBe(await fingerprintOf(await manifest(two)))
  })
})
