// Builds the app twice, once per test run, into a temporary folder: version A, and version B that
// differs only in its baked-in build id (so its precache manifest and sw.js differ: an update).
// Tests get the folders through inject('shellBuilds').
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

export interface ShellBuild {
  dist: string
  buildId: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    shellBuilds: { a: ShellBuild; b: ShellBuild }
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUILD_TIMEOUT_MS = 180_000

function viteBuild(outDir: string, buildId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js')
    const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: ROOT,
      // vitest sets NODE_ENV=test, which would make Vite build a development bundle.
      env: { ...process.env, NODE_ENV: 'production', BLOSSOM_BUILD_ID: buildId },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`vite build for ${buildId} failed (${signal ?? `exit ${code}`})`))
    })
  })
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'blossom-shell-'))
  const a: ShellBuild = { dist: path.join(tmp, 'a'), buildId: 'shell-test-a' }
  const b: ShellBuild = { dist: path.join(tmp, 'b'), buildId: 'shell-test-b' }
  try {
    await viteBuild(a.dist, a.buildId)
    await viteBuild(b.dist, b.buildId)
  } catch (error) {
    await rm(tmp, { recursive: true, force: true })
    throw error
  }
  project.provide('shellBuilds', { a, b })
  return () => rm(tmp, { recursive: true, force: true })
}
