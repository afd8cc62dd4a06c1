import { HttpClient } from '@actions/http-client'
import type { OutgoingHttpHeaders } from 'node:http'
import {
  DocSpaceNetworkError,
  DocSpaceTimeoutError,
  type RequestInfo
} from './errors.js'
import type { RawResponse } from './response.js'

/** One HTTP request to send. */
export interface OutgoingRequest {
  method: 'GET' | 'POST'
  url: URL
  headers: OutgoingHttpHeaders
  body?: string
  /** The whole request, body included, must finish within this time. */
  timeoutMs: number
  signal?: AbortSignal
}

/** Sends one request and reads its whole body. */
export type Transport = (request: OutgoingRequest) => Promise<RawResponse>

const USER_AGENT = 'docspace-backup-action'

/**
 * Returns a transport over @actions/http-client, which honours HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY and trusts NODE_EXTRA_CA_CERTS through Node.
 * Redirects are returned, not followed, so the caller decides where the API
 * key may go.
 */
export function createHttpTransport(): Transport {
  return async request => {
    const client = new HttpClient(USER_AGENT, [], {
      allowRedirects: false,
      keepAlive: false,
      socketTimeout: request.timeoutMs
    })
    try {
      return await withDeadline(request, send(client, request))
    } finally {
      client.dispose()
    }
  }
}

async function send(
  client: HttpClient,
  request: OutgoingRequest
): Promise<RawResponse> {
  const info = describe(request)
  try {
    const response = await client.request(
      request.method,
      request.url.href,
      request.body ?? null,
      request.headers
    )
    const body = await response.readBody()
    return {
      status: response.message.statusCode ?? 0,
      headers: response.message.headers,
      body
    }
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('Request timeout')) {
      throw new DocSpaceTimeoutError(info, request.timeoutMs)
    }
    throw new DocSpaceNetworkError(info, error)
  }
}

/** Rejects when the deadline passes or the signal aborts, whichever first. */
function withDeadline<T>(
  request: OutgoingRequest,
  work: Promise<T>
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      finish()
      reject(request.signal?.reason)
    }
    const timer = setTimeout(() => {
      finish()
      reject(new DocSpaceTimeoutError(describe(request), request.timeoutMs))
    }, request.timeoutMs)
    const finish = () => {
      clearTimeout(timer)
      request.signal?.removeEventListener('abort', onAbort)
    }

    if (request.signal?.aborted) {
      onAbort()
      return
    }
    request.signal?.addEventListener('abort', onAbort, { once: true })
    work.then(
      value => {
        finish()
        resolve(value)
      },
      (error: unknown) => {
        finish()
        reject(error)
      }
    )
  })
}

/** Names the request by method and path; the query string is left out. */
export function describe(request: { method: string; url: URL }): RequestInfo {
  return { method: request.method, path: request.url.pathname }
}
