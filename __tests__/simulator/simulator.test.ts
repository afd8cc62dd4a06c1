import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions
} from '../../simulator/server.js'
import {
  call,
  CANCEL_PATH,
  getProgress,
  HISTORY_PATH,
  ManualClock,
  PROGRESS_PATH,
  responseOf,
  startBackup
} from './helpers.js'

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let simulator: Simulator
let clock: ManualClock

async function restart(options: SimulatorOptions = {}): Promise<void> {
  await simulator.close()
  simulator = await startSimulator({ clock: clock.now, ...options })
}

beforeEach(async () => {
  clock = new ManualClock()
  simulator = await startSimulator({ clock: clock.now })
})

afterEach(async () => {
  await simulator.close()
})

describe('envelope', () => {
  it('omits response when there is no job', async () => {
    const result = await getProgress(simulator)

    expect(result.status).toBe(200)
    expect(result.json).toEqual({
      count: 0,
      links: [
        { href: `${simulator.url}${PROGRESS_PATH}?dump=false`, action: 'GET' }
      ],
      status: 0,
      statusCode: 200
    })
  })

  it('wraps a progress object with count 1', async () => {
    const result = await startBackup(simulator)

    expect(result.json?.count).toBe(1)
    expect(result.json?.status).toBe(0)
    expect(result.json?.statusCode).toBe(200)
    expect(result.json?.links).toEqual([
      { href: `${simulator.url}/api/2.0/backup/startbackup`, action: 'POST' }
    ])
  })
})

describe('startbackup', () => {
  it('returns a Created job', async () => {
    const result = await startBackup(simulator)
    const progress = responseOf(result)

    expect(result.status).toBe(200)
    expect(progress).toEqual({
      isCompleted: false,
      progress: 0,
      error: '',
      link: '',
      tenantId: 1,
      backupProgressEnum: 0,
      status: 0,
      taskId: expect.stringMatching(GUID)
    })
    expect(simulator.startedCount()).toBe(1)
  })

  it('returns the unfinished job again', async () => {
    const first = responseOf(await startBackup(simulator))
    clock.advance(500)

    const second = responseOf(
      await startBackup(simulator, {
        storageType: 0,
        storageParams: [{ key: 'folderId', value: '7' }]
      })
    )

    expect(second.taskId).toBe(first.taskId)
    expect(second.status).toBe(1)
    expect(simulator.startedCount()).toBe(1)
    expect(simulator.jobs()[0]?.storageType).toBe(4)
  })

  it('replaces a completed job', async () => {
    const first = responseOf(await startBackup(simulator))
    clock.advance(1700)

    const second = responseOf(await startBackup(simulator))

    expect(second.taskId).not.toBe(first.taskId)
    expect(second.status).toBe(0)
    expect(simulator.startedCount()).toBe(2)
  })

  it('returns a crashed job instead of starting', async () => {
    await restart({ outcome: 'crash' })
    const first = responseOf(await startBackup(simulator))
    clock.advance(5000)

    const second = responseOf(await startBackup(simulator))

    expect(second.taskId).toBe(first.taskId)
    expect(second.status).toBe(4)
    expect(simulator.startedCount()).toBe(1)
  })

  it('creates one job for concurrent starts', async () => {
    const results = await Promise.all([
      startBackup(simulator),
      startBackup(simulator),
      startBackup(simulator)
    ])
    const taskIds = new Set(results.map(result => responseOf(result).taskId))

    expect(taskIds.size).toBe(1)
    expect(simulator.startedCount()).toBe(1)
  })

  it('keeps the dump job in its own slot', async () => {
    const portal = responseOf(await startBackup(simulator))
    const dump = responseOf(
      await startBackup(simulator, { storageType: 4, dump: true })
    )

    expect(dump.taskId).not.toBe(portal.taskId)
    expect(responseOf(await getProgress(simulator, true)).taskId).toBe(
      dump.taskId
    )
    expect(responseOf(await getProgress(simulator, false)).taskId).toBe(
      portal.taskId
    )
    expect(simulator.jobs()).toHaveLength(2)
  })

  it('rejects once free backups are used up', async () => {
    await restart({ freeBackups: 1 })
    await startBackup(simulator)
    clock.advance(1700)

    const result = await startBackup(simulator)

    expect(result.status).toBe(402)
    expect(result.json?.error).toMatchObject({
      message: 'The number of free backups should not exceed 1 within a month'
    })
    expect(simulator.startedCount()).toBe(1)
  })

  it('returns the running job within the quota', async () => {
    await restart({ freeBackups: 1 })
    const first = responseOf(await startBackup(simulator))

    const second = await startBackup(simulator)

    expect(second.status).toBe(200)
    expect(responseOf(second).taskId).toBe(first.taskId)
  })
})

