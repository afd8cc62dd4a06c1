import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it
} from '@jest/globals'
import { startSimulator, type Simulator } from '../../simulator/server.js'
import {
  call,
  CANCEL_PATH,
  errorMessageOf,
  HISTORY_PATH,
  PROGRESS_PATH,
  START_PATH
} from './helpers.js'

let simulator: Simulator

beforeAll(async () => {
  simulator = await startSimulator({
    apiKeys: ['sk-primary', 'session-token']
  })
})

beforeEach(() => {
  simulator.options.role = undefined
  simulator.options.keyScope = undefined
})

afterAll(async () => {
  await simulator.close()
})

describe('authentication', () => {
  it.each([
    ['no header', null],
    ['an unknown key', 'Bearer sk-other'],
    ['a raw API key', 'sk-primary'],
    ['an empty bearer', 'Bearer ']
  ])('rejects %s with an empty 401', async (_case, authorization) => {
    const result = await call(simulator, PROGRESS_PATH, { authorization })

    expect(result.status).toBe(401)
    expect(result.text).toBe('')
  })

  it.each([
    ['a bearer API key', 'Bearer sk-primary'],
    ['a bearer token', 'Bearer session-token'],
    ['a raw token', 'session-token']
  ])('accepts %s', async (_case, authorization) => {
    const result = await call(simulator, PROGRESS_PATH, { authorization })

    expect(result.status).toBe(200)
  })

  it('challenges Basic credentials', async () => {
    const result = await call(simulator, PROGRESS_PATH, {
      authorization: 'Basic dXNlcjpwYXNz'
    })

    expect(result.status).toBe(401)
    expect(result.headers.get('www-authenticate')).toBe('Basic')
  })

  it('uses the first key as apiKey', () => {
    expect(simulator.apiKey).toBe('sk-primary')
  })
})

describe('key scope', () => {
  it.each([PROGRESS_PATH, HISTORY_PATH])(
    'files scope gets an empty 403 on %s',
    async path => {
      simulator.options.keyScope = 'files'

      const result = await call(simulator, path)

      expect(result.status).toBe(403)
      expect(result.text).toBe('')
    }
  )

  it('read scope may GET', async () => {
    simulator.options.keyScope = 'read'

    const result = await call(simulator, PROGRESS_PATH)

    expect(result.status).toBe(200)
  })

  it.each([START_PATH, CANCEL_PATH])(
    'read scope gets an empty 403 on %s',
    async path => {
      simulator.options.keyScope = 'read'

      const result = await call(simulator, path, { body: { storageType: 4 } })

      expect(result.status).toBe(403)
      expect(result.text).toBe('')
    }
  )

  it('does not limit session tokens', async () => {
    simulator.options.keyScope = 'files'

    const result = await call(simulator, PROGRESS_PATH, {
      authorization: 'Bearer session-token'
    })

    expect(result.status).toBe(200)
  })
})

describe('role', () => {
  it.each([PROGRESS_PATH, HISTORY_PATH, START_PATH, CANCEL_PATH])(
    'user gets Access denied on %s',
    async path => {
      simulator.options.role = 'user'
      const isGet = path === PROGRESS_PATH || path === HISTORY_PATH
      const body = isGet ? undefined : { storageType: 4 }

      const result = await call(simulator, path, { body })

      expect(result.status).toBe(403)
      expect(errorMessageOf(result)).toBe('Access denied')
      expect(result.json?.statusCode).toBe(403)
    }
  )

  it('admin may start a backup', async () => {
    simulator.options.role = 'admin'

    const result = await call(simulator, START_PATH, {
      body: { storageType: 4 }
    })

    expect(result.status).toBe(200)
    simulator.expireJob()
  })
})

describe('routing', () => {
  it('serves under a path prefix', async () => {
    const result = await call(simulator, `/docspace${PROGRESS_PATH}`)

    expect(result.status).toBe(200)
    expect(simulator.requests.at(-1)?.endpoint).toBe('getbackupprogress')
  })

  it('ignores case and a trailing slash', async () => {
    const result = await call(simulator, '/api/2.0/Backup/GetBackupProgress/')

    expect(result.status).toBe(200)
  })

  it.each([
    '/api/2.0/backup/unknown',
    '/api/2.0/files/@my',
    '/',
    '/api/2.0/backup/deletebackuphistory'
  ])('answers %s with an empty 404', async path => {
    const result = await call(simulator, path)

    expect(result.status).toBe(404)
    expect(result.text).toBe('')
  })

  it('rejects the wrong method with 405', async () => {
    const result = await call(simulator, START_PATH)

    expect(result.status).toBe(405)
    expect(result.headers.get('allow')).toBe('POST')
  })

  it('serves the version anonymously', async () => {
    const result = await call(simulator, '/api/2.0/settings/version/build', {
      authorization: null
    })

    expect(result.status).toBe(200)
    expect(result.json?.response).toMatchObject({ docSpace: '3.7.2' })
  })

  it('reports the free-backup service as off', async () => {
    const result = await call(simulator, '/api/2.0/backup/getservicestate')

    expect(result.json?.response).toEqual({ enabled: false })
  })

  it('counts no backups at first', async () => {
    const result = await call(simulator, '/api/2.0/backup/getbackupscount')

    expect(result.json?.response).toBe(0)
  })
})
