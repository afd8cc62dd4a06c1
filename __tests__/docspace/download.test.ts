import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { pbkdf2 } from 'node:crypto'
import {
  lstat,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile
} from 'node:fs/promises'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import {
  downloadArchive,
  DownloadError,
  resolveTarget,
  type DownloadOptions
} from '../../src/docspace/download.js'
import {
  generateArchive,
  startSimulator,
  type Simulator
} from '../../simulator/server.js'
import { createFakeClock, type FakeClock } from '../helpers/clock.js'
import { responseOf, startBackup } from '../simulator/helpers.js'

/** Several 64 KiB chunks, so that a cut can land in the middle. */
const ARCHIVE_BYTES = 300_000

/** The body the node:http test servers send. */
const SAMPLE = Buffer.from(
  'a small archive that a test server sends. '.repeat(500)
)

let simulator: Simulator
let directory: string
let clock: FakeClock
let logs: string[]

beforeEach(async () => {
  simulator = await startSimulator({
    queuedMs: 0,
    jobMs: 0,
    archiveBytes: ARCHIVE_BYTES
  })
  directory = await mkdtemp(join(tmpdir(), 'download-test-'))
  clock = createFakeClock()
  logs = []
})

afterEach(async () => {
  await simulator.close()
  await rm(directory, { recursive: true, force: true })
})

/** A finished backup on the simulator. */
interface FinishedBackup {
  /** The absolute download link. */
  link: URL
  fileName: string
  /** The archive the simulator serves for the link. */
  bytes: Buffer
}

async function finishBackup(): Promise<FinishedBackup> {
  const progress = responseOf(await startBackup(simulator))
  const link = new URL(String(progress.link), simulator.url)
  const fileName = basename(link.pathname)
  const size = simulator.options.archiveBytes ?? ARCHIVE_BYTES

  return { link, fileName, bytes: generateArchive(fileName, size) }
}

/**
 * Downloads `link` into the test directory with the simulator as the portal,
 * a fake clock, 3 attempts and a 2 s idle timeout; `overrides` win.
 */
function download(
  link: URL,
  overrides: Partial<DownloadOptions> = {}
): ReturnType<typeof downloadArchive> {
  return downloadArchive({
    link,
    portalUrl: new URL(`${simulator.url}/`),
    authorization: `Bearer ${simulator.apiKey}`,
    destination: directory,
    fileName: basename(link.pathname),
    now: clock.now,
    sleep: clock.sleep,
    log: message => logs.push(message),
    maxAttempts: 3,
    idleTimeoutMs: 2000,
    ...overrides
  })
}

/** Returns the rejection of `promise`, and fails when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the download to fail, but it succeeded')
}

function countDownloadRequests(): number {
  return simulator.requests.filter(request => request.endpoint === 'download')
    .length
}

/** Fails when `text` contains the link, its path or a query value. */
function expectNoLink(text: string, link: URL): void {
  expect(text).not.toContain(link.href)
  expect(text).not.toContain(link.pathname)
  for (const value of link.searchParams.values()) {
    expect(text).not.toContain(value)
  }
}

/** A node:http server for responses that the simulator cannot give. */
interface TestServer {
  url: string
  /** Headers of every request, in the order they arrived. */
  requests: IncomingHttpHeaders[]
  close(): Promise<void>
}

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  index: number
) => void

const servers: TestServer[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map(server => server.close()))
})

/** Starts a server on `host` that the next afterEach closes. */
async function startServer(
  handler: Handler,
  host = '127.0.0.1'
): Promise<TestServer> {
  const requests: IncomingHttpHeaders[] = []
  const sockets = new Set<Socket>()
  const server = createServer((request, response) => {
    requests.push(request.headers)
    handler(request, response, requests.length - 1)
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo

  const testServer: TestServer = {
    url: `http://${host}:${port}`,
    requests,
    close: () =>
      new Promise(resolve => {
        sockets.forEach(socket => socket.destroy())
        server.close(() => resolve())
      })
  }
  servers.push(testServer)

  return testServer
}

/** Sends SAMPLE with a Content-Length, or chunked when `chunked` is set. */
function sendSample(response: ServerResponse, chunked = false): void {
  const headers = chunked ? {} : { 'Content-Length': SAMPLE.length }
  response.writeHead(200, headers)
  response.end(SAMPLE)
}

/** Sends the first `length` bytes of SAMPLE under its full length. */
function sendStart(response: ServerResponse, length: number): void {
  response.writeHead(200, { 'Content-Length': SAMPLE.length })
  response.write(SAMPLE.subarray(0, length))
}

/** Responds to `Range: bytes=<start>-` with 206, or 416 past the end. */
function sendRange(request: IncomingMessage, response: ServerResponse): void {
  const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1])
  if (start >= SAMPLE.length) {
    response.writeHead(416, { 'Content-Range': `bytes */${SAMPLE.length}` })
    response.end()
    return
  }

  response.writeHead(206, {
    'Content-Length': SAMPLE.length - start,
    'Content-Range': `bytes ${start}-${SAMPLE.length - 1}/${SAMPLE.length}`
  })
  response.end(SAMPLE.subarray(start))
}

