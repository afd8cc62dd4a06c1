import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  startSimulator as startUnmanagedSimulator,
  StorageType,
  type Simulator
} from '../../simulator/server.js'
import {
  commandMessages,
  FAST_JOB,
  currentTaskId,
  endpointsOf,
  logWithoutMasks,
  readHistory,
  requestsTo,
  runStep,
  startRequest,
  useSimulators
} from './helpers.js'

const startSimulator = useSimulators()

describe('happy path', () => {
  // One DataStore backup, checked from several sides.
  let simulator: Simulator
  let run: ActionRun
  let serverLink: string

  beforeAll(async () => {
    simulator = await startUnmanagedSimulator(FAST_JOB)
    run = await runStep(simulator, { 'storage-type': 'DataStore' })
    serverLink = simulator.jobs()[0]!.progress.link
  })

  afterAll(async () => {
    await simulator.close()
  })

  it('sets the outputs of the job', async () => {
    const job = simulator.jobs()[0]!

    expect(run.exitCode).toBe(0)
    expect(simulator.startedCount()).toBe(1)
    expect(run.outputs['task-id']).toBe(job.taskId)
    expect(run.outputs.status).toBe('completed')
    expect(run.outputs.progress).toBe('100')
    expect(run.outputs['is-completed']).toBe('true')
    expect(run.outputs.error).toBe('')
    expect(run.outputs.warning).toBe('')
  })

  it('sets file-name and expires-on from history', async () => {
    const records = await readHistory(simulator)
    const record = records.find(entry => entry.id === run.outputs['task-id'])

    expect(record).toBeDefined()
    expect(run.outputs['file-name']).toBe(record!.fileName)
    // History times are UTC without an offset.
    expect(run.outputs['expires-on']).toBe(
      new Date(`${record!.expiresOn}Z`).toISOString()
    )
  })

  it('resolves the relative link against portal-url', () => {
    expect(serverLink).toMatch(/^\/studio\//)
    expect(run.outputs.link).toBe(
      `${new URL(simulator.url).origin}${serverLink}`
    )
  })

  it('writes the summary without secrets', () => {
    expect(run.summary).toContain(new URL(simulator.url).host)
    expect(run.summary).toContain('DataStore')
    expect(run.summary).toContain('completed')
    expect(run.summary).toContain(run.outputs['file-name'])
    expect(run.summary).not.toContain(run.outputs.link)
    expect(run.summary).not.toContain(serverLink)
    expect(run.summary).not.toContain(simulator.apiKey)
  })

  it('keeps secrets out of the log', () => {
    const log = logWithoutMasks(run.stdout)
    const masks = commandMessages(run.stdout, 'add-mask')

    expect(log).not.toContain(simulator.apiKey)
    expect(log).not.toContain(`Bearer ${simulator.apiKey}`)
    expect(log).not.toContain(run.outputs.link)
    expect(log).not.toContain(serverLink)
    expect(run.stderr).not.toContain(simulator.apiKey)
    expect(masks).toContain(simulator.apiKey)
    expect(masks).toContain(`Bearer ${simulator.apiKey}`)
    expect(masks).toContain(run.outputs.link)
  })

  it('sends the key as Bearer on every request', () => {
    expect(endpointsOf(simulator).slice(0, 2)).toEqual([
      'getbackupprogress',
      'startbackup'
    ])
    for (const request of simulator.requests) {
      expect(request.hasAuthorization).toBe(true)
      // The simulator rejects an sk- key with 401 unless it comes as
      // `Bearer <key>`.
      expect(request.status).toBe(200)
    }
  })
})

describe('portal-url', () => {
  // NOTE: the link is not checked here. Whether a relative archive link of a
  // portal under a sub-path needs that sub-path is not known.
  it.each([
    ['trailing slash', '/', ''],
    ['sub-path', '/docspace', '/docspace'],
    ['sub-path with trailing slash', '/docspace/', '/docspace'],
    ['trailing /api/2.0', '/api/2.0', ''],
    ['trailing /api/2.0/', '/api/2.0/', '']
  ])('accepts %s', async (_case, suffix, prefix) => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, {
      'portal-url': `${simulator.url}${suffix}`
    })

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    for (const request of simulator.requests) {
      expect(request.path).toMatch(new RegExp(`^${prefix}/api/2\\.0/backup/`))
    }
  })
})