describe('job lifecycle', () => {
  async function progressAt(offsetMs: number) {
    clock.time = start + offsetMs
    return responseOf(await getProgress(simulator))
  }

  let start: number

  beforeEach(async () => {
    start = clock.time
    await startBackup(simulator)
  })

  it('stays Created while queued', async () => {
    const progress = await progressAt(199)

    expect(progress.status).toBe(0)
    expect(progress.progress).toBe(0)
  })

  it('runs after the queue time', async () => {
    const progress = await progressAt(200)

    expect(progress.status).toBe(1)
    expect(progress.progress).toBe(0)
    expect(progress.isCompleted).toBe(false)
  })

  it('rises to 90 while writing', async () => {
    expect((await progressAt(200 + 525)).progress).toBe(45)
    expect((await progressAt(200 + 1050)).progress).toBe(90)
    expect((await progressAt(200 + 1300)).progress).toBe(90)
  })

  it('shows 100 before completing', async () => {
    const progress = await progressAt(200 + 1400)

    expect(progress.progress).toBe(100)
    expect(progress.isCompleted).toBe(false)
    expect(progress.status).toBe(1)
    expect(progress.link).toBe('')
  })

  it('completes with a relative link', async () => {
    const progress = await progressAt(200 + 1500)

    expect(progress.isCompleted).toBe(true)
    expect(progress.status).toBe(2)
    expect(progress.progress).toBe(100)
    expect(progress.error).toBe('')
    expect(progress).not.toHaveProperty('warning')
    expect(progress.link).toMatch(
      /^\/studio\/1\/backup\/simulator_2026-12-04_10-00-00\.tar\.gz\?signature=[0-9a-f]{64}$/
    )
  })

  it('records the completion time', async () => {
    const progress = await progressAt(200 + 1499)
    expect(simulator.completedAt(progress.taskId as string)).toBeUndefined()

    await progressAt(5000)
    expect(simulator.completedAt(progress.taskId as string)).toBe(start + 1700)
  })

  it('stays visible after completion', async () => {
    const progress = await progressAt(60 * 60 * 1000)

    expect(progress.isCompleted).toBe(true)
  })
})

