import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it
} from '@jest/globals'
import nock from 'nock'
import {
  DocSpaceClient,
  type ClientOptions
} from '../../src/docspace/client.js'
import {
  DocSpaceHttpError,
  DocSpaceNetworkError,
  DocSpaceRedirectError,
  DocSpaceResponseError,
  DocSpaceTimeoutError
} from '../../src/docspace/errors.js'
import { createFakeClock, type FakeClock } from '../helpers/clock.js'
import { countContaining } from '../helpers/log.js'
import {
  BACKUP_API,
  connectionReset,
  envelope,
  errorEnvelope,
  PORTAL,
  recordUnmatched
} from '../helpers/portal.js'
import { TASK_ID } from '../helpers/progress.js'

const AUTHORIZATION = 'Bearer sk-CLIENT-KEY_1234.abcd'

/** A progress object as DocSpace 3.7.2 serialises it. */
const SERVER_PROGRESS = {
  isCompleted: false,
  progress: 0,
  error: '',
  link: '',
  tenantId: 1,
  backupProgressEnum: 0,
  status: 0,
  taskId: TASK_ID
}

const START_BODY = {
  storageType: 4,
  storageParams: [],
  dump: false
}

const PROXY_VARIABLES = [
  'https_proxy',
  'HTTPS_PROXY',
  'http_proxy',
  'HTTP_PROXY',
  'no_proxy',
  'NO_PROXY'
]
const savedProxies = new Map<string, string | undefined>()

let clock: FakeClock
let logs: string[]
let unmatched: ReturnType<typeof recordUnmatched>

/** Creates a client for PORTAL with fast retries on a fake clock. */
function createClient(overrides: Partial<ClientOptions> = {}): DocSpaceClient {
  return new DocSpaceClient({
    baseUrl: new URL(`${PORTAL}/`),
    authorization: AUTHORIZATION,
    requestTimeoutMs: 5000,
    retryPolicy: {
      maxAttempts: 3,
      baseDelayMs: 10,
      maxDelayMs: 40,
      maxTotalMs: 10_000
    },
    sleep: clock.sleep,
    now: clock.now,
    random: () => 0.5,
    log: message => logs.push(message),
    ...overrides
  })
}

/** Intercepts requests to PORTAL that carry exactly AUTHORIZATION. */
function portal(origin = PORTAL) {
  return nock(origin, { reqheaders: { authorization: AUTHORIZATION } })
}

const PROGRESS_PATH = `${BACKUP_API}/getbackupprogress`
const START_PATH = `${BACKUP_API}/startbackup`

beforeAll(() => {
  nock.disableNetConnect()
  // @actions/http-client sends through a proxy named in these variables.
  for (const name of PROXY_VARIABLES) {
    savedProxies.set(name, process.env[name])
    delete process.env[name]
  }
})

beforeEach(() => {
  clock = createFakeClock()
  logs = []
  unmatched = recordUnmatched()
})

afterEach(() => {
  unmatched.stop()
  const pending = nock.pendingMocks()
  nock.cleanAll()
  expect(pending).toEqual([])
  expect(unmatched.requests).toEqual([])
})

afterAll(() => {
  nock.enableNetConnect()
  for (const [name, value] of savedProxies) {
    if (value !== undefined) {
      process.env[name] = value
    }
  }
})

describe('DocSpaceClient requests', () => {
  it('sends the Authorization value as given', async () => {
    const raw = 'session-token-without-prefix'
    nock(PORTAL, { reqheaders: { authorization: raw } })
      .get(PROGRESS_PATH)
      .query({ dump: 'false' })
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient({ authorization: raw }).getBackupProgress(false)
  })

  it('asks for JSON', async () => {
    portal()
      .matchHeader('accept', 'application/json')
      .get(PROGRESS_PATH)
      .query({ dump: 'false' })
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient().getBackupProgress(false)
  })

  it('keeps the sub-path of the base URL', async () => {
    portal()
      .get(`/docspace${PROGRESS_PATH}`)
      .query({ dump: 'false' })
      .reply(200, envelope(SERVER_PROGRESS))
    const client = createClient({ baseUrl: new URL(`${PORTAL}/docspace/`) })

    await expect(client.getBackupProgress(false)).resolves.toMatchObject({
      taskId: TASK_ID
    })
  })

  it('sends the dump flag to progress', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query({ dump: 'true' })
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient().getBackupProgress(true)
  })

  it('sends the dump flag to history', async () => {
    portal()
      .get(`${BACKUP_API}/getbackuphistory`)
      .query({ dump: 'true' })
      .reply(200, envelope([]))

    await createClient().getBackupHistory(true)
  })

  it('posts the start body as JSON', async () => {
    portal()
      .matchHeader('content-type', 'application/json')
      .post(START_PATH, START_BODY)
      .reply(200, envelope(SERVER_PROGRESS))

    const started = await createClient().startBackup(START_BODY, {})

    expect(started?.taskId).toBe(TASK_ID)
  })

  it('posts cancelbackup', async () => {
    portal().post(`${BACKUP_API}/cancelbackup`).reply(200, envelope(true))

    await expect(createClient().cancelBackup()).resolves.toBe(true)
  })
})

