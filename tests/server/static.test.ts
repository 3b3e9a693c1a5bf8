// The app server: static files from a temp dist/, security headers, SPA fallback,
// traversal refusal, 503 before a build, the signaling socket on the same port, and main.ts.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src/release'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { Client } from './helpers'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(base: string, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    // http.request sends the path as given: no client-side normalization of ../
    const req = request({ host: hostname, port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end()
  })
}

const INDEX = '<!doctype html><title>Blossom</title><div id=app></div>'
let work: string
let dist: string
let app: AppServer
let base: string

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'blossom-static-'))
  dist = path.join(work, 'dist')
  mkdirSync(path.join(dist, 'assets'), { recursive: true })
  writeFileSync(path.join(dist, 'index.html'), INDEX)
  writeFileSync(path.join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {})')
  writeFileSync(path.join(dist, 'manifest.webmanifest'), '{"name":"Blossom"}')
  writeFileSync(path.join(dist, 'assets', 'app-1a2b3c.js'), 'console.log(1)')
  writeFileSync(path.join(dist, 'assets', 'sodium-4d5e6f.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
  writeFileSync(path.join(dist, '.env'), 'HIDDEN=1')
  mkdirSync(path.join(dist, '.well-known', 'webcat'), { recursive: true })
  mkdirSync(path.join(dist, '.well-known', 'blossom'), { recursive: true })
  mkdirSync(path.join(dist, '.well-known', 'other'), { recursive: true })
  writeFileSync(path.join(dist, '.well-known', 'webcat', 'manifest.json'), '{"manifest":{}}')
  writeFileSync(path.join(dist, '.well-known', 'blossom', 'signature.json'), '{"signatures":{}}')
  writeFileSync(path.join(dist, '.well-known', 'blossom', '.hidden'), 'HIDDEN=2')
  writeFileSync(path.join(dist, '.well-known', 'other', 'x.json'), 'HIDDEN=3')
  writeFileSync(path.join(work, 'secret.txt'), 'TOP-SECRET-OUTSIDE-DIST')
  symlinkSync(path.join(work, 'secret.txt'), path.join(dist, 'assets', 'linked.txt'))
  app = createAppServer({ host: '127.0.0.1', port: 0, distRoot: dist })
  base = await app.listen()
})

afterAll(async () => {
  await app.close()
  rmSync(work, { recursive: true, force: true })
})