interface CutOptions {
  /** Bytes of SAMPLE that the first response sends before it stalls. */
  cutAt: number
  /** Content-Length of the first response. Without it, the body is chunked. */
  declaredLength?: number
  /** Respond to a Range request with the whole SAMPLE and 200. */
  ignoreRange?: boolean
}

/**
 * Starts a server whose first response stalls after `cutAt` bytes. Later
 * requests get SAMPLE, honouring Range unless `ignoreRange` is set.
 * `downloadCut` drops the first connection once its bytes are on disk.
 */
async function startCuttingServer(options: CutOptions) {
  let first: ServerResponse | undefined
  const server = await startServer((request, response, index) => {
    if (index === 0) {
      const headers =
        options.declaredLength === undefined
          ? {}
          : { 'Content-Length': options.declaredLength }
      response.writeHead(200, headers)
      response.write(SAMPLE.subarray(0, options.cutAt))
      first = response
    } else if (request.headers.range && !options.ignoreRange) {
      sendRange(request, response)
    } else {
      sendSample(response)
    }
  })

  const downloadCut = async (overrides: Partial<DownloadOptions> = {}) => {
    const downloading = download(new URL(`${server.url}/archive.tar.gz`), {
      ...overrides
    })
    await waitFor(async () => (await partialSize()) >= options.cutAt)
    first?.destroy()

    return downloading
  }

  return { server, downloadCut }
}

/**
 * Keeps every thread of libuv's pool busy for about half a second, so file
 * writes queue up the way they do on a slow disk.
 */
function occupyThreadPool(): Promise<unknown> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
  const hash = promisify(pbkdf2)

  return Promise.all(
    Array.from({ length: threads }, () =>
      hash('password', 'salt', 300_000, 32, 'sha512')
    )
  )
}

/** Polls `condition` every 10 ms for up to 5 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    if (await condition()) {
      return
    }
    await delay(10)
  }
  throw new Error('the condition did not become true within 5 s')
}

/** Size of the temporary file, or 0 while there is none. */
async function partialSize(): Promise<number> {
  const names = await readdir(directory)
  const partial = names.find(name => name.endsWith('.partial'))
  if (partial === undefined) {
    return 0
  }

  return (await stat(join(directory, partial))).size
}

describe('resolveTarget', () => {
  it('puts the file in an existing directory', async () => {
    const target = await resolveTarget(directory, 'portal.tar.gz')

    expect(target).toBe(join(directory, 'portal.tar.gz'))
  })

  it('creates a directory named with a trailing slash', async () => {
    const destination = `${join(directory, 'new', 'backups')}/`

    const target = await resolveTarget(destination, 'portal.tar.gz')

    expect(target).toBe(join(directory, 'new', 'backups', 'portal.tar.gz'))
    expect((await lstat(dirname(target))).isDirectory()).toBe(true)
  })

  it('creates the parents of a file path', async () => {
    const destination = join(directory, 'a', 'b', 'backup.tgz')

    const target = await resolveTarget(destination, 'portal.tar.gz')

    expect(target).toBe(destination)
    expect((await lstat(dirname(destination))).isDirectory()).toBe(true)
  })

  it('keeps a server name inside the directory', async () => {
    for (const name of ['../../escape.tar.gz', '..\\..\\escape.tar.gz']) {
      const target = await resolveTarget(directory, name)

      expect(target).toBe(join(directory, 'escape.tar.gz'))
    }
  })

  it('names an archive without a usable name', async () => {
    for (const name of ['', '..', ' / ']) {
      const target = await resolveTarget(directory, name)

      expect(dirname(target)).toBe(directory)
      expect(basename(target)).toBe('docspace-backup.tar.gz')
    }
  })
})

