import { describe, expect, it } from '@jest/globals'
import type { BackupProgress } from '../src/docspace/schemas.js'
import {
  classifyProgress,
  isUnfinished,
  waitForBackup,
  type JobState,
  type WaitOptions
} from '../src/wait.js'
import { createFakeClock, type FakeClock } from './helpers/clock.js'
import { httpError } from './helpers/errors.js'
import { countContaining, createRecordingLog } from './helpers/log.js'
import {
  completed,
  failed,
  OTHER_TASK_ID,
  progress,
  running,
  TASK_ID
} from './helpers/progress.js'

const POLL_MS = 5000

describe('classifyProgress', () => {
  const cases: [string, BackupProgress | undefined, JobState][] = [
    ['no job', undefined, 'vanished'],
    ['another task', running(40, { taskId: OTHER_TASK_ID }), 'replaced'],
    [
      'another failed task',
      failed('disk full', { taskId: OTHER_TASK_ID }),
      'replaced'
    ],
    ['status 0', progress({ status: 0 }), 'queued'],
    ['status 1 at 0%', running(0), 'running'],
    ['status 1 at 45%', running(45), 'running'],
    ['100% before isCompleted', running(100), 'running'],
    ['isCompleted, status 2', completed(), 'completed'],
    [
      'completed with missing files',
      completed({ warning: 'Some files were not included in the backup.' }),
      'completed'
    ],
    ['error, status 2', failed('Directory not found.'), 'failed'],
    [
      'error, crashed',
      progress({ status: 4, error: 'One or more errors occurred.' }),
      'failed'
    ],
    ['status 4 without error', progress({ status: 4 }), 'failed'],
    [
      'error while running',
      running(30, { error: 'Unknown storage type.' }),
      'failed'
    ],
    [
      'status 3',
      progress({ status: 3, isCompleted: true, warning: 'Backup cancelled' }),
      'canceled'
    ],
    ['status 3 without warning', progress({ status: 3 }), 'canceled'],
    [
      'error beats status 3',
      progress({ status: 3, isCompleted: true, error: 'boom' }),
      'failed'
    ]
  ]

  it.each(cases)('%s', (_name, polled, state) => {
    expect(classifyProgress(polled, TASK_ID)).toBe(state)
  })

  const withoutStatus: [string, Partial<BackupProgress>, JobState][] = [
    ['0%', { progress: 0 }, 'queued'],
    ['45%', { progress: 45 }, 'running'],
    ['100% before isCompleted', { progress: 100 }, 'running'],
    ['isCompleted', { progress: 100, isCompleted: true }, 'completed'],
    ['error', { isCompleted: true, error: 'Directory not found.' }, 'failed'],
    [
      'cancelled warning',
      { isCompleted: true, warning: 'Backup cancelled' },
      'canceled'
    ]
  ]

  it.each(withoutStatus)('before 3.7.1: %s', (_name, fields, state) => {
    const polled = progress({ ...fields, status: undefined })

    expect(classifyProgress(polled, TASK_ID)).toBe(state)
  })
})

describe('isUnfinished', () => {
  it.each([
    ['queued', progress(), true],
    ['running', running(90), true],
    ['completed', completed(), false],
    ['failed', failed('x'), false],
    ['canceled', progress({ status: 3, isCompleted: true }), false]
  ])('%s is %s', (_name, polled, unfinished) => {
    expect(isUnfinished(polled)).toBe(unfinished)
  })

  it('judges a job under its own task id', () => {
    expect(isUnfinished(running(10, { taskId: OTHER_TASK_ID }))).toBe(true)
  })
})

type PollResult = BackupProgress | undefined | Error

/**
 * Runs waitForBackup against `results`, one per poll (the last repeats),
 * with a fake clock, and records the time of each poll.
 */
