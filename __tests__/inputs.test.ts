import { describe, expect, it } from '@jest/globals'
import {
  InputError,
  parsePortalUrl,
  readInputs,
  type ActionInputs
} from '../src/inputs.js'
import { StorageType } from '../src/storage.js'

const VALID: Record<string, string> = {
  'portal-url': 'https://portal.example.test',
  'api-key': 'sk-test-key'
}

/** Reads the inputs from `values` on top of a minimal valid set. */
function read(values: Record<string, string> = {}) {
  const all = { ...VALID, ...values }
  return readInputs(name => all[name] ?? '')
}

function inputsFrom(values: Record<string, string>): ActionInputs {
  return read(values).inputs
}

/** Returns the InputError's problems, or fails the test when none is thrown. */
function problemsFrom(values: Record<string, string>): string[] {
  try {
    read(values)
  } catch (error) {
    if (error instanceof InputError) {
      return error.problems
    }
    throw error
  }
  throw new Error(`readInputs accepted ${JSON.stringify(values)}`)
}

/** Returns the single problem for `values`, failing on none or several. */
function problemFrom(values: Record<string, string>): string {
  const problems = problemsFrom(values)
  expect(problems).toHaveLength(1)
  return problems[0] ?? ''
}

describe('readInputs', () => {
  it('applies the defaults', () => {
    const inputs = inputsFrom({})

    expect(inputs).toEqual({
      portalUrl: new URL('https://portal.example.test/'),
      apiKey: 'sk-test-key',
      storageType: StorageType.DataStore,
      storageParams: [],
      dump: false,
      wait: true,
      timeoutSeconds: 3600,
      pollIntervalSeconds: 5,
      ifRunning: 'queue',
      cancelIfUnfinished: false,
      downloadPath: ''
    })
  })

  it('reads every input by its action.yml name', () => {
    const inputs = inputsFrom({
      'storage-type': 'ThirdPartyConsumer',
      'storage-params': 'module=s3',
      dump: 'true',
      wait: 'true',
      timeout: '2h',
      'poll-interval': '30s',
      'if-running': 'attach',
      'cancel-if-unfinished': 'true',
      'download-path': 'backups/'
    })

    expect(inputs).toMatchObject({
      storageType: StorageType.ThirdPartyConsumer,
      storageParams: [{ key: 'module', value: 's3' }],
      dump: true,
      wait: true,
      timeoutSeconds: 7200,
      pollIntervalSeconds: 30,
      ifRunning: 'attach',
      cancelIfUnfinished: true,
      downloadPath: 'backups/'
    })
  })

  describe('portal-url', () => {
    it('is required', () => {
      expect(problemFrom({ 'portal-url': '  ' })).toMatch(
        /^portal-url: missing/
      )
    })

    it('rejects a value without a scheme', () => {
      const problem = problemFrom({ 'portal-url': 'portal.example.test' })

      expect(problem).toMatch(/^portal-url: /)
      expect(problem).toContain("'portal.example.test'")
      expect(problem).toContain('https://')
    })

    it('rejects another scheme', () => {
      const problem = problemFrom({ 'portal-url': 'ftp://portal.example.test' })

      expect(problem).toMatch(/^portal-url: /)
    })

    it('warns about http to a remote host', () => {
      const { warnings } = read({ 'portal-url': 'http://portal.example.test' })

      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^portal-url: /)
      expect(warnings[0]).toContain('http://portal.example.test')
    })

    it.each([
      'http://127.0.0.1:8092',
      'http://localhost:8080',
      'http://[::1]:8080',
      'https://portal.example.test'
    ])('does not warn about %s', url => {
      expect(read({ 'portal-url': url }).warnings).toEqual([])
    })
  })

  describe('api-key', () => {
    it.each(['', '   ', 'Bearer', 'bearer  '])('rejects %j', key => {
      const problem = problemFrom({ 'api-key': key })

      expect(problem).toMatch(/^api-key: missing/)
    })

    it('is kept as given, trimmed', () => {
      expect(inputsFrom({ 'api-key': ' Bearer sk-x ' }).apiKey).toBe(
        'Bearer sk-x'
      )
    })
  })

  describe('storage-type', () => {
    it.each([
      ['documents', StorageType.Documents],
      ['THIRDPARTYDOCUMENTS', StorageType.ThirdPartyDocuments],
      ['ThridpartyDocuments', StorageType.ThirdPartyDocuments],
      ['Local', StorageType.Local],
      ['4', StorageType.DataStore],
      ['5', StorageType.ThirdPartyConsumer]
    ])('reads %s', (text, type) => {
      const params: Record<number, string> = {
        [StorageType.Documents]: 'folderId=1',
        [StorageType.ThirdPartyDocuments]: 'folderId=sbox-1',
        [StorageType.Local]: 'filePath=/backups',
        [StorageType.DataStore]: '',
        [StorageType.ThirdPartyConsumer]: 'module=s3'
      }
      const inputs = inputsFrom({
        'storage-type': text,
        'storage-params': params[type] ?? ''
      })

      expect(inputs.storageType).toBe(type)
    })

    it.each(['CustomCloud', '2'])('rejects %s with the reason', text => {
      const problem = problemFrom({ 'storage-type': text })

      expect(problem).toMatch(/^storage-type: /)
      expect(problem).toContain('Unknown storage type.')
    })

    it('rejects an unknown type with the accepted list', () => {
      const problem = problemFrom({ 'storage-type': 'S3' })

      expect(problem).toMatch(/^storage-type: 'S3'/)
      expect(problem).toContain(
        'Documents, ThirdPartyDocuments, Local, DataStore, ThirdPartyConsumer'
      )
    })
  })

  describe('storage-params', () => {
    it('keeps order and = inside values', () => {
      const inputs = inputsFrom({
        'storage-type': 'ThirdPartyConsumer',
        'storage-params': 'module=s3\r\n\r\nbucket=b\r\nsse=x=y'
      })

      expect(inputs.storageParams).toEqual([
        { key: 'module', value: 's3' },
        { key: 'bucket', value: 'b' },
        { key: 'sse', value: 'x=y' }
      ])
    })

    it('reads a JSON object', () => {
      const inputs = inputsFrom({
        'storage-type': 'Documents',
        'storage-params': '{"folderId": 12345}'
      })

      expect(inputs.storageParams).toEqual([
        { key: 'folderId', value: '12345' }
      ])
    })

    it('checks the params against the type', () => {
      const problem = problemFrom({ 'storage-type': 'Documents' })

      expect(problem).toContain('Documents needs folderId=<number>')
    })

    it('rejects DataStore params', () => {
      const problem = problemFrom({ 'storage-params': 'folderId=1' })

      expect(problem).toContain('DataStore takes no settings')
    })

    it('never shows a value in a problem', () => {
      const secret = 'sk-INPUT-SECRET-8243'
      const problems = problemsFrom({
        'storage-type': 'ThirdPartyConsumer',
        'storage-params': [
          `bucket=${secret}`,
          `acesskey=${secret}`,
          `secretaccesskey=${secret}`,
          `bucket=${secret}`,
          `=${secret}`,
          `Module=${secret}`
        ].join('\n')
      })

      expect(problems.length).toBeGreaterThanOrEqual(5)
      expect(problems.join('\n')).not.toContain(secret)
    })

    it('never shows a JSON value in a problem', () => {
      const secret = 'sk-INPUT-JSON-SECRET-1187'
      const problems = problemsFrom({
        'storage-type': 'Documents',
        'storage-params': JSON.stringify({
          folderId: secret,
          FolderId: secret,
          acesskey: secret
        })
      })

      expect(problems.length).toBeGreaterThanOrEqual(3)
      expect(problems.join('\n')).not.toContain(secret)
    })
  })

  describe('booleans', () => {
    it.each(['dump', 'wait', 'cancel-if-unfinished'])(
      '%s accepts true and false in any case',
      name => {
        const field = {
          dump: 'dump',
          wait: 'wait',
          'cancel-if-unfinished': 'cancelIfUnfinished'
        }[name] as keyof ActionInputs

        expect(inputsFrom({ [name]: 'TRUE' })[field]).toBe(true)
        expect(inputsFrom({ [name]: 'True' })[field]).toBe(true)
        expect(inputsFrom({ [name]: 'FALSE' })[field]).toBe(false)
        expect(inputsFrom({ [name]: ' false ' })[field]).toBe(false)
      }
    )

    it.each(['dump', 'wait', 'cancel-if-unfinished'])(
      '%s rejects yes by name',
      name => {
        const problem = problemFrom({ [name]: 'yes' })

        expect(problem).toMatch(new RegExp(`^${name}: 'yes'`))
        expect(problem).toContain('true or false')
      }
    )

    it('wait defaults to true', () => {
      expect(inputsFrom({ wait: '' }).wait).toBe(true)
    })
  })

  describe('durations', () => {
    it.each([
      ['90', 90],
      ['90s', 90],
      ['15m', 900],
      ['1h30m', 5400]
    ])('timeout reads %s', (text, seconds) => {
      expect(inputsFrom({ timeout: text }).timeoutSeconds).toBe(seconds)
    })

    it.each(['timeout', 'poll-interval'])('%s rejects a non-duration', name => {
      const problem = problemFrom({ [name]: '5 minutes' })

      expect(problem).toMatch(new RegExp(`^${name}: '5 minutes'`))
      expect(problem).toContain('90s')
    })

    it.each(['0', '0s'])('poll-interval rejects %s', text => {
      const problem = problemFrom({ 'poll-interval': text })

      expect(problem).toMatch(/^poll-interval: /)
      expect(problem).toContain('at least 1s')
    })

    it('poll-interval accepts 1s', () => {
      expect(
        inputsFrom({ 'poll-interval': '1s', timeout: '1s' }).pollIntervalSeconds
      ).toBe(1)
    })

    it('timeout must be at least poll-interval', () => {
      const problem = problemFrom({ timeout: '10s', 'poll-interval': '11s' })

      expect(problem).toMatch(/^timeout: 10s/)
      expect(problem).toContain('poll-interval (11s)')
    })

    it('timeout may equal poll-interval', () => {
      const inputs = inputsFrom({ timeout: '30s', 'poll-interval': '30' })

      expect(inputs.timeoutSeconds).toBe(30)
    })
  })

  describe('if-running', () => {
    it.each([
      ['queue', 'queue'],
      ['ATTACH', 'attach'],
      [' Fail ', 'fail'],
      ['', 'queue']
    ])('reads %j', (text, value) => {
      expect(inputsFrom({ 'if-running': text }).ifRunning).toBe(value)
    })

    it('rejects other values with the choices', () => {
      const problem = problemFrom({ 'if-running': 'wait' })

      expect(problem).toMatch(/^if-running: 'wait'/)
      expect(problem).toContain('queue')
      expect(problem).toContain('attach')
      expect(problem).toContain('fail')
    })
  })

  describe('download-path', () => {
    it.each([
      ['DataStore', ''],
      ['ThirdPartyConsumer', 'module=s3']
    ])('works with %s', (type, params) => {
      const inputs = inputsFrom({
        'storage-type': type,
        'storage-params': params,
        'download-path': 'out/'
      })

      expect(inputs.downloadPath).toBe('out/')
    })

    it('rejects a storage type without a link', () => {
      const problem = problemFrom({
        'storage-type': 'Documents',
        'storage-params': 'folderId=1',
        'download-path': 'out/'
      })

      expect(problem).toMatch(/^download-path: /)
      expect(problem).toContain('Documents gives no download link')
    })

    it('rejects wait false', () => {
      const problem = problemFrom({ wait: 'false', 'download-path': 'out/' })

      expect(problem).toMatch(/^download-path: /)
      expect(problem).toContain('wait is true')
    })

    it('is not checked when empty', () => {
      const inputs = inputsFrom({ wait: 'false', 'download-path': ' ' })

      expect(inputs.downloadPath).toBe('')
    })
  })

  it('reports every problem at once', () => {
    const problems = problemsFrom({
      'portal-url': 'portal.example.test',
      'api-key': '',
      'storage-type': 's3',
      dump: 'yes',
      'if-running': 'never',
      'poll-interval': '0'
    })
    const inputsNamed = problems.map(problem => problem.split(':')[0])

    expect(inputsNamed).toEqual([
      'portal-url',
      'api-key',
      'storage-type',
      'dump',
      'if-running',
      'poll-interval'
    ])
  })

  it('joins the problems in the message', () => {
    const error = (() => {
      try {
        read({ 'api-key': '', 'if-running': 'never' })
      } catch (thrown) {
        return thrown
      }
    })()

    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).message.split('\n')).toHaveLength(2)
  })
})