describe('DocSpaceClient answers', () => {
  it('reads the progress object', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope({ ...SERVER_PROGRESS, status: undefined }))

    const progress = await createClient().getBackupProgress(false)

    expect(progress).toMatchObject({
      taskId: TASK_ID,
      isCompleted: false,
      progress: 0,
      error: '',
      warning: '',
      link: ''
    })
    expect(progress?.status).toBeUndefined()
  })

  it('reads no job as undefined', async () => {
    portal().get(PROGRESS_PATH).query(true).reply(200, envelope())

    await expect(createClient().getBackupProgress(false)).resolves.toBe(
      undefined
    )
  })

  it('reads a null error as empty', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope({ ...SERVER_PROGRESS, error: null }))

    const progress = await createClient().getBackupProgress(false)

    expect(progress?.error).toBe('')
  })

  it('reads the history records', async () => {
    const record = {
      id: TASK_ID,
      fileName: 'portal.tar.gz',
      storageType: 4,
      createdOn: '2026-03-01T02:15:00',
      expiresOn: '2026-03-02T02:15:00'
    }
    portal()
      .get(`${BACKUP_API}/getbackuphistory`)
      .query(true)
      .reply(200, envelope([record]))

    await expect(createClient().getBackupHistory(false)).resolves.toEqual([
      record
    ])
  })

  it('reads an empty history', async () => {
    portal()
      .get(`${BACKUP_API}/getbackuphistory`)
      .query(true)
      .reply(200, envelope())

    await expect(createClient().getBackupHistory(false)).resolves.toEqual([])
  })

  it('rejects a progress that fails the schema', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope({ ...SERVER_PROGRESS, taskId: 42 }))

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceResponseError)
    expect((error as Error).message).toContain('taskId')
    expect(logs).toEqual([])
  })

  it('reports the server message and hint', async () => {
    portal().post(START_PATH).reply(403, errorEnvelope(403, 'Access denied'))

    const error = await createClient()
      .startBackup(START_BODY, {})
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceHttpError)
    expect((error as Error).message).toBe(
      'POST /api/2.0/backup/startbackup failed with 403 Access denied: ' +
        "the API key's user must be the portal owner or a DocSpace admin, " +
        'and a target folder must be writable by that user.'
    )
  })

  it('never puts the query or the key in a message', async () => {
    portal().get(PROGRESS_PATH).query(true).reply(401)

    const error = await createClient()
      .getBackupProgress(true)
      .catch((thrown: unknown) => thrown)

    expect((error as Error).message).not.toContain('dump')
    expect((error as Error).message).not.toContain('sk-CLIENT-KEY')
  })
})

describe('DocSpaceClient retries', () => {
  it.each([502, 503, 504, 429])('retries a GET after %i', async status => {
    portal().get(PROGRESS_PATH).query(true).reply(status, '')
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))

    const progress = await createClient().getBackupProgress(false)

    expect(progress?.taskId).toBe(TASK_ID)
    expect(logs).toHaveLength(1)
    expect(logs[0]).toContain('GET /api/2.0/backup/getbackupprogress')
    expect(logs[0]).toContain('attempt 1 of 3')
    expect(logs[0]).toContain(`failed with ${status}`)
  })

  it('retries a GET after a reset connection', async () => {
    portal().get(PROGRESS_PATH).query(true).replyWithError(connectionReset())
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient().getBackupProgress(false)

    expect(countContaining(logs, 'attempt 1 of 3')).toBe(1)
    expect(countContaining(logs, 'connection was reset')).toBe(1)
  })

  it('retries a GET after an HTML page', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, '<html><title>Maintenance</title></html>')
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient().getBackupProgress(false)

    expect(countContaining(logs, 'attempt 1 of 3')).toBe(1)
  })

  it('retries cancelbackup', async () => {
    portal().post(`${BACKUP_API}/cancelbackup`).reply(503)
    portal().post(`${BACKUP_API}/cancelbackup`).reply(200, envelope(false))

    await expect(createClient().cancelBackup()).resolves.toBe(false)
  })

  it('gives up after maxAttempts', async () => {
    portal().get(PROGRESS_PATH).query(true).times(3).reply(503)

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceHttpError)
    expect((error as DocSpaceHttpError).status).toBe(503)
    expect(countContaining(logs, 'attempt 2 of 3')).toBe(1)
    expect(countContaining(logs, 'attempt 3 of 3')).toBe(0)
  })

  it('waits as long as Retry-After', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(429, '', { 'Retry-After': '3' })
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))

    await createClient().getBackupProgress(false)

    expect(clock.sleeps).toEqual([3000])
  })

  it.each([500, 401, 404])('does not retry a GET after %i', async status => {
    portal().get(PROGRESS_PATH).query(true).reply(status, '')

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect((error as DocSpaceHttpError).status).toBe(status)
    expect(logs).toEqual([])
    expect(clock.sleeps).toEqual([])
  })

  it('never retries startbackup', async () => {
    portal().post(START_PATH).reply(503, '')

    const error = await createClient()
      .startBackup(START_BODY, {})
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceHttpError)
    expect((error as DocSpaceHttpError).status).toBe(503)
    expect((error as DocSpaceHttpError).outcomeUnknown).toBe(true)
    expect(unmatched.requests).toEqual([])
    expect(logs).toEqual([])
  })

  it('never retries a reset startbackup', async () => {
    portal().post(START_PATH).replyWithError(connectionReset())

    const error = await createClient()
      .startBackup(START_BODY, {})
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceNetworkError)
    expect((error as DocSpaceNetworkError).outcomeUnknown).toBe(true)
    expect(unmatched.requests).toEqual([])
  })
})

