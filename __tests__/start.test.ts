import { describe, expect, it, jest } from '@jest/globals'
import type { BackupProgress } from '../src/docspace/schemas.js'
import type { IfRunning } from '../src/inputs.js'
import type { RetryPolicy } from '../src/retry.js'
import {
  ActionFailure,
  startOrAttach,
  type StartOptions
} from '../src/start.js'
import { StorageType } from '../src/storage.js'
import type { WaitResult } from '../src/wait.js'
import { createFakeClock } from './helpers/clock.js'
import {
  createScriptedClient,
  type ScriptedClientOptions
} from './helpers/client.js'
import { httpError, startTimeout } from './helpers/errors.js'
import { countContaining } from './helpers/log.js'
import {
  completed,
  OTHER_TASK_ID,
  progress,
  running,
  TASK_ID
} from './helpers/progress.js'

const POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  maxTotalMs: 60_000
}

const BODY = {
  storageType: StorageType.DataStore,
  storageParams: [],
  dump: false
}

/** The job that our startbackup creates. */
const OURS = progress({ taskId: TASK_ID })

/** Jobs that were on the portal before the step began. */
const EARLIER_RUNNING = running(30, { taskId: OTHER_TASK_ID })
const EARLIER_FINISHED = completed({ taskId: OTHER_TASK_ID })

/** Runs startOrAttach against a scripted client with a fake clock. */
function start(
  script: ScriptedClientOptions,
  options: {
    ifRunning?: IfRunning
    other?: WaitResult
    dump?: boolean
    signal?: AbortSignal
  } = {}
) {
  const client = createScriptedClient(script)
  const clock = createFakeClock()
  const logs: string[] = []
  const waitForOther = jest.fn(
    async (_progress: BackupProgress): Promise<WaitResult> =>
      options.other ?? { state: 'completed', progress: EARLIER_FINISHED }
  )
  const startOptions: StartOptions = {
    client,
    body: { ...BODY, dump: options.dump ?? false },
    context: { storageTypeName: 'DataStore' },
    ifRunning: options.ifRunning ?? 'queue',
    waitForOther,
    retryPolicy: POLICY,
    sleep: clock.sleep,
    random: () => 0.5,
    log: message => logs.push(message),
    signal: options.signal
  }

  return {
    outcome: startOrAttach(startOptions),
    client,
    clock,
    logs,
    waitForOther
  }
}