describe('parsePortalUrl', () => {
  /** Returns the parsed base URL, or fails the test with the error. */
  function baseOf(text: string): string {
    const result = parsePortalUrl(text)
    if ('error' in result) {
      throw new Error(`expected a URL, got the error: ${result.error}`)
    }
    return result.value.href
  }

  it.each([
    ['https://portal.example.test', 'https://portal.example.test/'],
    ['https://portal.example.test/', 'https://portal.example.test/'],
    ['https://portal.example.test//', 'https://portal.example.test/'],
    [' https://portal.example.test ', 'https://portal.example.test/'],
    ['https://example.test/docspace', 'https://example.test/docspace/'],
    ['https://example.test/docspace/', 'https://example.test/docspace/'],
    ['https://portal.example.test/api/2.0', 'https://portal.example.test/'],
    ['https://portal.example.test/api/2.0/', 'https://portal.example.test/'],
    ['https://example.test/docspace/API/2.0', 'https://example.test/docspace/'],
    ['https://portal.example.test/?x=1#top', 'https://portal.example.test/'],
    ['http://127.0.0.1:8092', 'http://127.0.0.1:8092/']
  ])('turns %j into %s', (text, base) => {
    expect(baseOf(text)).toBe(base)
  })

  it('keeps /api/2.0 inside the path', () => {
    expect(baseOf('https://example.test/api/2.0/docspace')).toBe(
      'https://example.test/api/2.0/docspace/'
    )
  })

  it('rejects a user name and password', () => {
    const result = parsePortalUrl('https://admin:sk-URL-SECRET-5117@x.test')

    const error = 'error' in result ? result.error : ''

    expect(error).toMatch(/^portal-url: /)
    expect(error).not.toContain('sk-URL-SECRET-5117')
  })
})
