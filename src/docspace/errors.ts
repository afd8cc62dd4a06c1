/** The facts of one failed request, without the query string or any key. */
export interface RequestInfo {
  method: string
  /** The request path, never the query string. */
  path: string
}

/** A request to DocSpace that failed; each subclass is one kind of failure. */
export class DocSpaceError extends Error {
  readonly method: string
  readonly path: string
  /**
   * True when the server may have acted on the request although no response
   * came back (a reset connection, a timeout, a 5xx from a proxy).
   */
  readonly outcomeUnknown: boolean
  /** True when sending the same request again may succeed. */
  readonly retryable: boolean

  constructor(
    request: RequestInfo,
    message: string,
    options: { cause?: unknown; outcomeUnknown: boolean; retryable: boolean }
  ) {
    super(message, { cause: options.cause })
    this.name = 'DocSpaceError'
    this.method = request.method
    this.path = request.path
    this.outcomeUnknown = options.outcomeUnknown
    this.retryable = options.retryable
  }
}

/** The server responded with an error status or an error body. */
export class DocSpaceHttpError extends DocSpaceError {
  readonly status: number
  /** The server's own short message, or '' when the body had none. */
  readonly serverMessage: string
  /** Seconds from a `Retry-After` header, when the server sent one. */
  readonly retryAfterSeconds: number | undefined

  constructor(
    request: RequestInfo,
    details: {
      status: number
      serverMessage: string
      hint: string
      retryAfterSeconds?: number
      /**
       * True when DocSpace itself wrote the error envelope: the request was
       * handled and failed there, so a 500 is no sign of a lost response.
       */
      fromApplication?: boolean
    }
  ) {
    const server = details.serverMessage ? ` ${details.serverMessage}` : ''
    const hint = details.hint ? `: ${details.hint}` : ''
    super(
      request,
      `${request.method} ${request.path} failed with ` +
        `${details.status}${server}${hint}`,
      {
        outcomeUnknown:
          details.status >= 500 &&
          (details.status !== 500 || !details.fromApplication),
        retryable: RETRYABLE_STATUSES.has(details.status)
      }
    )
    this.name = 'DocSpaceHttpError'
    this.status = details.status
    this.serverMessage = details.serverMessage
    this.retryAfterSeconds = details.retryAfterSeconds
  }
}

/** HTTP statuses that a proxy or rate limiter returns for a passing fault. */
export const RETRYABLE_STATUSES = new Set([429, 502, 503, 504])

/** The request got no response within the per-request timeout. */
export class DocSpaceTimeoutError extends DocSpaceError {
  constructor(request: RequestInfo, timeoutMs: number) {
    super(
      request,
      `${request.method} ${request.path} timed out after ` +
        `${timeoutMs / 1000}s without an answer from the portal.`,
      { outcomeUnknown: true, retryable: true }
    )
    this.name = 'DocSpaceTimeoutError'
  }
}

/** The connection failed: refused, reset, or the host name did not resolve. */
export class DocSpaceNetworkError extends DocSpaceError {
  readonly code: string | undefined

  constructor(request: RequestInfo, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code
    const detail = describeNetworkError(code, cause)
    super(request, `${request.method} ${request.path} failed: ${detail}`, {
      cause,
      // A refused connection or an unknown host never reached the server.
      outcomeUnknown: !NEVER_SENT_CODES.has(code ?? ''),
      // A rejected certificate or an unknown host stays so on a retry.
      retryable: code !== 'ENOTFOUND' && !isCertificateError(code)
    })
    this.name = 'DocSpaceNetworkError'
    this.code = code
  }
}

const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])

/** OpenSSL verification codes, as Node reports them, without CERT in them. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'INVALID_CA',
  'HOSTNAME_MISMATCH'
])

function isCertificateError(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (code.startsWith('ERR_TLS') ||
      code.includes('CERT') ||
      CERTIFICATE_CODES.has(code))
  )
}

function describeNetworkError(
  code: string | undefined,
  cause: unknown
): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'the connection was refused. Check portal-url and that the portal is up.'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "the portal's host name did not resolve. Check portal-url."
    case 'ECONNRESET':
      return 'the connection was reset before the portal responded.'
    default:
      if (isCertificateError(code)) {
        return (
          `the TLS certificate was not accepted (${code}). For a portal ` +
          'with a private CA, set NODE_EXTRA_CA_CERTS to the CA file.'
        )
      }
      return cause instanceof Error ? cause.message : String(cause)
  }
}

/** The response was not the JSON that the endpoint returns. */
export class DocSpaceResponseError extends DocSpaceError {
  constructor(request: RequestInfo, detail: string, retryable: boolean) {
    super(request, `${request.method} ${request.path} returned ${detail}`, {
      outcomeUnknown: true,
      retryable
    })
    this.name = 'DocSpaceResponseError'
  }
}

/** A redirect that the client will not follow with the API key. */
export class DocSpaceRedirectError extends DocSpaceError {
  constructor(request: RequestInfo, detail: string) {
    super(request, `${request.method} ${request.path} ${detail}`, {
      outcomeUnknown: false,
      retryable: false
    })
    this.name = 'DocSpaceRedirectError'
  }
}