describe('startOrAttach', () => {
  it('starts when no job exists', async () => {
    const { outcome, client } = start({ progress: [undefined], start: [OURS] })

    await expect(outcome).resolves.toEqual({ kind: 'started', progress: OURS })
    expect(client.calls.start).toEqual([BODY])
  })

  it('reads the progress with the dump flag', async () => {
    const { outcome, client } = start({ start: [OURS] }, { dump: true })

    await outcome
    expect(client.calls.progress).toEqual([true])
    expect(client.calls.start[0]?.dump).toBe(true)
  })

  it('starts after a finished earlier job', async () => {
    const { outcome, client, waitForOther } = start({
      progress: [EARLIER_FINISHED],
      start: [OURS]
    })

    await expect(outcome).resolves.toEqual({ kind: 'started', progress: OURS })
    expect(client.calls.start).toHaveLength(1)
    expect(waitForOther).not.toHaveBeenCalled()
  })

  describe('if-running', () => {
    it('fail rejects a running job', async () => {
      const { outcome, client } = start(
        { progress: [EARLIER_RUNNING] },
        { ifRunning: 'fail' }
      )

      await expect(outcome).rejects.toThrow(ActionFailure)
      await expect(outcome).rejects.toThrow(OTHER_TASK_ID)
      await expect(outcome).rejects.toThrow('if-running is fail')
      expect(client.calls.start).toEqual([])
    })

    it('fail rejects a queued job', async () => {
      const queued = progress({ taskId: OTHER_TASK_ID })
      const { outcome } = start({ progress: [queued] }, { ifRunning: 'fail' })

      await expect(outcome).rejects.toThrow('already queued')
    })

    it('attach follows the running job', async () => {
      const { outcome, client } = start(
        { progress: [EARLIER_RUNNING] },
        { ifRunning: 'attach' }
      )

      await expect(outcome).resolves.toEqual({
        kind: 'attached',
        progress: EARLIER_RUNNING
      })
      expect(client.calls.start).toEqual([])
    })

    it('queue waits, then starts', async () => {
      const { outcome, client, waitForOther } = start(
        { progress: [EARLIER_RUNNING], start: [OURS] },
        { ifRunning: 'queue' }
      )

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(waitForOther).toHaveBeenCalledWith(EARLIER_RUNNING)
      expect(client.calls.start).toHaveLength(1)
    })

    it.each(['timed-out', 'aborted'] as const)(
      'queue gives up when the wait is %s',
      async state => {
        const other: WaitResult = { state, progress: EARLIER_RUNNING }
        const { outcome, client } = start(
          { progress: [EARLIER_RUNNING] },
          { ifRunning: 'queue', other }
        )

        await expect(outcome).resolves.toEqual({
          kind: 'not-started',
          other,
          otherTaskId: OTHER_TASK_ID
        })
        expect(client.calls.start).toEqual([])
      }
    )

    it('does not apply to a finished job', async () => {
      const { outcome } = start(
        { progress: [EARLIER_FINISHED], start: [OURS] },
        { ifRunning: 'fail' }
      )

      await expect(outcome).resolves.toMatchObject({ kind: 'started' })
    })
  })

  describe('unclear start', () => {
    it('adopts a new job instead of starting again', async () => {
      const { outcome, client } = start({
        progress: [EARLIER_FINISHED, OURS],
        start: [startTimeout()]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(1)
      expect(client.calls.progress).toHaveLength(2)
    })

    it('adopts a job when none existed before', async () => {
      const { outcome, client } = start({
        progress: [undefined, OURS],
        start: [httpError(502)]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(1)
    })

    it('adopts a job after an empty answer', async () => {
      const { outcome, client } = start({
        progress: [undefined, OURS],
        start: [undefined]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(1)
    })

    it('adopts a job after a 500', async () => {
      const { outcome, client } = start({
        progress: [undefined, OURS],
        start: [httpError(500)]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(1)
    })

    it('starts again when no job appeared', async () => {
      const { outcome, client } = start({
        progress: [undefined, undefined],
        start: [startTimeout(), OURS]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(2)
    })

    it('starts again when only the old job shows', async () => {
      const { outcome, client } = start({
        progress: [EARLIER_FINISHED, EARLIER_FINISHED],
        start: [startTimeout(), OURS]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(2)
    })

    it('waits with backoff before the check', async () => {
      const { outcome, clock } = start({
        progress: [undefined, undefined, undefined],
        start: [startTimeout(), startTimeout(), OURS]
      })

      await outcome
      expect(clock.sleeps).toEqual([750, 1500])
    })

    it('logs each check as attempt n of m', async () => {
      const { outcome, logs } = start({
        progress: [undefined, undefined],
        start: [startTimeout(), OURS]
      })

      await outcome
      expect(countContaining(logs, 'attempt 1 of 3')).toBe(1)
    })

    it('stops after maxAttempts starts', async () => {
      const last = startTimeout()
      const { outcome, client } = start({
        progress: [undefined],
        start: [startTimeout(), startTimeout(), last]
      })

      await expect(outcome).rejects.toBe(last)
      expect(client.calls.start).toHaveLength(3)
    })

    it('checks for a job after the last attempt', async () => {
      const { outcome, client } = start({
        progress: [undefined, undefined, undefined, OURS],
        start: [startTimeout(), startTimeout(), startTimeout()]
      })

      await expect(outcome).resolves.toEqual({
        kind: 'started',
        progress: OURS
      })
      expect(client.calls.start).toHaveLength(3)
    })

    it('throws a 401 without a check', async () => {
      const unauthorized = httpError(401)
      const { outcome, client, clock } = start({
        progress: [undefined],
        start: [unauthorized]
      })

      await expect(outcome).rejects.toBe(unauthorized)
      expect(client.calls.start).toHaveLength(1)
      expect(client.calls.progress).toHaveLength(1)
      expect(clock.sleeps).toEqual([])
    })

    it('throws a 400 without a check', async () => {
      const rejected = httpError(400, { serverMessage: 'wrong folder type' })
      const { outcome, client } = start({
        progress: [undefined],
        start: [rejected]
      })

      await expect(outcome).rejects.toBe(rejected)
      expect(client.calls.progress).toHaveLength(1)
    })

    it('stops when the signal aborts the wait', async () => {
      const controller = new AbortController()
      const reason = new Error('cancelled')
      controller.abort(reason)
      const { outcome, client } = start(
        { progress: [undefined, OURS], start: [startTimeout()] },
        { signal: controller.signal }
      )

      await expect(outcome).rejects.toBe(reason)
      expect(client.calls.start).toHaveLength(1)
      expect(client.calls.progress).toHaveLength(1)
    })
  })
})