describe('downloadArchive', () => {
  it('saves into a directory under the server name', async () => {
    const backup = await finishBackup()

    const archive = await download(backup.link)

    expect(archive.path).toBe(join(directory, backup.fileName))
    expect(archive.size).toBe(backup.bytes.length)
    expect((await readFile(archive.path)).equals(backup.bytes)).toBe(true)
    expect(await readdir(directory)).toEqual([backup.fileName])
  })

  it('saves to a file path with new parents', async () => {
    const backup = await finishBackup()
    const destination = join(directory, 'nested', 'dir', 'latest.tar.gz')

    const archive = await download(backup.link, { destination })

    expect(archive.path).toBe(destination)
    expect((await readFile(destination)).equals(backup.bytes)).toBe(true)
  })

  it('never shows a partial file under the final name', async () => {
    let sendRest = () => {}
    const server = await startServer((_request, response) => {
      sendStart(response, 1000)
      sendRest = () => response.end(SAMPLE.subarray(1000))
    })

    const downloading = download(new URL(`${server.url}/archive.tar.gz`))
    await waitFor(async () => (await partialSize()) >= 1000)
    const namesMidway = await readdir(directory)
    sendRest()
    await downloading

    expect(namesMidway).not.toContain('archive.tar.gz')
    expect(await readdir(directory)).toEqual(['archive.tar.gz'])
  })

  it('resumes with Range after a dropped connection', async () => {
    const cutAt = 1000
    const { server, downloadCut } = await startCuttingServer({
      cutAt,
      declaredLength: SAMPLE.length
    })

    const archive = await downloadCut()

    expect(server.requests.map(headers => headers.range)).toEqual([
      undefined,
      `bytes=${cutAt}-`
    ])
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
    expect(clock.sleeps).toHaveLength(1)
  })

  it('resumes after every byte received, even with a slow disk', async () => {
    let threadPool: Promise<unknown> = Promise.resolve()
    const server = await startServer(async (request, response, index) => {
      if (index > 0) {
        sendRange(request, response)
        return
      }
      sendStart(response, 1000)
      await delay(30)
      // Asynchronous file writes would now wait for a thread, so the next
      // two chunks would still be queued when the connection drops.
      threadPool = occupyThreadPool()
      response.write(SAMPLE.subarray(1000, 2000))
      await delay(10)
      response.write(SAMPLE.subarray(2000, 3000))
      await delay(10)
      response.destroy()
    })

    const archive = await download(new URL(`${server.url}/archive.tar.gz`))
    await threadPool

    expect(server.requests[1]?.range).toBe('bytes=3000-')
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
  })

  it('starts over when the server ignores Range', async () => {
    const { server, downloadCut } = await startCuttingServer({
      cutAt: 1000,
      declaredLength: SAMPLE.length,
      ignoreRange: true
    })

    const archive = await downloadCut()

    expect(server.requests[1]?.range).toBeDefined()
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
    expect(archive.size).toBe(SAMPLE.length)
    expect(logs.join('\n')).toMatch(/ignored the Range request/)
  })

  it('retries a 500 and then succeeds', async () => {
    const backup = await finishBackup()
    simulator.faults.add({ endpoint: 'download', kind: 'status', status: 500 })

    const archive = await download(backup.link)

    expect((await readFile(archive.path)).equals(backup.bytes)).toBe(true)
    expect(countDownloadRequests()).toBe(2)
  })

  it('saves a chunked body without Content-Length', async () => {
    const server = await startServer((_request, response) =>
      sendSample(response, true)
    )

    const archive = await download(new URL(`${server.url}/archive.tar.gz`))

    expect(archive.size).toBe(SAMPLE.length)
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
  })

  it('completes on 416 when every byte had arrived', async () => {
    // A chunked body whose connection drops right after its last byte.
    const { server, downloadCut } = await startCuttingServer({
      cutAt: SAMPLE.length
    })

    const archive = await downloadCut()

    expect(server.requests[1]?.range).toBe(`bytes=${SAMPLE.length}-`)
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
  })

  it('sends the key to the portal origin', async () => {
    const backup = await finishBackup()

    await download(backup.link)

    const request = simulator.requests.find(
      entry => entry.endpoint === 'download'
    )
    expect(request?.hasAuthorization).toBe(true)
  })

  it('sends no key to another origin', async () => {
    const storage = await startServer((_request, response) =>
      sendSample(response)
    )

    await download(new URL(`${storage.url}/bucket/archive.tar.gz?sig=1`))

    expect(storage.requests).toHaveLength(1)
    expect(storage.requests[0]?.authorization).toBeUndefined()
  })

  it('drops the key on a redirect to another host', async () => {
    const storage = await startServer(
      (_request, response) => sendSample(response),
      '127.0.0.2'
    )
    const portal = await startServer((_request, response) => {
      response.writeHead(302, { Location: `${storage.url}/bucket/archive` })
      response.end()
    })

    const archive = await download(new URL(`${portal.url}/archive.tar.gz`), {
      portalUrl: new URL(`${portal.url}/`)
    })

    expect(portal.requests[0]?.authorization).toBeDefined()
    expect(storage.requests[0]?.authorization).toBeUndefined()
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
  })

  it('drops the key on a redirect to another port', async () => {
    const storage = await startServer((_request, response) =>
      sendSample(response)
    )
    const portal = await startServer((_request, response) => {
      response.writeHead(307, { Location: `${storage.url}/bucket/archive` })
      response.end()
    })

    const archive = await download(new URL(`${portal.url}/archive.tar.gz`), {
      portalUrl: new URL(`${portal.url}/`)
    })

    expect(new URL(storage.url).hostname).toBe(new URL(portal.url).hostname)
    expect(portal.requests[0]?.authorization).toBeDefined()
    expect(storage.requests[0]?.authorization).toBeUndefined()
    expect((await readFile(archive.path)).equals(SAMPLE)).toBe(true)
  })

  it('keeps the key on a redirect within the portal', async () => {
    const portal = await startServer((request, response) => {
      if (request.url === '/archive.tar.gz') {
        response.writeHead(302, { Location: '/files/archive.tar.gz' })
        response.end()
        return
      }
      sendSample(response)
    })

    await download(new URL(`${portal.url}/archive.tar.gz`), {
      portalUrl: new URL(`${portal.url}/`)
    })

    expect(portal.requests).toHaveLength(2)
    expect(portal.requests[1]?.authorization).toBe(`Bearer ${simulator.apiKey}`)
  })

  it('stops after 10 redirects', async () => {
    const portal = await startServer((_request, response) => {
      response.writeHead(302, { Location: '/again?signature=secret-sig' })
      response.end()
    })
    const link = new URL(`${portal.url}/archive.tar.gz?signature=secret-sig`)

    const error = await rejectionOf(download(link))

    expect(error).toBeInstanceOf(DownloadError)
    expect(error.message).toMatch(/more than 10 redirects/)
    expect(error.message).not.toContain('secret-sig')
    expect(portal.requests).toHaveLength(11)
  })

  it('logs progress at most once per interval', async () => {
    simulator.options.archiveBytes = 2 * 1024 * 1024
    const backup = await finishBackup()
    const intervalMs = 5000
    let time = 0
    const progressTimes: number[] = []

    await download(backup.link, {
      // Each read of the clock moves it 0.7 s, so lines are due often.
      now: () => (time += 700),
      log: message => {
        logs.push(message)
        if (message.startsWith('Downloaded')) {
          progressTimes.push(time)
        }
      },
      progressIntervalMs: intervalMs
    })

    const gaps = progressTimes
      .slice(1)
      .map((at, index) => at - (progressTimes[index] ?? 0))
    expect(progressTimes.length).toBeGreaterThan(1)
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(intervalMs)
    expect(logs.find(line => line.startsWith('Downloaded'))).toMatch(
      /^Downloaded \d+% \([\d.]+ MB of [\d.]+ MB, [\d.]+ MB\/s, .+ left\)\.$/
    )
  })
})

