import { describe, expect, it } from '@jest/globals'
import {
  DocSpaceHttpError,
  DocSpaceResponseError
} from '../../src/docspace/errors.js'
import {
  extractServerMessage,
  parseRetryAfter,
  readEnvelope,
  type RawResponse
} from '../../src/docspace/response.js'

const REQUEST = { method: 'POST', path: '/api/2.0/backup/startbackup' }

const STACK =
  '   at ASC.Data.Backup.BackupController.StartBackup(BackupDto inDto) ' +
  'in /app/BackupController.cs:line 212'

function rawResponse(
  status: number,
  body: unknown,
  headers: RawResponse['headers'] = {}
): RawResponse {
  return {
    status,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body)
  }
}

/** Builds a DocSpace error envelope as CustomExceptionHandler writes it. */
function errorEnvelope(statusCode: number, message: string) {
  return {
    error: {
      message,
      type: 'System.ArgumentException',
      stack: STACK,
      hresult: -2147024809
    },
    status: 1,
    statusCode
  }
}

/** Returns the error readEnvelope throws, or fails the test. */
function errorFrom(raw: RawResponse): Error {
  try {
    readEnvelope(REQUEST, raw, {})
  } catch (error) {
    if (error instanceof Error) {
      return error
    }
  }
  throw new Error(`readEnvelope accepted ${raw.status} ${raw.body}`)
}

function httpErrorFrom(raw: RawResponse): DocSpaceHttpError {
  const error = errorFrom(raw)
  expect(error).toBeInstanceOf(DocSpaceHttpError)
  return error as DocSpaceHttpError
}

