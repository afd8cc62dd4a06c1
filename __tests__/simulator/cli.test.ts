import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseCliArgs } from '../../simulator/cli-args.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('parseCliArgs', () => {
  it('leaves unset options undefined', () => {
    const config = parseCliArgs([])

    expect(config.port).toBe(0)
    expect(config.tls).toBe(false)
    expect(Object.values(config.options).every(v => v === undefined)).toBe(true)
    expect(config.faults).toEqual([])
  })

  it('reads every option', () => {
    const config = parseCliArgs([
      '--port=8092',
      '--job-ms=10',
      '--queued-ms=5',
      '--api-key=sk-a',
      '--api-key=sk-b',
      '--outcome=warning',
      '--role=admin',
      '--key-scope=read',
      '--hosting=saas',
      '--docspace-version=3.6.1',
      '--cancel-result=gone',
      '--free-backups=2',
      '--link-style=absolute',
      '--archive-bytes=100',
      '--error-message=Disk full',
      '--ignore-range',
      '--download-status=404',
      '--download-drop-after=1000',
      '--tls'
    ])

    expect(config.port).toBe(8092)
    expect(config.tls).toBe(true)
    expect(config.options).toEqual({
      apiKeys: ['sk-a', 'sk-b'],
      queuedMs: 5,
      jobMs: 10,
      outcome: 'warning',
      errorMessage: 'Disk full',
      role: 'admin',
      keyScope: 'read',
      hosting: 'saas',
      version: '3.6.1',
      cancelResult: 'gone',
      freeBackups: 2,
      linkStyle: 'absolute',
      archiveBytes: 100,
      ignoreRange: true
    })
    expect(config.faults).toEqual([
      { endpoint: 'download', kind: 'reset-mid-body', afterBytes: 1000 },
      {
        endpoint: 'download',
        kind: 'status',
        status: 404,
        times: Number.POSITIVE_INFINITY
      }
    ])
  })

  it.each([
    [['--outcome', 'maybe'], "--outcome: 'maybe' is not valid"],
    [['--job-ms', '1.5'], "--job-ms: '1.5' is not a whole number"],
    [['--port', '70000'], '--port: 70000 is not a TCP port'],
    [['--download-status', '200'], '--download-status: 200 is not an error'],
    [['--colour'], "Unknown option '--colour'"]
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message)
  })
})

describe('cli', () => {
  let buildDirectory: string
  let cliPath: string

  // Compiles the simulator the way the project build does, into a temporary
  // folder, so the test runs the same JavaScript as `npm start`.
  beforeAll(() => {
    buildDirectory = mkdtempSync(join(tmpdir(), 'simulator-cli-test-'))
    const outDir = join(buildDirectory, 'out')
    const tsconfig = join(buildDirectory, 'tsconfig.json')
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          sourceMap: false,
          outDir,
          rootDir: join(ROOT, 'simulator'),
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')]
        },
        include: [join(ROOT, 'simulator')]
      })
    )

    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const build = spawnSync(process.execPath, [tsc, '-p', tsconfig], {
      encoding: 'utf8'
    })
    expect(build.stdout + build.stderr).toBe('')
    writeFileSync(join(outDir, 'package.json'), '{"type":"module"}')
    cliPath = join(outDir, 'cli.js')
  })

  afterAll(() => {
    rmSync(buildDirectory, { recursive: true, force: true })
  })

  async function startCli(args: string[]) {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))

    const lines = createInterface({ input: child.stdout! })
    const [line] = (await once(lines, 'line')) as [string]

    return {
      child,
      ready: JSON.parse(line) as Record<string, string>,
      stderr: () => stderr
    }
  }

  async function stop(child: ChildProcess): Promise<number | null> {
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    return code
  }

  it('prints the URL and logs requests', async () => {
    const { child, ready, stderr } = await startCli([
      '--api-key',
      'sk-cli-key',
      '--queued-ms',
      '0'
    ])

    const response = await fetch(
      `${ready.url}/api/2.0/backup/getbackupprogress`,
      { headers: { Authorization: `Bearer ${ready.apiKey}` } }
    )
    await response.text()
    const code = await stop(child)

    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(ready.apiKey).toBe('sk-cli-key')
    expect(response.status).toBe(200)
    expect(stderr()).toContain('GET /api/2.0/backup/getbackupprogress 200')
    expect(stderr()).not.toContain('sk-cli-key')
    expect(code).toBe(0)
  })

  it('fails downloads with --download-status', async () => {
    const { child, ready } = await startCli([
      '--queued-ms=0',
      '--job-ms=0',
      '--download-status=404'
    ])
    const headers = {
      Authorization: `Bearer ${ready.apiKey}`,
      'Content-Type': 'application/json'
    }

    const started = await fetch(`${ready.url}/api/2.0/backup/startbackup`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ storageType: 4, storageParams: [], dump: false })
    })
    const { response } = (await started.json()) as {
      response: { link: string }
    }
    const statuses: number[] = []
    for (let attempt = 0; attempt < 2; attempt++) {
      const download = await fetch(new URL(response.link, ready.url), {
        headers
      })
      await download.arrayBuffer()
      statuses.push(download.status)
    }
    await stop(child)

    expect(response.link).not.toBe('')
    expect(statuses).toEqual([404, 404])
  })

  it('serves HTTPS with --tls', async () => {
    const { child, ready } = await startCli(['--tls'])
    const ca = readFileSync(ready.certificatePath ?? '', 'utf8')

    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(
        `${ready.url}/api/2.0/settings/version/build`,
        { ca },
        response => {
          response.resume()
          resolve(response.statusCode ?? 0)
        }
      )
      outgoing.on('error', reject)
      outgoing.end()
    })
    await stop(child)

    expect(ready.url).toMatch(/^https:/)
    expect(status).toBe(200)
    expect(existsSync(ready.certificatePath ?? '')).toBe(false)
  })

  it('exits 2 on a bad option', () => {
    const result = spawnSync(process.execPath, [cliPath, '--outcome=maybe'], {
      encoding: 'utf8'
    })

    expect(result.status).toBe(2)
    expect(result.stderr).toContain("--outcome: 'maybe' is not valid")
  })
})
