import { HttpClient } from '@actions/http-client'
import { ftruncateSync, writeSync } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { basename, dirname, join, resolve } from 'node:path'
import { formatDuration, type Now, type Sleep } from '../time.js'
import { isHttpsUpgrade, tryUrl } from './redirects.js'

export interface DownloadOptions {
  /** The absolute download link; a secret that no message may contain. */
  link: URL
  /** The portal, whose origin alone may receive the API key. */
  portalUrl: URL
  authorization: string
  /** A directory (existing, or ending in `/`) or a file path. */
  destination: string
  /** The archive's file name, for a directory destination. */
  fileName: string
  now: Now
  sleep: Sleep
  log: (message: string) => void
  signal?: AbortSignal
  /** Attempts in all, the first included; a dropped connection resumes. */
  maxAttempts?: number
  /** Maximum silence on the connection before it counts as dropped. */
  idleTimeoutMs?: number
  /** Minimum time between two progress lines. */
  progressIntervalMs?: number
}

/** The downloaded archive. */
export interface DownloadedArchive {
  path: string
  size: number
}

/** The download failed; the message never contains the link. */
export class DownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DownloadError'
  }
}

const DEFAULT_MAX_ATTEMPTS = 5
const DEFAULT_IDLE_TIMEOUT_MS = 60_000
const DEFAULT_PROGRESS_INTERVAL_MS = 5000
const RETRY_BASE_DELAY_MS = 1000
const REDIRECT_STATUSES = [301, 302, 303, 307, 308]
const MAX_REDIRECTS = 10

/**
 * Streams the archive to a temporary file beside the target and renames it
 * once complete, so no partial file ever has the final name. Resumes with
 * `Range` after a dropped connection and starts over when the server ignores
 * `Range`. Checks the size against `Content-Length`.
 */
