import {
  DocSpaceHttpError,
  DocSpaceResponseError,
  type RequestInfo
} from './errors.js'
import {
  envelopeErrorSchema,
  envelopeSchema,
  validationProblemSchema
} from './schemas.js'
import { hintFor, type ErrorContext } from './hints.js'

/** An HTTP response with its body read as text. */
export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

const MAX_SERVER_MESSAGE_LENGTH = 200

/**
 * Checks a DocSpace response and returns the envelope's `response` member
 * (undefined when the server left it out). Throws DocSpaceHttpError for an
 * error status or an error body, also under HTTP 2xx, and
 * DocSpaceResponseError for a 2xx body that is not a DocSpace envelope.
 */
export function readEnvelope(
  request: RequestInfo,
  raw: RawResponse,
  context: ErrorContext
): unknown {
  const json = parseJson(raw.body)
  const envelope = envelopeSchema.safeParse(json)
  const bodyIsError =
    envelope.success &&
    (envelope.data.error !== undefined || envelope.data.status === 1)

  if (raw.status < 200 || raw.status > 299 || bodyIsError) {
    // A 2xx error body carries its real status in statusCode.
    const status =
      raw.status >= 200 && raw.status <= 299
        ? (envelope.data?.statusCode ?? raw.status)
        : raw.status
    const serverMessage = extractServerMessage(raw.body, json)
    throw new DocSpaceHttpError(request, {
      status,
      serverMessage,
      hint: hintFor(status, serverMessage, raw.body.trim() === '', context),
      retryAfterSeconds: parseRetryAfter(raw.headers['retry-after']),
      fromApplication: bodyIsError
    })
  }

  if (!envelope.success) {
    const looksLikeHtml = /^\s*</.test(raw.body)
    const detail = looksLikeHtml
      ? `an HTML page (${htmlTitle(raw.body)}) instead of JSON. The portal ` +
        'may be under maintenance, or portal-url may point at a site that ' +
        'is not DocSpace.'
      : 'a body that is not a DocSpace API answer. Check portal-url.'
    // A maintenance page passes and a wrong site does not. The two look the
    // same from here, so the request is retried a few times.
    throw new DocSpaceResponseError(
      request,
      `${raw.status} with ${detail}`,
      true
    )
  }

  return envelope.data.response
}

function parseJson(body: string): unknown {
  if (body.trim() === '') {
    return undefined
  }
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

/**
 * Picks the server's own short message out of any error body: the DocSpace
 * error envelope, a wrapped validation error, RFC 7807 problem details, an
 * HTML page or plain text. Never includes a stack trace.
 */
export function extractServerMessage(body: string, json: unknown): string {
  const envelope = envelopeSchema.safeParse(json)
  const error = envelopeErrorSchema.safeParse(envelope.data?.error)
  const problem = validationProblemSchema.safeParse(
    envelope.data?.response ?? json
  )
  let message = ''

  if (error.success && error.data.message) {
    message = error.data.message
  } else if (json !== undefined && problem.success) {
    message = describeProblem(problem.data)
  } else if (/^\s*</.test(body)) {
    message = `(HTML page: ${htmlTitle(body)})`
  } else if (json === undefined && body.trim() !== '') {
    message = body.trim().split(/\r?\n/)[0] ?? ''
  }

  return truncate(message.replace(/\s+/g, ' ').trim())
}

function describeProblem(problem: {
  title?: string | null
  detail?: string | null
  errors?: Record<string, string[]> | null
}): string {
  const fieldErrors = Object.entries(problem.errors ?? {}).map(
    ([field, messages]) => `${field}: ${messages.join(' ')}`
  )
  if (fieldErrors.length > 0) {
    return fieldErrors.join('; ')
  }

  return problem.detail || problem.title || ''
}

function htmlTitle(body: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim()
  return title ? `title '${truncate(title, 80)}'` : 'no title'
}

function truncate(text: string, max = MAX_SERVER_MESSAGE_LENGTH): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Parses `Retry-After` as seconds or as an HTTP date; undefined when absent. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number = Date.now()
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value || value.trim() === '') {
    return undefined
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim())
  }

  const date = Date.parse(value)
  if (Number.isNaN(date)) {
    return undefined
  }

  return Math.max(0, Math.ceil((date - now) / 1000))
}
