import { describe, expect, it, jest } from '@jest/globals'
import {
  parseExpiry,
  runBackup,
  type BackupDependencies
} from '../src/backup.js'
import type {
  BackupHistoryRecord,
  BackupProgress
} from '../src/docspace/schemas.js'
import type { ActionInputs } from '../src/inputs.js'
import { emptyReport, type BackupReport } from '../src/report.js'
import { DocSpaceHttpError } from '../src/docspace/errors.js'
import { ActionFailure } from '../src/start.js'
import { StorageType } from '../src/storage.js'
import { createFakeClock } from './helpers/clock.js'
import {
  createScriptedClient,
  type ScriptedClientOptions
} from './helpers/client.js'
import { createRecordingLog } from './helpers/log.js'
import {
  completed,
  failed,
  OTHER_TASK_ID,
  progress,
  running,
  TASK_ID
} from './helpers/progress.js'

const PORTAL = new URL('https://portal.example.test/')

const INPUTS: ActionInputs = {
  portalUrl: PORTAL,
  apiKey: 'sk-test-key',
  storageType: StorageType.DataStore,
  storageParams: [],
  dump: false,
  wait: true,
  timeoutSeconds: 60,
  pollIntervalSeconds: 5,
  ifRunning: 'queue',
  cancelIfUnfinished: false,
  downloadPath: ''
}

const HISTORY: BackupHistoryRecord[] = [
  {
    id: OTHER_TASK_ID,
    fileName: 'older.tar.gz',
    createdOn: '2026-02-28T02:15:00',
    expiresOn: '2026-03-01T02:15:00'
  },
  {
    id: TASK_ID,
    fileName: 'portal_2026-03-01.tar.gz',
    createdOn: '2026-03-01T02:15:00',
    expiresOn: '2026-03-02T02:15:00'
  }
]

interface RunOptions {
  inputs?: Partial<ActionInputs>
  /** Aborts the run's signal before the getBackupProgress call numbered so. */
  abortAtPoll?: number
  /** Aborts the run's signal during the first startBackup call. */
  abortAtStart?: boolean
  cancelBackup?: () => Promise<boolean>
  download?: (
    link: string,
    fileName: string
  ) => Promise<{ path: string; size: number }>
  readProgressAfterAbort?: () => Promise<BackupProgress | undefined>
}

/** Runs runBackup with a scripted client, a fake clock and a fresh report. */
async function run(script: ScriptedClientOptions, options: RunOptions = {}) {
  const controller = new AbortController()
  const client = createScriptedClient({
    ...script,
    onProgress: call => {
      if (call === options.abortAtPoll) {
        controller.abort(new Error('cancelled'))
      }
    },
    onStart: () => {
      if (options.abortAtStart) {
        controller.abort(new Error('cancelled'))
      }
    }
  })
  const clock = createFakeClock()
  const log = createRecordingLog()
  const groups: string[] = []
  const cancelBackup = jest.fn(options.cancelBackup ?? (async () => true))
  const download = jest.fn(
    options.download ??
      (async (_link: string, fileName: string) => ({
        path: `/downloads/${fileName}`,
        size: 1234
      }))
  )
  const readProgressAfterAbort = jest.fn(
    options.readProgressAfterAbort ?? (async () => undefined)
  )
  const deps: BackupDependencies = {
    client,
    cancelBackup,
    readProgressAfterAbort,
    download,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    retryPolicy: {
      maxAttempts: 2,
      baseDelayMs: 100,
      maxDelayMs: 100,
      maxTotalMs: 1000
    },
    log,
    group: async (name, work) => {
      groups.push(name)
      return work()
    },
    signal: controller.signal
  }
  const report = emptyReport()
  const startedAt = clock.now()
  let error: unknown
  try {
    await runBackup({ ...INPUTS, ...options.inputs }, deps, report)
  } catch (thrown) {
    error = thrown
  }

  const elapsedMs = clock.now() - startedAt

  return {
    error,
    report,
    client,
    clock,
    elapsedMs,
    log,
    groups,
    cancelBackup,
    readProgressAfterAbort,
    download
  }
}