describe('downloadArchive failures', () => {
  /**
   * Checks the error, that neither it nor the log shows the link, and that
   * the directory is empty: no file under the final name, no temporary file.
   */
  async function expectFailure(
    promise: Promise<unknown>,
    link: URL,
    message: RegExp
  ): Promise<void> {
    const error = await rejectionOf(promise)

    expect(error).toBeInstanceOf(DownloadError)
    expect(error.message).toMatch(message)
    expectNoLink(error.message, link)
    expectNoLink(logs.join('\n'), link)
    expect(await readdir(directory)).toEqual([])
  }

  it('reports a 404 as an expired link', async () => {
    const backup = await finishBackup()
    simulator.faults.add({ endpoint: 'download', kind: 'status', status: 404 })

    await expectFailure(
      download(backup.link),
      backup.link,
      /failed with 404: the link has expired/
    )
    expect(countDownloadRequests()).toBe(1)
  })

  it('reports a bad signature as an expired link', async () => {
    const backup = await finishBackup()
    backup.link.searchParams.set('signature', 'not-the-signature')

    await expectFailure(
      download(backup.link, { authorization: 'Bearer sk-not-a-key' }),
      backup.link,
      /failed with 403: the link has expired/
    )
  })

  it('fails on a length the body never reaches', async () => {
    const { server, downloadCut } = await startCuttingServer({
      cutAt: SAMPLE.length,
      declaredLength: SAMPLE.length + 1024
    })
    const link = new URL(`${server.url}/archive.tar.gz`)

    await expectFailure(downloadCut(), link, /size does not match/)
  })

  it('fails when a resume declares a new size', async () => {
    const { server, downloadCut } = await startCuttingServer({
      cutAt: 1000,
      declaredLength: SAMPLE.length + 1024
    })
    const link = new URL(`${server.url}/archive.tar.gz`)

    await expectFailure(downloadCut(), link, /size does not match/)
  })

  it('gives up after the last attempt', async () => {
    const backup = await finishBackup()
    simulator.faults.add({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: 10_000,
      times: 3
    })

    await expectFailure(
      download(backup.link),
      backup.link,
      /failed after 3 attempts/
    )
    expect(countDownloadRequests()).toBe(3)
  })

  it('gives up on a server that goes silent', async () => {
    const server = await startServer((_request, response) =>
      sendStart(response, 1000)
    )
    const link = new URL(`${server.url}/archive.tar.gz?signature=secret-sig`)

    await expectFailure(
      download(link, { idleTimeoutMs: 200, maxAttempts: 2 }),
      link,
      /failed after 2 attempts/
    )
  }, 10_000)

  it('keeps an older file at the target', async () => {
    const backup = await finishBackup()
    const target = join(directory, backup.fileName)
    await writeFile(target, 'older archive')
    simulator.faults.add({ endpoint: 'download', kind: 'status', status: 404 })

    await rejectionOf(download(backup.link))

    expect(await readFile(target, 'utf8')).toBe('older archive')
    expect(await readdir(directory)).toEqual([backup.fileName])
  })

  /**
   * Points the temporary file at /dev/full, which fails every write with
   * ENOSPC. The name is `.<file>.<pid>.partial`, and rm removes the symlink,
   * never the device.
   */
  async function fillDiskFor(fileName: string): Promise<void> {
    const temporary = join(directory, `.${fileName}.${process.pid}.partial`)
    await symlink('/dev/full', temporary)
  }

  it('reports a full disk', async () => {
    let sendRest = () => {}
    const server = await startServer((_request, response) => {
      sendStart(response, 1000)
      sendRest = () => response.end(SAMPLE.subarray(1000))
    })
    // The link's path differs from the target's, which the message names.
    const link = new URL(
      `${server.url}/backups/archive.tar.gz?signature=secret-sig`
    )
    await fillDiskFor('archive.tar.gz')

    await expectFailure(download(link), link, /no space left on the device/)
    sendRest()
    expect((await lstat('/dev/full')).isCharacterDevice()).toBe(true)
  })

  it('reports a full disk after the body arrived', async () => {
    const backup = await finishBackup()
    await fillDiskFor(backup.fileName)

    await expectFailure(
      download(backup.link),
      backup.link,
      /no space left on the device/
    )
  }, 10_000)

  it('stops and cleans up when aborted', async () => {
    const server = await startServer((_request, response) =>
      sendStart(response, 1000)
    )
    const controller = new AbortController()

    const downloading = download(new URL(`${server.url}/archive.tar.gz`), {
      signal: controller.signal
    })
    await waitFor(async () => (await partialSize()) >= 1000)
    controller.abort(new Error('The run was cancelled.'))
    await rejectionOf(downloading)

    expect(await readdir(directory)).toEqual([])
  })

  it('fails before any request when the directory cannot be made', async () => {
    const backup = await finishBackup()
    const file = join(directory, 'file')
    await writeFile(file, '')

    const error = await rejectionOf(
      download(backup.link, { destination: `${join(file, 'sub')}/` })
    )

    expect((error as NodeJS.ErrnoException).code).toBe('ENOTDIR')
    expectNoLink(error.message, backup.link)
    expect(countDownloadRequests()).toBe(0)
  })
})