describe('readEnvelope', () => {
  it('returns the response member', () => {
    const body = { response: { taskId: 'x' }, count: 1, status: 0 }

    expect(readEnvelope(REQUEST, rawResponse(200, body), {})).toEqual({
      taskId: 'x'
    })
  })

  it('returns undefined without a response member', () => {
    const body = { count: 0, links: [], status: 0, statusCode: 200 }

    expect(readEnvelope(REQUEST, rawResponse(200, body), {})).toBeUndefined()
  })

  it('rejects an empty 401', () => {
    const error = httpErrorFrom(rawResponse(401, ''))

    expect(error.status).toBe(401)
    expect(error.serverMessage).toBe('')
    expect(error.message).toContain('POST /api/2.0/backup/startbackup')
    expect(error.message).toContain('failed with 401')
    expect(error.message).toContain('API key')
    expect(error.retryable).toBe(false)
    expect(error.outcomeUnknown).toBe(false)
  })

  it('reads the message of an error envelope', () => {
    const error = httpErrorFrom(
      rawResponse(400, errorEnvelope(400, 'wrong folder type'))
    )

    expect(error.status).toBe(400)
    expect(error.serverMessage).toBe('wrong folder type')
    expect(error.message).toContain('failed with 400 wrong folder type')
  })

  it('leaves the stack out of the message', () => {
    const error = httpErrorFrom(
      rawResponse(500, errorEnvelope(500, 'Object reference not set'))
    )

    expect(error.message).not.toContain('BackupController')
    expect(error.message).not.toContain('line 212')
    expect(error.message).not.toContain('System.ArgumentException')
  })

  it('reads a validation envelope', () => {
    const body = {
      response: {
        type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
        title: 'One or more validation errors occurred.',
        status: 400,
        errors: {
          '$.storageType': ['The JSON value could not be converted.']
        },
        traceId: '00-abc-01'
      },
      count: 1,
      status: 1,
      statusCode: 400
    }
    const error = httpErrorFrom(rawResponse(400, body))

    expect(error.serverMessage).toBe(
      '$.storageType: The JSON value could not be converted.'
    )
  })

  it('reads a validation envelope under 200', () => {
    const body = {
      response: { title: 'Invalid', errors: { dump: ['Not a boolean.'] } },
      status: 1,
      statusCode: 400
    }
    const error = httpErrorFrom(rawResponse(200, body))

    expect(error.status).toBe(400)
    expect(error.serverMessage).toBe('dump: Not a boolean.')
  })

  it('reads RFC 7807 problem details', () => {
    const body = {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.4',
      title: 'Forbidden',
      status: 403,
      traceId: '00-abc-01'
    }
    const error = httpErrorFrom(rawResponse(403, body))

    expect(error.status).toBe(403)
    expect(error.serverMessage).toBe('Forbidden')
  })

  it('prefers the detail of problem details', () => {
    const body = { title: 'Payment Required', detail: 'Tenant unpaid.' }

    expect(httpErrorFrom(rawResponse(402, body)).serverMessage).toBe(
      'Tenant unpaid.'
    )
  })

  it('rejects a 2xx with an error object', () => {
    const error = httpErrorFrom(
      rawResponse(200, errorEnvelope(403, 'Access denied'))
    )

    expect(error.status).toBe(403)
    expect(error.serverMessage).toBe('Access denied')
  })

  it('rejects a 2xx with status 1', () => {
    const error = httpErrorFrom(
      rawResponse(200, { status: 1, statusCode: 500 })
    )

    expect(error.status).toBe(500)
  })

  it('names the title of an HTML error page', () => {
    const html =
      '<html><head><title>502 Bad Gateway</title></head>' +
      '<body><center>openresty</center></body></html>'
    const error = httpErrorFrom(rawResponse(502, html))

    expect(error.serverMessage).toBe("(HTML page: title '502 Bad Gateway')")
    expect(error.retryable).toBe(true)
    expect(error.outcomeUnknown).toBe(true)
  })

  it('rejects an HTML page under 200', () => {
    const error = errorFrom(
      rawResponse(200, '<!DOCTYPE html><title>Maintenance</title>')
    )

    expect(error).toBeInstanceOf(DocSpaceResponseError)
    expect(error.message).toContain("title 'Maintenance'")
    expect((error as DocSpaceResponseError).retryable).toBe(true)
  })

  it('rejects JSON that is not an envelope', () => {
    const error = errorFrom(rawResponse(200, { response: {}, status: 'ok' }))

    expect(error).toBeInstanceOf(DocSpaceResponseError)
    expect(error.message).toContain('not a DocSpace API answer')
  })

  it('rejects a JSON array', () => {
    expect(errorFrom(rawResponse(200, [1, 2]))).toBeInstanceOf(
      DocSpaceResponseError
    )
  })

  it('takes the first line of a text body', () => {
    const error = httpErrorFrom(
      rawResponse(500, 'Service Unavailable\n   at Some.Stack.Frame()')
    )

    expect(error.serverMessage).toBe('Service Unavailable')
  })

  it('caps a long message', () => {
    const error = httpErrorFrom(
      rawResponse(400, errorEnvelope(400, 'x'.repeat(500)))
    )

    expect(error.serverMessage).toHaveLength(200)
    expect(error.serverMessage.endsWith('…')).toBe(true)
  })

  it('collapses whitespace in a message', () => {
    const error = httpErrorFrom(
      rawResponse(400, errorEnvelope(400, 'line one\r\n\tline two'))
    )

    expect(error.serverMessage).toBe('line one line two')
  })

  it('reads Retry-After', () => {
    const error = httpErrorFrom(rawResponse(429, '', { 'retry-after': '17' }))

    expect(error.retryAfterSeconds).toBe(17)
    expect(error.retryable).toBe(true)
  })

  it.each([429, 502, 503, 504])('marks %i retryable', status => {
    expect(httpErrorFrom(rawResponse(status, '')).retryable).toBe(true)
  })

  it.each([400, 401, 402, 403, 404, 500])('marks %i final', status => {
    expect(httpErrorFrom(rawResponse(status, '')).retryable).toBe(false)
  })

  it.each([
    [400, false],
    [499, false],
    [500, true],
    [503, true]
  ])('marks the outcome of %i unknown: %s', (status, unknown) => {
    expect(httpErrorFrom(rawResponse(status, '')).outcomeUnknown).toBe(unknown)
  })
})

describe('extractServerMessage', () => {
  it('returns nothing for an empty body', () => {
    expect(extractServerMessage('', undefined)).toBe('')
  })

  it('returns nothing for an error without a message', () => {
    const body = { error: { message: null, stack: STACK }, status: 1 }

    expect(extractServerMessage(JSON.stringify(body), body)).toBe('')
  })

  it('names an HTML page without a title', () => {
    expect(
      extractServerMessage('<html><body>down</body></html>', undefined)
    ).toBe('(HTML page: no title)')
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T10:00:00Z')

  it('reads seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120)
  })

  it('reads seconds around spaces', () => {
    expect(parseRetryAfter(' 5 ', now)).toBe(5)
  })

  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:01:30 GMT', now)).toBe(90)
  })

  it('rounds a date up to whole seconds', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:00:01 GMT', now - 500)).toBe(2)
  })

  it('reads a past date as zero', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0)
  })

  it('reads the first of repeated headers', () => {
    expect(parseRetryAfter(['30', '60'], now)).toBe(30)
  })

  it.each([undefined, '', '  ', 'soon'])('ignores %j', value => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})