/** Returns the ActionFailure of a run, or fails the test. */
function failureOf(result: { error: unknown; report: BackupReport }) {
  expect(result.error).toBeInstanceOf(ActionFailure)
  return (result.error as ActionFailure).message
}

describe('runBackup', () => {
  it('reports a completed backup', async () => {
    const link = 'https://portal.example.test/backup/file?sig=abc'
    const result = await run({
      progress: [undefined, running(50), completed({ link })],
      start: [progress()],
      history: HISTORY
    })

    expect(result.error).toBeUndefined()
    expect(result.report).toMatchObject({
      taskId: TASK_ID,
      status: 'completed',
      progress: 100,
      isCompleted: true,
      origin: 'started',
      link,
      fileName: 'portal_2026-03-01.tar.gz',
      expiresOn: '2026-03-02T02:15:00.000Z'
    })
  })

  it('runs start and wait in log groups', async () => {
    const result = await run({
      progress: [undefined, completed()],
      start: [progress()]
    })

    expect(result.groups).toEqual(['Starting backup', 'Waiting for backup'])
  })

  it('records the duration', async () => {
    const result = await run({
      progress: [undefined, progress(), running(50), completed()],
      start: [progress()]
    })

    expect(result.report.durationSeconds).toBe(10)
  })

  it('leaves expires-on empty for a kept backup', async () => {
    const result = await run({
      progress: [undefined, completed()],
      start: [progress()],
      history: [{ ...HISTORY[1]!, expiresOn: '0001-01-01T00:00:00' }]
    })

    expect(result.report.expiresOn).toBe('')
    expect(result.report.fileName).toBe('portal_2026-03-01.tar.gz')
  })

  it('uses only the history record of the task', async () => {
    const result = await run({
      progress: [undefined, completed()],
      start: [progress()],
      history: [HISTORY[0]!]
    })

    expect(result.error).toBeUndefined()
    expect(result.report.fileName).toBe('')
    expect(result.report.expiresOn).toBe('')
  })

  it('completes when the history fails', async () => {
    const result = await run({
      progress: [undefined, completed()],
      start: [progress()],
      history: new Error('history unavailable')
    })

    expect(result.error).toBeUndefined()
    expect(result.report.status).toBe('completed')
    expect(result.log.warnings).toEqual([
      expect.stringContaining('history unavailable')
    ])
  })

  it('warns about a completed backup with a warning', async () => {
    const warning = 'Some files were not included in the backup.'
    const result = await run({
      progress: [undefined, completed({ warning })],
      start: [progress()]
    })

    expect(result.error).toBeUndefined()
    expect(result.report.warning).toBe(warning)
    expect(result.log.warnings).toEqual([expect.stringContaining(warning)])
  })

  it('resolves a relative link against the portal', async () => {
    const result = await run({
      progress: [
        undefined,
        completed({ link: '/studio/1/backup/a.tar.gz?s=1' })
      ],
      start: [progress()]
    })

    expect(result.report.link).toBe(
      'https://portal.example.test/studio/1/backup/a.tar.gz?s=1'
    )
  })

  it('downloads with download-path', async () => {
    const link = 'https://portal.example.test/backup/file?sig=abc'
    const result = await run(
      {
        progress: [undefined, completed({ link })],
        start: [progress()],
        history: HISTORY
      },
      { inputs: { downloadPath: '/downloads/' } }
    )

    expect(result.error).toBeUndefined()
    expect(result.download).toHaveBeenCalledWith(
      link,
      'portal_2026-03-01.tar.gz'
    )
    expect(result.report.archivePath).toBe(
      '/downloads/portal_2026-03-01.tar.gz'
    )
    expect(result.report.archiveSize).toBe('1234')
    expect(result.report.downloadFailed).toBe(false)
    expect(result.groups).toContain('Downloading backup')
  })

  it('skips the download without download-path', async () => {
    const result = await run({
      progress: [undefined, completed({ link: '/backup/file?sig=abc' })],
      start: [progress()]
    })

    expect(result.download).not.toHaveBeenCalled()
    expect(result.report.archivePath).toBe('')
  })

  it('fails a download without a link', async () => {
    const result = await run(
      { progress: [undefined, completed({ link: '' })], start: [progress()] },
      { inputs: { downloadPath: '/downloads/' } }
    )

    expect(failureOf(result)).toContain('no download link')
    expect(result.download).not.toHaveBeenCalled()
    expect(result.report.status).toBe('completed')
    expect(result.report.downloadFailed).toBe(true)
  })

  it('fails when the download fails', async () => {
    const result = await run(
      {
        progress: [undefined, completed({ link: '/backup/file?sig=abc' })],
        start: [progress()]
      },
      {
        inputs: { downloadPath: '/downloads/' },
        download: async () => {
          throw new Error('Downloading the archive failed with 404.')
        }
      }
    )

    expect(result.error).toBeInstanceOf(Error)
    expect(result.report.status).toBe('completed')
    expect(result.report.archivePath).toBe('')
    expect(result.report.downloadFailed).toBe(true)
  })

  it('fails a failed backup', async () => {
    const result = await run({
      progress: [undefined, running(40), failed('Directory not found.')],
      start: [progress()]
    })

    expect(failureOf(result)).toContain('Directory not found.')
    expect(result.report.status).toBe('failed')
    expect(result.report.error).toBe('Directory not found.')
    expect(result.report.isCompleted).toBe(true)
  })

  it('fails a crashed backup', async () => {
    const crashed = progress({
      status: 4,
      error: 'One or more errors occurred.'
    })
    const result = await run({
      progress: [undefined, crashed],
      start: [progress()]
    })

    expect(failureOf(result)).toContain('One or more errors occurred.')
    expect(result.report.status).toBe('failed')
    expect(result.report.isCompleted).toBe(false)
  })

  it('fails a canceled backup', async () => {
    const canceled = progress({
      status: 3,
      isCompleted: true,
      warning: 'Backup cancelled'
    })
    const result = await run({
      progress: [undefined, running(10), canceled],
      start: [progress()]
    })

    expect(failureOf(result)).toContain('cancelled')
    expect(result.report.status).toBe('canceled')
  })

  it('fails a vanished backup', async () => {
    const result = await run({
      progress: [undefined, running(10), undefined],
      start: [progress()]
    })

    expect(failureOf(result)).toContain('no longer on the portal')
    expect(result.report.status).toBe('failed')
    expect(result.report.error).toContain(TASK_ID)
    expect(result.report.progress).toBe(10)
  })

  it('fails a replaced backup', async () => {
    const result = await run({
      progress: [undefined, running(10), running(5, { taskId: OTHER_TASK_ID })],
      start: [progress()]
    })

    expect(failureOf(result)).toContain('replaced')
    expect(result.report.status).toBe('failed')
    expect(result.report.taskId).toBe(TASK_ID)
  })

  it('cancels on timeout when asked', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      { inputs: { cancelIfUnfinished: true, timeoutSeconds: 30 } }
    )

    expect(failureOf(result)).toContain('did not finish within timeout')
    expect(result.cancelBackup).toHaveBeenCalledTimes(1)
    expect(result.report.status).toBe('timed-out')
    expect(result.report.error).not.toBe('')
  })

  it('leaves the backup running on timeout', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      { inputs: { timeoutSeconds: 30 } }
    )

    expect(failureOf(result)).toContain('cancel-if-unfinished: true')
    expect(result.cancelBackup).not.toHaveBeenCalled()
    expect(result.report.status).toBe('timed-out')
    expect(result.report.progress).toBe(20)
  })

  it('stops waiting at the timeout', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      { inputs: { timeoutSeconds: 30 } }
    )

    expect(result.elapsedMs).toBe(30_000)
    expect(result.clock.sleeps.every(ms => ms <= 5000)).toBe(true)
  })

  it('records the duration of a failure', async () => {
    const result = await run({
      progress: [undefined, progress(), running(50), failed('Disk full.')],
      start: [progress()]
    })

    expect(result.error).toBeInstanceOf(ActionFailure)
    expect(result.report.durationSeconds).toBe(10)
  })

  it('survives a failed cancel', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      {
        inputs: { cancelIfUnfinished: true, timeoutSeconds: 10 },
        cancelBackup: async () => {
          throw new Error('cancelbackup failed with 404')
        }
      }
    )

    expect(failureOf(result)).toContain('did not finish within timeout')
    expect(result.log.warnings).toEqual([
      expect.stringContaining('cancelbackup failed with 404')
    ])
  })

  it('cancels on abort when asked', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      { inputs: { cancelIfUnfinished: true }, abortAtPoll: 3 }
    )

    expect(failureOf(result)).toContain('cancelled')
    expect(result.cancelBackup).toHaveBeenCalledTimes(1)
    expect(result.report.status).toBe('canceled')
  })

  it('cancels a job whose start was cut off', async () => {
    const result = await run(
      { progress: [undefined], start: [new Error('aborted')] },
      {
        inputs: { cancelIfUnfinished: true },
        abortAtStart: true,
        readProgressAfterAbort: async () => running(5)
      }
    )

    expect(result.error).toBeInstanceOf(Error)
    expect(result.cancelBackup).toHaveBeenCalledTimes(1)
    expect(result.report.taskId).toBe(TASK_ID)
    expect(result.report.status).toBe('canceled')
  })

  it('keeps a job that was there before the start', async () => {
    const theirs = completed({ taskId: OTHER_TASK_ID })
    const result = await run(
      { progress: [theirs], start: [new Error('aborted')] },
      {
        inputs: { cancelIfUnfinished: true },
        abortAtStart: true,
        readProgressAfterAbort: async () => theirs
      }
    )

    expect(result.cancelBackup).not.toHaveBeenCalled()
    expect(result.report.taskId).toBe('')
  })

  it('reports canceled when cut off in the queue', async () => {
    const theirs = running(30, { taskId: OTHER_TASK_ID })
    const result = await run(
      { progress: [theirs], start: [] },
      { inputs: { ifRunning: 'queue' }, abortAtPoll: 2 }
    )

    expect(failureOf(result)).toContain('was not started')
    expect(result.client.calls.start).toHaveLength(0)
    expect(result.report.status).toBe('canceled')
  })

  it('explains a portal without cancelbackup', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      {
        inputs: { cancelIfUnfinished: true, timeoutSeconds: 10 },
        cancelBackup: async () => {
          throw new DocSpaceHttpError(
            { method: 'POST', path: '/api/2.0/backup/cancelbackup' },
            { status: 404, serverMessage: '', hint: '' }
          )
        }
      }
    )

    expect(failureOf(result)).toContain('did not finish within timeout')
    expect(result.log.warnings).toEqual([
      expect.stringContaining('DocSpace 3.7.1')
    ])
  })

  it('reports running on abort without cancel', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      { abortAtPoll: 3 }
    )

    expect(failureOf(result)).toContain('cancel-if-unfinished: true')
    expect(result.cancelBackup).not.toHaveBeenCalled()
    expect(result.report.status).toBe('running')
  })

  it('reports running when the cancel found nothing', async () => {
    const result = await run(
      { progress: [undefined, running(20)], start: [progress()] },
      {
        inputs: { cancelIfUnfinished: true },
        abortAtPoll: 3,
        cancelBackup: async () => false
      }
    )

    expect(result.cancelBackup).toHaveBeenCalledTimes(1)
    expect(result.report.status).toBe('running')
  })

  it('returns after the start with wait false', async () => {
    const result = await run(
      { progress: [undefined], start: [progress()] },
      { inputs: { wait: false } }
    )

    expect(result.error).toBeUndefined()
    expect(result.report.status).toBe('queued')
    expect(result.report.taskId).toBe(TASK_ID)
    expect(result.client.calls.progress).toHaveLength(1)
    expect(result.groups).toEqual(['Starting backup'])
  })

  it('follows a running job on attach', async () => {
    const theirs = running(40, { taskId: OTHER_TASK_ID })
    const result = await run(
      {
        progress: [theirs, completed({ taskId: OTHER_TASK_ID })],
        history: [HISTORY[0]!]
      },
      { inputs: { ifRunning: 'attach' } }
    )

    expect(result.error).toBeUndefined()
    expect(result.report.origin).toBe('attached')
    expect(result.report.taskId).toBe(OTHER_TASK_ID)
    expect(result.report.fileName).toBe('older.tar.gz')
    expect(result.client.calls.start).toEqual([])
  })

  it('never cancels an attached job', async () => {
    const theirs = running(40, { taskId: OTHER_TASK_ID })
    const result = await run(
      { progress: [theirs] },
      {
        inputs: {
          ifRunning: 'attach',
          cancelIfUnfinished: true,
          timeoutSeconds: 10
        }
      }
    )

    expect(failureOf(result)).toContain('did not finish within timeout')
    expect(result.cancelBackup).not.toHaveBeenCalled()
    expect(result.report.status).toBe('timed-out')
  })

  it('fails when the job ahead outlasts the timeout', async () => {
    const theirs = running(40, { taskId: OTHER_TASK_ID })
    const result = await run(
      { progress: [theirs] },
      { inputs: { ifRunning: 'queue', timeoutSeconds: 20 } }
    )

    expect(failureOf(result)).toContain(OTHER_TASK_ID)
    expect(failureOf(result)).toContain('was not started')
    expect(result.report.status).toBe('timed-out')
    expect(result.report.durationSeconds).toBe(20)
    expect(result.client.calls.start).toEqual([])
  })

  it('shares one deadline between queue and wait', async () => {
    const theirs = running(40, { taskId: OTHER_TASK_ID })
    const result = await run(
      {
        progress: [
          theirs,
          theirs,
          completed({ taskId: OTHER_TASK_ID }),
          running(10)
        ],
        start: [progress()]
      },
      { inputs: { timeoutSeconds: 30 } }
    )

    expect(failureOf(result)).toContain('did not finish within timeout')
    expect(result.elapsedMs).toBe(30_000)
    expect(result.client.calls.start).toHaveLength(1)
  })

  it('sends the storage settings', async () => {
    const params = [{ key: 'module', value: 's3' }]
    const result = await run(
      { progress: [undefined, completed()], start: [progress()] },
      {
        inputs: {
          storageType: StorageType.ThirdPartyConsumer,
          storageParams: params,
          dump: true
        }
      }
    )

    expect(result.client.calls.start).toEqual([
      { storageType: 5, storageParams: params, dump: true }
    ])
    expect(result.client.calls.progress.every(dump => dump)).toBe(true)
  })
})

describe('parseExpiry', () => {
  it.each([
    ['2026-03-02T02:15:00', '2026-03-02T02:15:00.000Z'],
    ['2026-03-02T02:15:00.1234567', '2026-03-02T02:15:00.123Z'],
    ['2026-03-02T02:15:00Z', '2026-03-02T02:15:00.000Z'],
    ['2026-03-02T05:15:00+03:00', '2026-03-02T02:15:00.000Z'],
    ['0001-01-01T00:00:00', ''],
    ['0001-01-01T00:00:00.0000000', ''],
    ['', ''],
    [undefined, ''],
    ['not a date', '']
  ])('turns %j into %j', (value, expected) => {
    expect(parseExpiry(value)).toBe(expected)
  })
})