describe('security headers', () => {
  it("sends the release's fixed CSP, whatever the Host header says", async () => {
    const r = await get(base, '/', { Host: 'evil.example:666' })
    expect(r.status).toBe(200)
    expect(r.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; " +
        "img-src 'self' data: blob:; style-src 'self'; worker-src 'self'; manifest-src 'self'; " +
        "frame-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    )
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
    expect(r.headers['referrer-policy']).toBe('no-referrer')
    expect(r.headers['x-content-type-options']).toBe('nosniff')
    expect(r.headers['permissions-policy']).toMatch(/(^|, )camera=\(self\)/)
  })

  it('puts the headers on every response, including errors and sw.js', async () => {
    for (const p of ['/sw.js', '/assets/missing.js', '/../x', '/action/1']) {
      const r = await get(base, p)
      expect(r.headers['content-security-policy'], p).toContain("default-src 'self'")
      expect(r.headers['x-content-type-options'], p).toBe('nosniff')
    }
  })
})

describe('static files', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache'],
    ['/index.html', 'text/html; charset=utf-8', 'no-cache'],
    ['/sw.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/manifest.webmanifest', 'application/manifest+json; charset=utf-8', 'no-cache'],
    ['/assets/app-1a2b3c.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/assets/sodium-4d5e6f.wasm', 'application/wasm', 'public, max-age=31536000, immutable'],
  ])('serves %s as %s with Cache-Control %s', async (p, type, cache) => {
    const r = await get(base, p)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe(type)
    expect(r.headers['cache-control']).toBe(cache)
  })

  it('falls back to index.html for deep links, not for missing assets', async () => {
    for (const p of ['/action/abc123', '/invite/', '/assets', '/a/b/c?x=1']) {
      const r = await get(base, p)
      expect([p, r.status, r.body]).toEqual([p, 200, INDEX])
      expect(r.headers['cache-control']).toBe('no-cache')
    }
    expect((await get(base, '/assets/missing-000.js')).status).toBe(404)
    expect((await get(base, '/action/abc.def', { Accept: 'text/html' })).body).toBe(INDEX)
  })

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..\\secret.txt',
    '/%00/index.html',
    '/%E0%A4%A',
  ])('refuses %s with 400 and never serves outside dist', async (p) => {
    const r = await get(base, p)
    expect(r.status).toBe(400)
    expect(r.body).not.toContain('TOP-SECRET')
  })

  it('does not follow a symlink out of dist', async () => {
    const r = await get(base, '/assets/linked.txt')
    expect(r.status).toBe(404)
    expect(r.body).not.toContain('TOP-SECRET')
  })

  it('serves the release manifest and signature, and no other dotfile under /.well-known', async () => {
    const manifest = await get(base, '/.well-known/webcat/manifest.json')
    expect(manifest.status).toBe(200)
    expect(manifest.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(manifest.headers['cache-control']).toBe('no-cache')
    expect(manifest.body).toBe('{"manifest":{}}')
    expect((await get(base, '/.well-known/blossom/signature.json')).body).toBe('{"signatures":{}}')
    for (const p of ['/.well-known/blossom/.hidden', '/.well-known/other/x.json', '/.well-known/webcat/../../.env', '/.well-known/webcat']) {
      const r = await get(base, p)
      expect(r.body, p).not.toMatch(/HIDDEN/)
    }
  })

  it('does not serve dotfiles', async () => {
    const r = await get(base, '/.env')
    expect(r.status).toBe(404)
    expect(r.body).not.toContain('HIDDEN')
  })

  it('answers HEAD without a body, refuses other methods, supports revalidation', async () => {
    const head = await get(base, '/sw.js', {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect((await get(base, '/', {}, 'POST')).status).toBe(405)
    const etag = String(head.headers['etag'])
    expect((await get(base, '/sw.js', { 'If-None-Match': etag })).status).toBe(304)
  })

  it('answers 503 with build instructions when dist/ is missing', async () => {
    const empty = createAppServer({ host: '127.0.0.1', port: 0, distRoot: path.join(work, 'not-built') })
    const url = await empty.listen()
    try {
      const r = await get(url, '/')
      expect(r.status).toBe(503)
      expect(r.body).toMatch(/not built.*build/i)
      expect(r.headers['content-security-policy']).toBeDefined()
      expect((await get(url, '/action/1')).status).toBe(503)
    } finally {
      await empty.close()
    }
  })
})

describe('signaling on the app server', () => {
  it('serves the socket at /signal and refuses other upgrade paths', async () => {
    const ws = base.replace(/^http/, 'ws')
    const a = await Client.open(`${ws}signal`)
    const b = await Client.open(`${ws}signal`)
    await a.subscribe(['t'])
    await b.subscribe(['t'])
    a.send({ type: 'publish', topic: 't', data: 'hi' })
    expect((await b.next())['data']).toBe('hi')
    await expect(Client.open(`${ws}index.html`)).rejects.toThrow('HTTP 404')
    expect((await get(base, '/signal')).status).toBe(426)
    a.close()
    b.close()
  })
})

describe('main.ts', () => {
  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DIST_DIR: dist },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 15_000)
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString()
          if (out.includes('\n')) {
            clearTimeout(timer)
            resolve(out.trim())
          }
        })
        child.once('exit', (code) => reject(new Error(`exited ${code}`)))
      })
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1]
      expect(url).toBeDefined()
      expect((await get(url ?? '', '/')).body).toBe(INDEX)
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
