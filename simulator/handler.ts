import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { archiveLink } from './archive.js'
import { authenticate } from './auth.js'
import { apiReply, type ApiContext } from './backup-api.js'
import { faultReply, writeReply } from './delivery.js'
import { downloadReply } from './download.js'
import type { Fault, FaultQueue } from './faults.js'
import type { JobStore } from './job-store.js'
import { resolveOptions, type SimulatorOptions } from './options.js'
import { parseRecordedBody, type RecordedRequest } from './recording.js'
import { emptyReply, type Reply } from './reply.js'
import {
  matchApiRoute,
  matchArchivePath,
  type EndpointName,
  type Route
} from './routes.js'

/** Everything one simulator instance keeps between requests. */
export interface SimulatorState {
  options: SimulatorOptions
  store: JobStore
  faults: FaultQueue
  requests: RecordedRequest[]
  revokedKeys: Set<string>
  secret: string
  baseUrl: string
  closing: AbortController
}

export function currentTime(state: SimulatorState): number {
  return resolveOptions(state.options).clock()
}

/**
 * Handles one HTTP request: records it, applies the first matching fault, and
 * sends the API, download or 404 reply.
 */
export async function handleRequest(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse
): Promise<void> {
  const at = currentTime(state)
  const url = new URL(request.url ?? '/', state.baseUrl)
  const body = await readBody(request)
  const route = matchApiRoute(url.pathname)
  const archivePath = route ? undefined : matchArchivePath(url.pathname)
  const endpoint: EndpointName | undefined =
    route?.endpoint ?? (archivePath ? 'download' : undefined)

  const record = recordRequest(state, request, url, body, endpoint, at)
  const onRequest = state.options.onRequest
  if (onRequest) {
    response.once('close', () => onRequest(record))
  }

  const fault = state.faults.take(endpoint)
  if (fault?.kind === 'revoke-key') {
    resolveOptions(state.options).apiKeys.forEach(key =>
      state.revokedKeys.add(key)
    )
  }

  if (fault?.kind === 'reset') {
    response.destroy()
    return
  }

  if (fault?.kind === 'hang') {
    return
  }

  const reply =
    faultReply(fault) ??
    routeReply(state, request, url, body, archivePath, route)
  await deliver(state, response, reply, fault, record)
}

/** Produces the normal reply: an API action, an archive download or 404. */
function routeReply(
  state: SimulatorState,
  request: IncomingMessage,
  url: URL,
  body: string,
  archivePath: string | undefined,
  route: Route | undefined
): Reply {
  const options = resolveOptions(state.options)
  const method = request.method ?? 'GET'
  const query = Object.fromEntries(url.searchParams)
  const authorization = request.headers.authorization
  const now = options.clock()

  if (route) {
    const context: ApiContext = {
      options,
      store: state.store,
      revokedKeys: state.revokedKeys,
      linkFor: job => archiveLink(job, state.baseUrl, state.secret)
    }
    const link = { href: `${state.baseUrl}${request.url}`, action: method }
    const apiRequest = { method, query, body, authorization, link, now }

    return apiReply(route, apiRequest, context)
  }

  if (archivePath === undefined) {
    return emptyReply(404)
  }

  if (method !== 'GET' && method !== 'HEAD') {
    return emptyReply(405, { Allow: 'GET, HEAD' })
  }

  const credential = authenticate(
    authorization,
    options.apiKeys,
    state.revokedKeys
  )
  return downloadReply(
    {
      archivePath,
      query,
      authenticated: credential !== undefined,
      range: request.headers.range
    },
    {
      store: state.store,
      secret: state.secret,
      archiveBytes: options.archiveBytes,
      ignoreRange: options.ignoreRange,
      now
    }
  )
}

/** Sends the reply, applying the faults that act after handling. */
async function deliver(
  state: SimulatorState,
  response: ServerResponse,
  reply: Reply,
  fault: Fault | undefined,
  record: RecordedRequest
): Promise<void> {
  if (fault?.kind === 'reset-after-create') {
    response.destroy()
    return
  }

  if (fault?.kind === 'delay') {
    try {
      await sleep(fault.ms, undefined, { signal: state.closing.signal })
    } catch {
      // The simulator is closing, which destroys the connection anyway.
      return
    }
  }

  record.status = reply.status
  await writeReply(response, reply, fault)
}

function recordRequest(
  state: SimulatorState,
  request: IncomingMessage,
  url: URL,
  body: string,
  endpoint: EndpointName | undefined,
  at: number
): RecordedRequest {
  const record: RecordedRequest = {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    hasAuthorization: request.headers.authorization !== undefined,
    body: parseRecordedBody(body),
    status: 0,
    at,
    endpoint,
    contentType: request.headers['content-type']
  }
  state.requests.push(record)

  return record
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) {
    chunks.push(chunk as Buffer)
  }

  return Buffer.concat(chunks).toString('utf8')
}

export function reportSimulatorError(
  response: ServerResponse,
  error: unknown
): void {
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`DocSpace simulator: request failed: ${message}\n`)

  if (response.headersSent) {
    response.destroy()
  } else {
    response.writeHead(500, { 'Content-Type': 'text/plain' })
    response.end(`Simulator error: ${message}`)
  }
}