async function runWait(
  results: PollResult[],
  overrides: Partial<WaitOptions> & { clock?: FakeClock } = {}
) {
  const clock = overrides.clock ?? createFakeClock()
  const log = createRecordingLog()
  const pollTimes: number[] = []
  const startedAt = clock.now()
  const getProgress = async () => {
    pollTimes.push(clock.now() - startedAt)
    const polled = results[Math.min(pollTimes.length, results.length) - 1]
    if (polled instanceof Error) {
      throw polled
    }
    return polled
  }

  const result = waitForBackup({
    getProgress,
    taskId: TASK_ID,
    pollIntervalMs: POLL_MS,
    deadline: startedAt + 3_600_000,
    now: clock.now,
    sleep: clock.sleep,
    log,
    ...overrides
  })
  return { result, clock, log, pollTimes, startedAt }
}

describe('waitForBackup', () => {
  it.each([
    ['completed', completed()],
    ['failed', failed('Directory not found.')],
    ['failed', progress({ status: 4, error: 'One or more errors occurred.' })],
    ['canceled', progress({ status: 3, isCompleted: true })]
  ])('ends %s', async (state, final) => {
    const { result } = await runWait([progress(), running(50), final])

    await expect(result).resolves.toEqual({ state, progress: final })
  })

  it('does not end at 100% before isCompleted', async () => {
    const done = completed()
    const { result, pollTimes } = await runWait([
      running(100),
      running(100),
      done
    ])

    await expect(result).resolves.toMatchObject({ state: 'completed' })
    expect(pollTimes).toHaveLength(3)
  })

  it('ends vanished with the last progress', async () => {
    const last = running(60)
    const { result } = await runWait([last, undefined])

    await expect(result).resolves.toEqual({ state: 'vanished', progress: last })
  })

  it('ends replaced with the last own progress', async () => {
    const last = running(60)
    const other = running(5, { taskId: OTHER_TASK_ID })
    const { result } = await runWait([last, other])

    await expect(result).resolves.toEqual({ state: 'replaced', progress: last })
  })

  it('polls once per interval', async () => {
    const { result, pollTimes } = await runWait([
      progress(),
      running(10),
      running(20),
      completed()
    ])

    await result
    expect(pollTimes).toEqual([0, POLL_MS, 2 * POLL_MS, 3 * POLL_MS])
  })

  it('counts a slow poll into the interval', async () => {
    const clock = createFakeClock()
    let calls = 0
    const { result } = await runWait([], {
      clock,
      getProgress: async () => {
        calls++
        clock.advance(2000)
        return calls < 3 ? running(calls * 10) : completed()
      }
    })

    await result
    expect(clock.sleeps).toEqual([POLL_MS - 2000, POLL_MS - 2000])
  })

  it('logs progress only when it changes', async () => {
    const { result, log } = await runWait([
      running(10),
      running(10),
      running(10),
      running(30),
      running(30),
      completed()
    ])

    await result
    expect(countContaining(log.infos, 'running, 10%')).toBe(1)
    expect(countContaining(log.infos, 'running, 30%')).toBe(1)
    expect(countContaining(log.infos, 'completed, 100%')).toBe(1)
  })

  it('logs the upload phase once at 90%', async () => {
    const { result, log } = await runWait([
      running(80),
      running(90),
      running(90),
      running(90),
      running(91),
      completed()
    ])

    await result
    expect(countContaining(log.infos, 'uploading')).toBe(1)
  })

  it('does not log the upload phase below 90%', async () => {
    const { result, log } = await runWait([running(89), completed()])

    await result
    expect(countContaining(log.infos, 'uploading')).toBe(0)
  })

  it('warns once about a long queue', async () => {
    const { result, log } = await runWait(
      [...Array<BackupProgress>(10).fill(progress()), completed()],
      { queuedWarningMs: 3 * POLL_MS }
    )

    await result
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toContain('queued for 15s')
  })

  it('does not warn about a short queue', async () => {
    const { result, log } = await runWait(
      [progress(), progress(), running(10), running(10), completed()],
      { queuedWarningMs: 2 * POLL_MS }
    )

    await result
    expect(log.warnings).toEqual([])
  })

  it('times out at the deadline', async () => {
    const clock = createFakeClock()
    const last = running(40)
    const deadline = clock.now() + 12_000
    const { result, pollTimes } = await runWait([last], { clock, deadline })

    await expect(result).resolves.toEqual({
      state: 'timed-out',
      progress: last
    })
    expect(pollTimes).toEqual([0, 5000, 10_000, 12_000])
    expect(clock.now()).toBe(deadline)
  })

  it('times out after one poll past the deadline', async () => {
    const clock = createFakeClock()
    const deadline = clock.now() - 1
    const { result, pollTimes } = await runWait([running(5)], {
      clock,
      deadline
    })

    await expect(result).resolves.toMatchObject({ state: 'timed-out' })
    expect(pollTimes).toEqual([0])
    expect(clock.sleeps).toEqual([])
  })

  it('prefers a final state at the deadline', async () => {
    const clock = createFakeClock()
    const deadline = clock.now() + POLL_MS
    const { result } = await runWait([running(50), completed()], {
      clock,
      deadline
    })

    await expect(result).resolves.toMatchObject({ state: 'completed' })
  })

  it('ends aborted when the signal aborts', async () => {
    const controller = new AbortController()
    const last = running(20)
    let polls = 0
    const clock = createFakeClock()
    const { result } = await runWait([], {
      clock,
      signal: controller.signal,
      getProgress: async () => {
        polls++
        if (polls === 2) {
          controller.abort(new Error('cancelled'))
        }
        return last
      }
    })

    await expect(result).resolves.toEqual({ state: 'aborted', progress: last })
    expect(polls).toBe(2)
  })

  it('ends aborted when a poll is aborted', async () => {
    const controller = new AbortController()
    const last = running(20)
    let polls = 0
    const { result } = await runWait([], {
      signal: controller.signal,
      getProgress: async () => {
        polls++
        if (polls === 2) {
          controller.abort(new Error('cancelled'))
          throw new Error('This operation was aborted')
        }
        return last
      }
    })

    await expect(result).resolves.toEqual({ state: 'aborted', progress: last })
  })

  it('bears a few failed polls', async () => {
    const { result, log, pollTimes } = await runWait(
      [running(10), httpError(503), httpError(502), running(20), completed()],
      { maxConsecutiveErrors: 3 }
    )

    await expect(result).resolves.toMatchObject({ state: 'completed' })
    expect(pollTimes).toHaveLength(5)
    expect(countContaining(log.infos, 'in a row; the step fails at')).toBe(2)
  })

  it('resets the failure count after a success', async () => {
    const { result } = await runWait(
      [
        httpError(503),
        httpError(503),
        running(10),
        httpError(503),
        httpError(503),
        completed()
      ],
      { maxConsecutiveErrors: 3 }
    )

    await expect(result).resolves.toMatchObject({ state: 'completed' })
  })

  it('throws after too many failed polls', async () => {
    const last = httpError(504)
    const { result, pollTimes } = await runWait(
      [running(10), httpError(503), httpError(502), last],
      { maxConsecutiveErrors: 3 }
    )

    await expect(result).rejects.toBe(last)
    expect(pollTimes).toHaveLength(4)
  })

  it('throws a 401 at once', async () => {
    const unauthorized = httpError(401)
    const { result, pollTimes } = await runWait([running(10), unauthorized])

    await expect(result).rejects.toBe(unauthorized)
    expect(pollTimes).toHaveLength(2)
  })

  it('throws an unexpected error at once', async () => {
    const bug = new TypeError('cannot read properties of undefined')
    const { result, pollTimes } = await runWait([bug])

    await expect(result).rejects.toBe(bug)
    expect(pollTimes).toHaveLength(1)
  })
})
