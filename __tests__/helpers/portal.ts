import nock from 'nock'

/** A portal address that only exists inside nock. */
export const PORTAL = 'https://portal.example.test'

/** The backup API's path on a portal served from the root. */
export const BACKUP_API = '/api/2.0/backup'

/** Builds a DocSpace success envelope. Without `response` it means no job. */
export function envelope(response?: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = {
    count: response === undefined ? 0 : 1,
    links: [{ href: `${PORTAL}${BACKUP_API}`, action: 'GET' }],
    status: 0,
    statusCode: 200
  }
  if (response !== undefined) {
    body.response = response
  }
  return body
}

/** Builds a DocSpace error envelope with a stack trace, as the server does. */
export function errorEnvelope(
  statusCode: number,
  message: string
): Record<string, unknown> {
  return {
    error: {
      message,
      type: 'System.Exception',
      stack: '   at ASC.Data.Backup.BackupService.StartBackupAsync()',
      hresult: -2146233088
    },
    status: 1,
    statusCode
  }
}

/**
 * Records every request that no interceptor matched. With
 * `nock.disableNetConnect()` such a request fails, but the client under test
 * may turn that failure into a retry or another error, so tests check this
 * list to prove that nothing was sent where it should not go.
 */
export function recordUnmatched(): { requests: string[]; stop(): void } {
  const requests: string[] = []
  // nock 15 passes a Fetch API Request to this event.
  const listener = (request: { method?: string; url?: string }) => {
    requests.push(`${request.method ?? '?'} ${request.url ?? '?'}`)
  }
  nock.emitter.on('no match', listener)

  return {
    requests,
    stop: () => {
      nock.emitter.removeListener('no match', listener)
    }
  }
}

/**
 * Returns an error for `replyWithError` that looks like a reset socket.
 * NOTE: nock 15.0.2 on Node 24 never settles a request whose interceptor got
 * a plain object (`{ code, message }`), so an Error instance is passed.
 */
export function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
}