describe('job outcomes', () => {
  async function finalProgress(
    options: SimulatorOptions,
    body?: unknown
  ): Promise<Record<string, unknown>> {
    await restart(options)
    await startBackup(simulator, body)
    clock.advance(10_000)

    return responseOf(await getProgress(simulator))
  }

  it('ends an error as Completed with the message', async () => {
    const progress = await finalProgress({ outcome: 'error' })

    expect(progress.isCompleted).toBe(true)
    expect(progress.status).toBe(2)
    expect(progress.error).toBe('Directory not found.')
    expect(progress.progress).toBe(90)
    expect(progress.link).toBe('')
  })

  it('uses a custom error message', async () => {
    const progress = await finalProgress({
      outcome: 'error',
      errorMessage: 'Disk full'
    })

    expect(progress.error).toBe('Disk full')
  })

  it('ends a crash as Failted and not completed', async () => {
    const progress = await finalProgress({ outcome: 'crash' })

    expect(progress.isCompleted).toBe(false)
    expect(progress.status).toBe(4)
    expect(progress.error).toMatch(/^One or more errors occurred\. \(.+\)$/)
  })

  it('adds a warning to a success', async () => {
    const progress = await finalProgress({ outcome: 'warning' })

    expect(progress.isCompleted).toBe(true)
    expect(progress.error).toBe('')
    expect(progress.warning).toMatch(
      /^Some files were not included in the backup\. For more details, please check .+/
    )
    expect(progress.link).not.toBe('')
  })

  it('keeps a stuck job Created', async () => {
    const progress = await finalProgress({ outcome: 'stuck' })

    expect(progress.status).toBe(0)
    expect(progress.progress).toBe(0)
    expect(progress.isCompleted).toBe(false)
  })

  it('fails CustomCloud with unknown storage', async () => {
    const progress = await finalProgress({}, { storageType: 2 })

    expect(progress.isCompleted).toBe(true)
    expect(progress.error).toBe('Unknown storage type.')
  })

  it('fails an out-of-range storage type', async () => {
    const progress = await finalProgress({}, { storageType: 9 })

    expect(progress.error).toBe('Unknown storage type.')
  })

  it('has no link for Documents', async () => {
    const progress = await finalProgress(
      {},
      { storageType: 0, storageParams: [{ key: 'folderId', value: 12 }] }
    )

    expect(progress.isCompleted).toBe(true)
    expect(progress.link).toBe('')
  })

  it('gives an absolute DataStore link', async () => {
    const progress = await finalProgress({ linkStyle: 'absolute' })

    expect(progress.link).toMatch(
      new RegExp(`^${simulator.url}/studio/1/backup/.+\\?signature=`)
    )
  })

  it('gives an S3-style ThirdPartyConsumer link', async () => {
    const progress = await finalProgress(
      {},
      {
        storageType: 5,
        storageParams: [
          { key: 'module', value: 's3' },
          { key: 'bucket', value: 'backups' }
        ]
      }
    )

    expect(progress.link).toMatch(
      new RegExp(`^${simulator.url}/s3/backups/backup/.+X-Amz-Signature=`)
    )
  })

  it('omits status on 3.6.1', async () => {
    const progress = await finalProgress({ version: '3.6.1' })

    expect(progress).not.toHaveProperty('status')
    expect(progress.isCompleted).toBe(true)
  })
})

describe('cancelbackup', () => {
  it('shows a cancelled job as status 3', async () => {
    await startBackup(simulator)
    clock.advance(500)

    const cancel = await call(simulator, CANCEL_PATH, { method: 'POST' })
    clock.advance(10_000)
    const progress = responseOf(await getProgress(simulator))

    expect(cancel.json?.response).toBe(true)
    expect(progress.isCompleted).toBe(true)
    expect(progress.status).toBe(3)
    expect(progress.warning).toBe('Backup cancelled')
    expect(progress.error).toBe('')
  })

  it('removes the job when set to gone', async () => {
    await restart({ cancelResult: 'gone' })
    await startBackup(simulator)

    await call(simulator, CANCEL_PATH, { method: 'POST' })
    const progress = await getProgress(simulator)

    expect(progress.json).not.toHaveProperty('response')
    expect(progress.json?.count).toBe(0)
  })

  it('returns false without a job', async () => {
    const cancel = await call(simulator, CANCEL_PATH, { method: 'POST' })

    expect(cancel.status).toBe(200)
    expect(cancel.json?.response).toBe(false)
  })

  it('leaves a completed job alone', async () => {
    await startBackup(simulator)
    clock.advance(1700)

    const cancel = await call(simulator, CANCEL_PATH, { method: 'POST' })
    const progress = responseOf(await getProgress(simulator))

    expect(cancel.json?.response).toBe(false)
    expect(progress.status).toBe(2)
  })

  it('does not exist on 3.6.1', async () => {
    await restart({ version: '3.6.1' })

    const cancel = await call(simulator, CANCEL_PATH, { method: 'POST' })

    expect(cancel.status).toBe(404)
    expect(cancel.text).toBe('')
  })

  it('lets a cancelled job be replaced', async () => {
    const first = responseOf(await startBackup(simulator))
    await call(simulator, CANCEL_PATH, { method: 'POST' })

    const second = responseOf(await startBackup(simulator))

    expect(second.taskId).not.toBe(first.taskId)
  })
})