describe('api-key', () => {
  it('adds Bearer to a raw sk- key', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, {
      'api-key': simulator.apiKey,
      wait: 'false'
    })

    expect(simulator.apiKey).toMatch(/^sk-/)
    expect(run.exitCode).toBe(0)
    expect(startRequest(simulator).status).toBe(200)
  })

  it('sends a Bearer value as it is', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, {
      'api-key': `Bearer ${simulator.apiKey}`,
      wait: 'false'
    })

    // `Bearer Bearer sk-…` would get 401 from the simulator.
    expect(run.exitCode).toBe(0)
    expect(startRequest(simulator).status).toBe(200)
    expect(logWithoutMasks(run.stdout)).not.toContain(simulator.apiKey)
  })

  it('fails on a rejected key without retrying', async () => {
    const simulator = await startSimulator({ apiKeys: ['sk-other-key'] })

    const run = await runStep(simulator, { 'api-key': 'sk-wrong-key' })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.error).toContain('401')
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(0)
    expect(logWithoutMasks(run.stdout)).not.toContain('sk-wrong-key')
  })
})

describe('storage types', () => {
  it.each([
    {
      name: 'Documents',
      input: 'folderId=123',
      storageType: StorageType.Documents,
      pairs: [['folderId', '123']]
    },
    {
      name: 'ThirdPartyDocuments',
      input: 'folderId=sbox-1-abc',
      storageType: StorageType.ThridpartyDocuments,
      pairs: [['folderId', 'sbox-1-abc']]
    },
    {
      name: 'Local',
      input: 'filePath=/var/backups',
      storageType: StorageType.Local,
      pairs: [['filePath', '/var/backups']]
    },
    {
      name: 'ThirdPartyConsumer',
      input: 'module=s3\nbucket=backups\nregion=eu-central-1',
      storageType: StorageType.ThirdPartyConsumer,
      pairs: [
        ['module', 's3'],
        ['bucket', 'backups'],
        ['region', 'eu-central-1']
      ]
    },
    {
      name: 'ThirdPartyConsumer',
      input: '{"region": "eu-central-1", "module": "s3", "bucket": "backups"}',
      storageType: StorageType.ThirdPartyConsumer,
      pairs: [
        ['region', 'eu-central-1'],
        ['module', 's3'],
        ['bucket', 'backups']
      ]
    }
  ])(
    'sends $name params in order',
    async ({ name, input, storageType, pairs }) => {
      const simulator = await startSimulator({ hosting: 'standalone' })

      const run = await runStep(simulator, {
        'storage-type': name,
        'storage-params': input
      })

      expect(run.exitCode).toBe(0)
      expect(run.outputs.status).toBe('completed')
      expect(startRequest(simulator).body).toEqual({
        storageType,
        storageParams: pairs.map(([key, value]) => ({ key, value })),
        dump: false
      })
    }
  )

  it('rejects Local on SaaS with a hint', async () => {
    const simulator = await startSimulator({ hosting: 'saas' })

    const run = await runStep(simulator, {
      'storage-type': 'Local',
      'storage-params': 'filePath=/var/backups'
    })
    const [error] = commandMessages(run.stdout, 'error')

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(error).toMatch(/Local works only on self-hosted DocSpace/)
    expect(run.outputs.error).toMatch(/Local works only on self-hosted/)
    expect(simulator.startedCount()).toBe(0)
  })

  it('rejects dump on SaaS with a hint', async () => {
    const simulator = await startSimulator({ hosting: 'saas' })

    const run = await runStep(simulator, { dump: 'true' })
    const [error] = commandMessages(run.stdout, 'error')

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(error).toMatch(/dump: true is not available/)
    expect(startRequest(simulator).body).toMatchObject({ dump: true })
  })
})

describe('wait: false', () => {
  it('ends after the start', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, { wait: 'false' })

    expect(run.exitCode).toBe(0)
    expect(['queued', 'running']).toContain(run.outputs.status)
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(run.outputs['is-completed']).toBe('false')
    expect(run.outputs.error).toBe('')
    expect(endpointsOf(simulator)).toEqual(['getbackupprogress', 'startbackup'])
  })
})
