import type { Simulator } from '../../simulator/server.js'

export const START_PATH = '/api/2.0/backup/startbackup'
export const PROGRESS_PATH = '/api/2.0/backup/getbackupprogress'
export const CANCEL_PATH = '/api/2.0/backup/cancelbackup'
export const HISTORY_PATH = '/api/2.0/backup/getbackuphistory'

export interface CallResult {
  status: number
  headers: Headers
  text: string
  /** Parsed body; undefined when the body is empty or not JSON. */
  json: Record<string, unknown> | undefined
}

export interface CallOptions {
  method?: string
  body?: unknown
  /** Authorization header value; `undefined` sends `Bearer <apiKey>`. */
  authorization?: string | null
  headers?: Record<string, string>
}

/** Sends a request, with the default key unless `authorization` is given. */
export async function call(
  simulator: Simulator,
  path: string,
  options: CallOptions = {}
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers }
  const authorization =
    options.authorization === undefined
      ? `Bearer ${simulator.apiKey}`
      : options.authorization
  if (authorization !== null) {
    headers.Authorization = authorization
  }

  let body: string | undefined
  if (options.body !== undefined) {
    body =
      typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body)
    headers['Content-Type'] ??= 'application/json'
  }

  const response = await fetch(`${simulator.url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual'
  })
  const text = await response.text()

  return {
    status: response.status,
    headers: response.headers,
    text,
    json: parseJson(text)
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** Returns the `response` member of an envelope as a record. */
export function responseOf(result: CallResult): Record<string, unknown> {
  return result.json?.response as Record<string, unknown>
}

/** Returns `error.message` of a DocSpace error envelope. */
export function errorMessageOf(result: CallResult): unknown {
  return (result.json?.error as Record<string, unknown> | undefined)?.message
}

export function startBackup(
  simulator: Simulator,
  body: unknown = { storageType: 4, storageParams: [], dump: false }
): Promise<CallResult> {
  return call(simulator, START_PATH, { body })
}

export function getProgress(
  simulator: Simulator,
  dump = false
): Promise<CallResult> {
  return call(simulator, `${PROGRESS_PATH}?dump=${dump}`)
}

/** A clock that only moves when a test moves it. */
export class ManualClock {
  constructor(public time = Date.UTC(2026, 11, 4, 10, 0, 0)) {}

  readonly now = (): number => this.time

  advance(ms: number): void {
    this.time += ms
  }
}