describe('getbackuphistory', () => {
  it('lists a DataStore backup', async () => {
    const started = responseOf(await startBackup(simulator))
    clock.advance(1700)

    const history = await call(simulator, `${HISTORY_PATH}?dump=false`)

    expect(history.json?.count).toBe(1)
    expect(history.json?.response).toEqual([
      {
        id: started.taskId,
        fileName: 'simulator_2026-12-04_10-00-00.tar.gz',
        storageType: 4,
        createdOn: '2026-12-04T10:00:01',
        expiresOn: '2026-12-05T10:00:01'
      }
    ])
  })

  it('gives other storage no expiry', async () => {
    await startBackup(simulator, {
      storageType: 3,
      storageParams: [{ key: 'filePath', value: '/var/backups' }]
    })
    clock.advance(1700)

    const history = await call(simulator, HISTORY_PATH)
    const [record] = history.json?.response as Array<Record<string, unknown>>

    expect(record?.expiresOn).toBe('0001-01-01T00:00:00')
    expect(record?.storageType).toBe(3)
  })

  it('names dump archives workspace', async () => {
    await startBackup(simulator, { storageType: 4, dump: true })
    clock.advance(1700)

    const dump = await call(simulator, `${HISTORY_PATH}?dump=true`)
    const portal = await call(simulator, `${HISTORY_PATH}?dump=false`)
    const [record] = dump.json?.response as Array<Record<string, unknown>>

    expect(record?.fileName).toMatch(/^workspace_.+\.tar\.gz$/)
    expect(portal.json?.response).toEqual([])
  })

  it('skips failed backups', async () => {
    await restart({ outcome: 'error' })
    await startBackup(simulator)
    clock.advance(1700)

    const history = await call(simulator, HISTORY_PATH)

    expect(history.json?.response).toEqual([])
  })
})

describe('getbackupprogress', () => {
  it('rejects an invalid dump value', async () => {
    const result = await call(simulator, `${PROGRESS_PATH}?dump=yes`)

    expect(result.status).toBe(400)
    expect(responseOf(result).errors).toEqual({
      dump: ["The value 'yes' is not valid."]
    })
  })
})

describe('test controls', () => {
  it('startExternalJob blocks startbackup', async () => {
    const external = simulator.startExternalJob({ storageType: 0 })

    const started = responseOf(await startBackup(simulator))

    expect(started.taskId).toBe(external)
    expect(simulator.startedCount()).toBe(0)
    expect(simulator.jobs()[0]?.source).toBe('external')
  })

  it('cancelFromPortal cancels the job', async () => {
    await startBackup(simulator)

    simulator.cancelFromPortal()
    const progress = responseOf(await getProgress(simulator))

    expect(progress.status).toBe(3)
  })

  it('expireJob removes the job', async () => {
    await startBackup(simulator)

    simulator.expireJob()
    const progress = await getProgress(simulator)

    expect(progress.json).not.toHaveProperty('response')
    expect(simulator.jobs()).toEqual([])
  })

  it('options change between requests', async () => {
    simulator.options.role = 'user'
    const denied = await getProgress(simulator)
    simulator.options.role = undefined
    const allowed = await getProgress(simulator)

    expect(denied.status).toBe(403)
    expect(allowed.status).toBe(200)
  })

  it('jobs reports the current progress', async () => {
    await startBackup(simulator)
    clock.advance(1700)

    const [job] = simulator.jobs()

    expect(job?.progress.isCompleted).toBe(true)
    expect(job?.source).toBe('startbackup')
    expect(job?.createdAt).toBe(clock.time - 1700)
  })
})

describe('recording', () => {
  it('records requests without credentials', async () => {
    await startBackup(simulator)

    const [request] = simulator.requests

    expect(request).toEqual({
      method: 'POST',
      path: '/api/2.0/backup/startbackup',
      query: {},
      hasAuthorization: true,
      body: { storageType: 4, storageParams: [], dump: false },
      status: 200,
      at: clock.time,
      endpoint: 'startbackup',
      contentType: 'application/json'
    })
    expect(JSON.stringify(simulator.requests)).not.toContain(simulator.apiKey)
  })
})