describe('DocSpaceClient redirects', () => {
  it('follows a same-host GET redirect', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(302, '', { Location: `/docspace${PROGRESS_PATH}?dump=false` })
    portal()
      .get(`/docspace${PROGRESS_PATH}`)
      .query({ dump: 'false' })
      .reply(200, envelope(SERVER_PROGRESS))

    const progress = await createClient().getBackupProgress(false)

    expect(progress?.taskId).toBe(TASK_ID)
    expect(countContaining(logs, 'was redirected (302)')).toBe(1)
  })

  it('follows http up to https on the same host', async () => {
    const plain = 'http://portal.example.test'
    portal(plain)
      .get(PROGRESS_PATH)
      .query(true)
      .reply(301, '', { Location: `${PORTAL}${PROGRESS_PATH}?dump=false` })
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))
    const client = createClient({ baseUrl: new URL(`${plain}/`) })

    await expect(client.getBackupProgress(false)).resolves.toMatchObject({
      taskId: TASK_ID
    })
  })

  it('does not send the key to another host', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(302, '', {
        Location: `https://elsewhere.example.test${PROGRESS_PATH}`
      })

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceRedirectError)
    expect((error as Error).message).toContain('elsewhere.example.test')
    expect(unmatched.requests).toEqual([])
    expect(logs).toEqual([])
  })

  it('rejects a redirect from https to http', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(301, '', {
        Location: `http://portal.example.test${PROGRESS_PATH}`
      })

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceRedirectError)
    expect((error as Error).message).toContain('from https to http')
  })

  it('rejects a redirect without Location', async () => {
    portal().get(PROGRESS_PATH).query(true).reply(302, '')

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceRedirectError)
    expect((error as Error).message).toContain('Location')
  })

  it('does not turn a POST into a GET', async () => {
    portal()
      .post(START_PATH)
      .reply(302, '', { Location: `/docspace${START_PATH}` })

    const error = await createClient()
      .startBackup(START_BODY, {})
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceRedirectError)
    expect((error as Error).message).toContain('portal-url')
  })

  it('repeats a POST on 307', async () => {
    portal()
      .post(START_PATH, START_BODY)
      .reply(307, '', { Location: `/docspace${START_PATH}` })
    portal()
      .post(`/docspace${START_PATH}`, START_BODY)
      .reply(200, envelope(SERVER_PROGRESS))

    const started = await createClient().startBackup(START_BODY, {})

    expect(started?.taskId).toBe(TASK_ID)
  })

  it('stops after three redirects', async () => {
    const paths = [0, 1, 2, 3].map(hop =>
      hop === 0 ? PROGRESS_PATH : `/hop${hop}${PROGRESS_PATH}`
    )
    paths.forEach((path, hop) => {
      portal()
        .get(path)
        .query(true)
        .reply(302, '', { Location: `/hop${hop + 1}${PROGRESS_PATH}` })
    })

    const error = await createClient()
      .getBackupProgress(false)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceRedirectError)
    expect(countContaining(logs, 'following it')).toBe(3)
  })
})

describe('DocSpaceClient timeouts', () => {
  it('times out a slow request', async () => {
    portal().post(START_PATH).delay(500).reply(200, envelope(SERVER_PROGRESS))

    const error = await createClient({ requestTimeoutMs: 50 })
      .startBackup(START_BODY, {})
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DocSpaceTimeoutError)
    expect((error as DocSpaceTimeoutError).outcomeUnknown).toBe(true)
    expect((error as Error).message).toContain('timed out after 0.05s')
  })

  it('retries a GET that timed out', async () => {
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .delay(500)
      .reply(200, envelope(SERVER_PROGRESS))
    portal()
      .get(PROGRESS_PATH)
      .query(true)
      .reply(200, envelope(SERVER_PROGRESS))

    const progress = await createClient({
      requestTimeoutMs: 50
    }).getBackupProgress(false)

    expect(progress?.taskId).toBe(TASK_ID)
    expect(countContaining(logs, 'timed out')).toBe(1)
  })
})
