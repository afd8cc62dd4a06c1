import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  STACK_TRACE_MARKER,
  startSimulator,
  type Simulator
} from '../../simulator/server.js'
import {
  call,
  errorMessageOf,
  responseOf,
  START_PATH,
  startBackup
} from './helpers.js'

let simulator: Simulator

beforeEach(async () => {
  simulator = await startSimulator()
})

afterEach(async () => {
  await simulator.close()
})

const folder = (value: unknown) => [{ key: 'folderId', value }]

describe('startbackup storageType', () => {
  it.each([
    ['integer', 4, 4],
    ['numeric string', '4', 4],
    ['member name', 'DataStore', 4],
    ['lower-case name', 'datastore', 4],
    ['typo name', 'ThridpartyDocuments', 1],
    ['ThirdPartyConsumer', 'THIRDPARTYCONSUMER', 5],
    ['null', null, 0]
  ])('accepts %s', async (_case, storageType, expected) => {
    const folderIds: Record<number, string> = { 0: '12', 1: 'sbox-1' }
    const folderId = folderIds[expected]
    const storageParams = folderId === undefined ? [] : folder(folderId)

    const result = await startBackup(simulator, { storageType, storageParams })

    expect(result.status).toBe(200)
    expect(simulator.jobs()[0]?.storageType).toBe(expected)
  })

  it.each([
    ['correct spelling', 'ThirdPartyDocuments'],
    ['description text', 'Data store'],
    ['fraction', 4.5],
    ['boolean', true],
    ['empty string', '']
  ])('rejects %s with a validation envelope', async (_case, storageType) => {
    const result = await startBackup(simulator, { storageType })
    const problem = responseOf(result)

    expect(result.status).toBe(400)
    expect(result.json?.status).toBe(1)
    expect(result.json?.statusCode).toBe(400)
    expect(result.json).not.toHaveProperty('error')
    expect(problem.status).toBe(400)
    expect(problem.title).toBe('One or more validation errors occurred.')
    expect(problem.traceId).toEqual(expect.any(String))
    expect(problem.errors).toHaveProperty(['$.storageType'])
    expect(simulator.startedCount()).toBe(0)
  })
})

describe('startbackup body', () => {
  it('rejects an empty body', async () => {
    const result = await call(simulator, START_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' }
    })

    expect(result.status).toBe(400)
    expect(responseOf(result).errors).toEqual({
      '': ['A non-empty request body is required.']
    })
  })

  it('rejects malformed JSON', async () => {
    const result = await startBackup(simulator, '{"storageType": 4,')

    expect(result.status).toBe(400)
    expect(responseOf(result).errors).toHaveProperty(['$'])
  })

  it('rejects a non-boolean dump', async () => {
    const result = await startBackup(simulator, { storageType: 4, dump: 'yes' })

    expect(result.status).toBe(400)
    expect(responseOf(result).errors).toHaveProperty(['$.dump'])
  })

  it('rejects storageParams that is not a list', async () => {
    const result = await startBackup(simulator, {
      storageType: 4,
      storageParams: { folderId: 1 }
    })

    expect(result.status).toBe(400)
    expect(responseOf(result).errors).toHaveProperty(['$.storageParams'])
  })

  it('matches property names ignoring case', async () => {
    const result = await startBackup(simulator, {
      StorageType: 0,
      StorageParams: [{ Key: 'folderId', Value: 5 }]
    })

    expect(result.status).toBe(200)
    expect(simulator.jobs()[0]?.storageParams).toEqual({ folderId: '5' })
  })

  it('defaults an empty object to Documents', async () => {
    const result = await startBackup(simulator, {})

    expect(result.status).toBe(400)
    expect(errorMessageOf(result)).toBe('wrong folder type')
  })
})

