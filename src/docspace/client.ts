import type { OutgoingHttpHeaders } from 'node:http'
import { z } from 'zod'
import {
  DEFAULT_RETRY_POLICY,
  withRetries,
  type RetryPolicy
} from '../retry.js'
import { realNow, realSleep, type Now, type Sleep } from '../time.js'
import { DocSpaceRedirectError, DocSpaceResponseError } from './errors.js'
import type { ErrorContext } from './hints.js'
import { isHttpsUpgrade, tryUrl } from './redirects.js'
import { readEnvelope, type RawResponse } from './response.js'
import {
  backupHistoryRecordSchema,
  backupProgressSchema,
  describeIssues,
  type BackupHistoryRecord,
  type BackupProgress
} from './schemas.js'
import { createHttpTransport, describe, type Transport } from './transport.js'

/** The body of `POST /api/2.0/backup/startbackup`. */
export interface StartBackupBody {
  storageType: number
  storageParams: { key: string; value: string }[]
  dump: boolean
}

export interface ClientOptions {
  /** The portal's base URL, ending in `/`. */
  baseUrl: URL
  /** The `Authorization` header value, e.g. `Bearer sk-…`. */
  authorization: string
  requestTimeoutMs?: number
  retryPolicy?: RetryPolicy
  transport?: Transport
  sleep?: Sleep
  now?: Now
  random?: () => number
  log?: (message: string) => void
  /** Aborts waits between retries and requests in flight. */
  signal?: AbortSignal
}

/** The backup API's endpoints and their HTTP methods. */
const ACTION_METHODS = {
  getbackupprogress: 'GET',
  startbackup: 'POST',
  cancelbackup: 'POST',
  getbackuphistory: 'GET'
} as const

type Action = keyof typeof ACTION_METHODS

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
const MAX_REDIRECTS = 3

/**
 * The DocSpace backup API. The only module that sends HTTP requests to the
 * portal. GET requests and cancelbackup are retried on passing faults;
 * startbackup never is, because a repeated start can create a second backup.
 */
export class DocSpaceClient {
  private readonly options: Required<Omit<ClientOptions, 'signal'>> & {
    signal?: AbortSignal
  }

  constructor(options: ClientOptions) {
    this.options = {
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      retryPolicy: DEFAULT_RETRY_POLICY,
      transport: createHttpTransport(),
      sleep: realSleep,
      now: realNow,
      random: Math.random,
      log: () => undefined,
      ...options
    }
  }

  /** Reads the portal's (or with `dump`, the server's) backup job, if any. */
  async getBackupProgress(dump: boolean): Promise<BackupProgress | undefined> {
    const response = await this.retried('getbackupprogress', { dump })
    return this.parseOptional(
      'getbackupprogress',
      backupProgressSchema,
      response
    )
  }

  /**
   * Starts a backup, or returns the job that is already queued or running.
   * Sent once: the caller decides what to do when the outcome is unknown.
   */
  async startBackup(
    body: StartBackupBody,
    context: ErrorContext
  ): Promise<BackupProgress | undefined> {
    const response = await this.send('startbackup', {
      body,
      context
    })
    return this.parseOptional('startbackup', backupProgressSchema, response)
  }

  /** Cancels every backup job of the portal; returns whether one was removed. */
  async cancelBackup(): Promise<boolean> {
    const response = await this.retried('cancelbackup', {})
    return this.parse('cancelbackup', z.boolean(), response)
  }

  /** Lists the stored backups of the portal (or with `dump`, the server's). */
  async getBackupHistory(dump: boolean): Promise<BackupHistoryRecord[]> {
    const response = await this.retried('getbackuphistory', { dump })
    const records = response ?? []
    return this.parse(
      'getbackuphistory',
      z.array(backupHistoryRecordSchema),
      records
    )
  }