export async function downloadArchive(
  options: DownloadOptions
): Promise<DownloadedArchive> {
  const target = await resolveTarget(options.destination, options.fileName)
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.partial`
  )
  const transfer = new Transfer(options, target, temporary)

  try {
    const size = await transfer.run()
    await rename(temporary, target)
    options.log(`Saved the archive to ${target} (${size} bytes).`)
    return { path: target, size }
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/**
 * Returns the file path to write: inside `destination` when it is a
 * directory, else `destination` itself. Creates missing parent directories.
 */
export async function resolveTarget(
  destination: string,
  fileName: string
): Promise<string> {
  const path = resolve(destination)
  const isDirectory =
    /[\\/]$/.test(destination) ||
    (await stat(path).then(
      info => info.isDirectory(),
      () => false
    ))
  const target = isDirectory ? join(path, safeFileName(fileName)) : path
  await mkdir(dirname(target), { recursive: true })

  return target
}

/** Keeps only the last path segment, so a server name cannot leave the directory. */
function safeFileName(fileName: string): string {
  const name = basename(fileName.replace(/\\/g, '/')).trim()
  return name === '' || name === '.' || name === '..'
    ? 'docspace-backup.tar.gz'
    : name
}

/** One download, across the attempts it takes. */
class Transfer {
  /** Bytes in the temporary file, which chunks are written to as they come. */
  private written = 0
  private fd = -1
  private expectedSize: number | undefined
  private readonly maxAttempts: number

  /**
   * Writes to `temporary`. Messages name `target`, the file the user expects.
   */
  constructor(
    private readonly options: DownloadOptions,
    private readonly target: string,
    private readonly temporary: string
  ) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  }

  async run(): Promise<number> {
    const file = await open(this.temporary, 'w').catch((error: unknown) => {
      throw fileError(this.target, error)
    })
    this.fd = file.fd
    try {
      await this.attempts()
    } catch (error) {
      await file.close().catch(() => undefined)
      throw error
    }
    await file.close().catch((error: unknown) => {
      throw fileError(this.target, error)
    })

    return this.written
  }

  private async attempts(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attempt()
        return
      } catch (error) {
        if (!(error instanceof Interrupted) || attempt >= this.maxAttempts) {
          throw error instanceof Interrupted
            ? new DownloadError(
                `Downloading the archive failed after ${attempt} attempts: ` +
                  `${error.message}`,
                { cause: error.cause }
              )
            : error
        }
        const delayMs = RETRY_BASE_DELAY_MS * 2 ** (attempt - 1)
        this.options.log(
          `Downloading the archive was interrupted at ${this.written} bytes ` +
            `(attempt ${attempt} of ${this.maxAttempts}): ${error.message} ` +
            `Resuming in ${formatDuration(delayMs)}.`
        )
        await this.options.sleep(delayMs, this.options.signal)
      }
    }
  }

  private async attempt(): Promise<void> {
    const resuming = this.written > 0
    const { client, response } = await this.request(resuming)
    try {
      await this.receive(response.message, resuming)
    } finally {
      client.dispose()
    }
  }

  /**
   * Sends the GET and follows redirects itself. @actions/http-client 4 keeps
   * the Authorization header on a redirect to another port of the same host,
   * which can be another service, and rejects a relative Location.
   */
  private async request(resuming: boolean) {
    let url = this.options.link
    for (let redirects = 0; ; redirects++) {
      // A client per hop, because a client keeps the agent of its first
      // request, and an HTTP agent cannot send an HTTPS request.
      const client = new HttpClient('docspace-backup-action', [], {
        allowRedirects: false,
        keepAlive: false,
        socketTimeout: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
      })
      const response = await this.get(client, url, resuming).catch(
        (error: unknown) => {
          client.dispose()
          throw error
        }
      )
      const location = response.message.headers.location
      if (
        !REDIRECT_STATUSES.includes(response.message.statusCode ?? 0) ||
        location === undefined
      ) {
        return { client, response }
      }

      response.message.resume()
      client.dispose()
      if (redirects >= MAX_REDIRECTS) {
        throw new DownloadError(
          `Downloading the archive failed: more than ${MAX_REDIRECTS} ` +
            'redirects.'
        )
      }
      url = redirectTarget(url, location)
    }
  }

  private async get(client: HttpClient, url: URL, resuming: boolean) {
    const headers: Record<string, string> = {}
    // A pre-signed link to another host (object storage) gets no key.
    if (isPortal(url, this.options.portalUrl)) {
      headers.Authorization = this.options.authorization
    }
    if (resuming) {
      headers.Range = `bytes=${this.written}-`
    }

    try {
      return await client.get(url.href, headers)
    } catch (error) {
      throw new Interrupted(describeError(error), error)
    }
  }

  private async receive(
    message: IncomingMessage,
    resuming: boolean
  ): Promise<void> {
    const status = message.statusCode ?? 0
    if (status === 416 && resuming) {
      message.resume()
      this.finishAfterRangeRejected(message)
      return
    }
    if (status !== 200 && status !== 206) {
      message.resume()
      throw statusError(status)
    }

    const appending = status === 206 && resuming
    if (resuming && !appending) {
      this.options.log(
        'The server ignored the Range request; downloading from the start.'
      )
    }
    if (!appending && this.written > 0) {
      this.written = 0
      ftruncateSync(this.fd, 0)
    }
    const total = totalSize(message, this.written)
    if (appending && total !== undefined) {
      this.checkSameSize(total)
    }
    this.expectedSize = total ?? this.expectedSize

    await this.write(message)
    if (this.expectedSize !== undefined && this.written !== this.expectedSize) {
      throw new Interrupted(
        `received ${this.written} of ${this.expectedSize} bytes.`
      )
    }
  }

  /** Accepts a 416 to a resume only when the server's size equals ours. */
  private finishAfterRangeRejected(message: IncomingMessage): void {
    const total = /\/(\d+)$/.exec(
      String(message.headers['content-range'] ?? '')
    )?.[1]
    if (total !== undefined && Number(total) === this.written) {
      this.checkSameSize(Number(total))
      return
    }

    throw new DownloadError(
      `The archive's size does not match: the server first declared ` +
        `${this.expectedSize ?? 'an unknown number of'} bytes, ` +
        `${this.written} arrived, and it has ${total ?? 'no'} bytes to resume ` +
        'from. The link may point at a file that changed; run the backup again.'
    )
  }

  /** Throws when a resume declares another size than the first response. */
  private checkSameSize(total: number): void {
    if (this.expectedSize === undefined || total === this.expectedSize) {
      return
    }

    throw new DownloadError(
      `The archive's size does not match: the server first declared ` +
        `${this.expectedSize} bytes and now declares ${total}. The link may ` +
        'point at a file that changed; run the backup again.'
    )
  }

  /**
   * Writes each chunk to the file as it arrives, as curl does: no chunk
   * waits in a queue, and `written` counts only what is on disk, where a
   * resume starts from.
   */
  private write(message: IncomingMessage): Promise<void> {
    const progress = new ProgressLog(
      this.options,
      this.expectedSize,
      this.written
    )
    const { signal } = this.options
    const socket = message.socket

    return new Promise<void>((resolve, reject) => {
      let settled = false
      const settle = (error?: unknown) => {
        if (settled) {
          return
        }
        settled = true
        signal?.removeEventListener('abort', onAbort)
        message.removeListener('data', onData)
        socket?.removeListener('data', release)
        if (error === undefined) {
          resolve()
          return
        }
        message.destroy()
        reject(error)
      }
      const onAbort = () => settle(signal?.reason)
      const onData = (chunk: Buffer) => {
        try {
          writeFully(this.fd, chunk, this.written)
        } catch (error) {
          settle(fileError(this.target, error))
          return
        }
        this.written += chunk.length
        progress.update(this.written)
        release(chunk)
      }

      message.on('data', onData)
      // Node's HTTP parser listened first, so the socket's buffer is parsed,
      // and its body copied, before this frees it.
      socket?.on('data', release)
      message.once('end', () => settle())
      message.once('error', error =>
        settle(new Interrupted(describeError(error), error))
      )
      // Closed without 'end' or 'error': the body stopped short.
      message.once('close', () =>
        settle(new Interrupted(describeError(undefined)))
      )
      if (signal?.aborted) {
        onAbort()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/**
 * Tells whether `url` is on the portal: its origin, or the HTTPS form of an
 * HTTP portal on the same host name, as the API client also accepts.
 */
function isPortal(url: URL, portalUrl: URL): boolean {
  return url.origin === portalUrl.origin || isHttpsUpgrade(portalUrl, url)
}

/**
 * Resolves a redirect's Location against the URL that returned it. Rejects
 * a Location that does not parse, and a step from HTTPS down to HTTP. The
 * messages leave out both URLs, which may carry a signature.
 */
function redirectTarget(from: URL, location: string): URL {
  const target = tryUrl(location, from)
  if (!target) {
    throw new DownloadError(
      'Downloading the archive failed: the server redirected to an invalid ' +
        'URL.'
    )
  }
  if (from.protocol === 'https:' && target.protocol !== 'https:') {
    throw new DownloadError(
      'Downloading the archive failed: the server redirected from HTTPS to ' +
        `${target.protocol.replace(':', '').toUpperCase()}, which the ` +
        'action does not follow.'
    )
  }

  return target
}

/** Writes the whole chunk at `position`, blocking until it is done. */
function writeFully(fd: number, chunk: Buffer, position: number): void {
  for (let offset = 0; offset < chunk.length;) {
    offset += writeSync(
      fd,
      chunk,
      offset,
      chunk.length - offset,
      position + offset
    )
  }
}

/** Says what went wrong with the file; other errors pass unchanged. */
function fileError(path: string, error: unknown): unknown {
  return isFileError(error)
    ? new DownloadError(
        `Writing the archive to ${path} failed: ${describeFileError(error)}`,
        { cause: error }
      )
    : error
}

/**
 * Frees a buffer's memory now, when the buffer owns all of it. Node allocates
 * a new buffer for each socket read and copies each body chunk into another.
 * V8 collects them only after about 64 MiB of such memory, so without this
 * the peak RSS of a download grows by that much. Detaching the ArrayBuffer
 * frees it at once. A slice of a larger buffer is left alone.
 */
function release(buffer: Buffer): void {
  const memory = buffer.buffer
  if (
    memory instanceof ArrayBuffer &&
    buffer.byteOffset === 0 &&
    buffer.byteLength === memory.byteLength &&
    // Node 20 has no transfer, so there the collector frees the buffer later.
    typeof memory.transfer === 'function'
  ) {
    memory.transfer(0)
  }
}

/** A transfer that stopped early and may resume. */
class Interrupted extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
    this.name = 'Interrupted'
  }
}

/** Logs percent, MB/s and time left at most once per interval. */
class ProgressLog {
  private readonly startedAt: number
  private lastLoggedAt: number

  /** `startBytes` were on disk before this attempt; the rate excludes them. */
  constructor(
    private readonly options: DownloadOptions,
    private readonly expectedSize: number | undefined,
    private readonly startBytes: number
  ) {
    this.startedAt = options.now()
    this.lastLoggedAt = this.startedAt
  }

  update(written: number): void {
    const now = this.options.now()
    const interval =
      this.options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS
    if (now - this.lastLoggedAt < interval) {
      return
    }
    this.lastLoggedAt = now

    const seconds = Math.max((now - this.startedAt) / 1000, 0.001)
    const bytesPerSecond = (written - this.startBytes) / seconds
    const rate = `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`
    if (this.expectedSize === undefined || this.expectedSize === 0) {
      this.options.log(`Downloaded ${megabytes(written)} (${rate}).`)
      return
    }

    const percent = Math.floor((written / this.expectedSize) * 100)
    const left =
      bytesPerSecond > 0
        ? `, ${formatDuration(((this.expectedSize - written) / bytesPerSecond) * 1000)} left`
        : ''
    this.options.log(
      `Downloaded ${percent}% (${megabytes(written)} of ` +
        `${megabytes(this.expectedSize)}, ${rate}${left}).`
    )
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

/** Returns the archive's full size from Content-Range or Content-Length. */
function totalSize(
  message: IncomingMessage,
  offset: number
): number | undefined {
  const range = /\/(\d+)$/.exec(String(message.headers['content-range'] ?? ''))
  if (message.statusCode === 206 && range?.[1] !== undefined) {
    return Number(range[1])
  }
  const length = message.headers['content-length']
  if (length === undefined || !/^\d+$/.test(length)) {
    return undefined
  }

  return message.statusCode === 206 ? offset + Number(length) : Number(length)
}

function statusError(status: number): Error {
  switch (status) {
    case 403:
    case 404:
    case 410:
      return new DownloadError(
        `Downloading the archive failed with ${status}: the link has ` +
          'expired or the archive was deleted. DataStore links last about ' +
          '24 hours; run the backup again.'
      )
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return new Interrupted(`the server answered ${status}.`)
    default:
      return new DownloadError(`Downloading the archive failed with ${status}.`)
  }
}

function isFileError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? ''
  return ['ENOSPC', 'EACCES', 'EROFS', 'EDQUOT', 'EISDIR', 'EPERM'].includes(
    code
  )
}

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOSPC' || code === 'EDQUOT'
    ? 'no space left on the device. Free space or choose another download-path.'
    : `${code}. Check that download-path is writable.`
}

/** Describes a network error without its message, which may hold the link. */
function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code) {
    return `the connection failed (${code}).`
  }
  if (error instanceof Error && /timeout/i.test(error.message)) {
    return 'the connection went silent.'
  }

  return 'the connection closed before the archive was complete.'
}