describe('startbackup checks', () => {
  it.each([
    [
      'Documents without folderId',
      { storageType: 0, storageParams: [] },
      400,
      'wrong folder type'
    ],
    [
      'Documents with a text folderId',
      { storageType: 0, storageParams: folder('abc') },
      400,
      'wrong folder type'
    ],
    [
      'Documents with a folderId past 32 bits',
      { storageType: 0, storageParams: folder('4294967296') },
      400,
      'wrong folder type'
    ],
    [
      'ThridpartyDocuments with an integer folderId',
      { storageType: 1, storageParams: folder('123') },
      400,
      'wrong folder type'
    ],
    [
      'ThridpartyDocuments without folderId',
      { storageType: 1, storageParams: [] },
      500,
      "The given key 'folderId' was not present in the dictionary."
    ],
    [
      'Local without filePath',
      { storageType: 3, storageParams: [] },
      500,
      "The given key 'filePath' was not present in the dictionary."
    ],
    [
      'a repeated key',
      {
        storageType: 4,
        storageParams: [
          { key: 'a', value: '1' },
          { key: 'a', value: '2' }
        ]
      },
      400,
      'An item with the same key has already been added. Key: a'
    ],
    [
      'a null value',
      { storageType: 4, storageParams: [{ key: 'a', value: null }] },
      500,
      'Object reference not set to an instance of an object.'
    ],
    [
      'a missing key',
      { storageType: 4, storageParams: [{ value: 'x' }] },
      500,
      'Object reference not set to an instance of an object.'
    ]
  ])('rejects %s', async (_case, body, status, message) => {
    const result = await startBackup(simulator, body)

    expect(result.status).toBe(status)
    expect(errorMessageOf(result)).toBe(message)
    expect(result.json?.status).toBe(1)
    expect(result.json?.statusCode).toBe(status)
    expect(simulator.startedCount()).toBe(0)
  })

  it('fills the error envelope like .NET', async () => {
    const result = await startBackup(simulator, { storageType: 0 })
    const error = result.json?.error as Record<string, unknown>

    expect(error.type).toBe('System.ArgumentException')
    expect(error.hresult).toBe(-2147024809)
    expect(error.stack).toContain(STACK_TRACE_MARKER)
  })

  it('rejects dump on SaaS with 403', async () => {
    simulator.options.hosting = 'saas'

    const result = await startBackup(simulator, { storageType: 4, dump: true })

    expect(result.status).toBe(403)
    expect(errorMessageOf(result)).toBe('Access denied')
  })

  it('rejects Local on SaaS with 500', async () => {
    simulator.options.hosting = 'saas'

    const result = await startBackup(simulator, {
      storageType: 3,
      storageParams: [{ key: 'filePath', value: '/backup' }]
    })

    expect(result.status).toBe(500)
    expect(errorMessageOf(result)).toBe('Access denied')
    expect((result.json?.error as Record<string, unknown>).type).toBe(
      'System.Exception'
    )
  })

  it('reports an unknown folder as 404', async () => {
    simulator.options.folderErrors = { '99': 'not-found' }

    const result = await startBackup(simulator, {
      storageType: 0,
      storageParams: folder(99)
    })

    expect(result.status).toBe(404)
    expect(errorMessageOf(result)).toBe('The required folder was not found')
  })

  it('reports a read-only folder as 403', async () => {
    simulator.options.folderErrors = { 'sbox-1': 'access-denied' }

    const result = await startBackup(simulator, {
      storageType: 1,
      storageParams: folder('sbox-1')
    })

    expect(result.status).toBe(403)
    expect(errorMessageOf(result)).toBe('Access denied')
  })

  it('accepts ThirdPartyConsumer parameters', async () => {
    const result = await startBackup(simulator, {
      storageType: 5,
      storageParams: [
        { key: 'module', value: 's3' },
        { key: 'bucket', value: 'b' },
        { key: 'region', value: 'eu-central-1' }
      ]
    })

    expect(result.status).toBe(200)
    expect(simulator.jobs()[0]?.storageParams).toEqual({
      module: 's3',
      bucket: 'b',
      region: 'eu-central-1'
    })
  })
})
