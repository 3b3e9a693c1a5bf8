// Vite builds for tests: the app itself (tests/shell) and small pages that load one part of it
// (tests/browser/qr.test.ts, timelock-module.test.ts) in a temp folder whose node_modules is a link
// to the project's.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Runs `vite build` with these arguments in `cwd`; rejects naming `what` if it fails or outlasts `timeoutMs`. */
export function viteBuild(cwd: string, args: readonly string[], what: string, timeoutMs: number, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js')
    const child = spawn(process.execPath, [vite, 'build', ...args], {
      cwd,
      // vitest sets NODE_ENV=test, which would make Vite build a development bundle.
      env: { ...process.env, NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`vite build of ${what} failed (${signal ?? `exit ${code}`})`))
    })
  })
}

export interface TestPage {
  readonly dir: string
  /** The built page: serve it. */
  readonly dist: string
}

/**
 * Writes `files` (index.html, an entry, vite.config.mjs) into a temp folder and builds it there.
 * `files` gets the folder, to name paths relative to it.
 */
export async function buildTestPage(what: string, files: (dir: string) => Record<string, string>, timeoutMs: number): Promise<TestPage> {
  const dir = await mkdtemp(path.join(tmpdir(), 'blossom-test-page-'))
  try {
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
    for (const [name, text] of Object.entries(files(dir))) await writeFile(path.join(dir, name), text)
    await viteBuild(dir, ['--config', 'vite.config.mjs'], what, timeoutMs)
    return { dir, dist: path.join(dir, 'dist') }
  } catch (error) {
    await removeTestPage(dir)
    throw error
  }
}

export async function removeTestPage(dir: string): Promise<void> {
  // The link first, so nothing can ever reach into the project's node_modules.
  await unlink(path.join(dir, 'node_modules')).catch(() => undefined)
  await rm(dir, { recursive: true, force: true })
}

/** A path from `dir` to a folder of the project, as an import specifier. */
export const relativeTo = (dir: string, ...parts: string[]): string => path.relative(dir, path.join(ROOT, ...parts)).split(path.sep).join('/')