  private retried(
    action: Action,
    options: { dump?: boolean }
  ): Promise<unknown> {
    const url = this.endpoint(action, options.dump)
    return withRetries(
      `${ACTION_METHODS[action]} ${url.pathname}`,
      () => this.send(action, options),
      {
        policy: this.options.retryPolicy,
        sleep: this.options.sleep,
        now: this.options.now,
        random: this.options.random,
        log: this.options.log,
        signal: this.options.signal
      }
    )
  }

  private async send(
    action: Action,
    options: { dump?: boolean; body?: unknown; context?: ErrorContext }
  ): Promise<unknown> {
    const method = ACTION_METHODS[action]
    let url = this.endpoint(action, options.dump)
    const headers: OutgoingHttpHeaders = {
      Accept: 'application/json',
      Authorization: this.options.authorization
    }
    let body: string | undefined
    if (method === 'POST') {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(options.body ?? {})
    }

    for (let redirects = 0; ; redirects++) {
      const raw = await this.options.transport({
        method,
        url,
        headers,
        body,
        timeoutMs: this.options.requestTimeoutMs,
        signal: this.options.signal
      })
      if (raw.status < 300 || raw.status > 399) {
        return readEnvelope(
          describe({ method, url }),
          raw,
          options.context ?? {}
        )
      }

      url = this.followRedirect(method, url, raw, redirects)
    }
  }

  /**
   * Returns where a redirect leads when it is safe to follow with the API
   * key: the same host, over the same scheme or from http up to https.
   */
  private followRedirect(
    method: string,
    from: URL,
    raw: RawResponse,
    redirects: number
  ): URL {
    const request = describe({ method, url: from })
    const location = raw.headers.location
    const target =
      typeof location === 'string' ? tryUrl(location, from) : undefined

    if (!target) {
      throw new DocSpaceRedirectError(
        request,
        `was redirected (${raw.status}) without a usable Location header.`
      )
    }
    if (from.protocol === 'https:' && target.protocol !== 'https:') {
      throw new DocSpaceRedirectError(
        request,
        `was redirected from https to ${target.protocol.replace(':', '')}. ` +
          'The API key is never sent without TLS once https was used.'
      )
    }
    if (target.host !== from.host && !isHttpsUpgrade(from, target)) {
      throw new DocSpaceRedirectError(
        request,
        `was redirected to another host (${target.host}). The API key is ` +
          'not sent to other hosts; set portal-url to the address the ' +
          'portal is served from.'
      )
    }
    const keepsMethod =
      method === 'GET' || raw.status === 307 || raw.status === 308
    if (!keepsMethod || redirects + 1 > MAX_REDIRECTS) {
      throw new DocSpaceRedirectError(
        request,
        `was redirected (${raw.status}) to ${target.origin}${target.pathname}. ` +
          'Set portal-url to the address the portal is served from.'
      )
    }

    this.options.log(
      `${method} ${from.pathname} was redirected (${raw.status}) to ` +
        `${target.origin}${target.pathname}; following it.`
    )
    return target
  }

  private endpoint(action: Action, dump: boolean | undefined): URL {
    const url = new URL(`api/2.0/backup/${action}`, this.options.baseUrl)
    if (dump !== undefined) {
      url.searchParams.set('dump', String(dump))
    }
    return url
  }

  private parseOptional<T>(
    action: Action,
    schema: z.ZodType<T>,
    response: unknown
  ): T | undefined {
    return response === undefined || response === null
      ? undefined
      : this.parse(action, schema, response)
  }

  private parse<T>(action: Action, schema: z.ZodType<T>, response: unknown): T {
    const result = schema.safeParse(response)
    if (!result.success) {
      const url = this.endpoint(action, undefined)
      throw new DocSpaceResponseError(
        { method: ACTION_METHODS[action], path: url.pathname },
        `a response that does not match the expected schema: ` +
          `${describeIssues(result.error)}.`,
        false
      )
    }

    return result.data
  }
}
