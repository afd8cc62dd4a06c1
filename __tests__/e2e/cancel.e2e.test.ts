import { describe, expect, it } from '@jest/globals'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import type { Simulator } from '../../simulator/server.js'
import {
  ChildHandle,
  commandMessages,
  currentTaskId,
  requestsTo,
  runStep,
  useSimulators,
  WAIT_STARTED
} from './helpers.js'

const startSimulator = useSimulators()

/** The runner sends SIGTERM this long after SIGINT, and kills soon after. */
const RUNNER_SIGTERM_DELAY_MS = 7500

/** A job that outlasts every test, so only a cancel ends it. */
const ENDLESS_JOB = { queuedMs: 200, jobMs: 60_000 }

/**
 * Runs the step and sends it SIGINT once `isReady` returns true for the
 * stdout so far. Returns the run and the time from the signal to the end of
 * the process.
 */
async function runAndInterrupt(
  simulator: Simulator,
  inputs: Record<string, string>,
  isReady: (stdout: string) => boolean
) {
  const handle = new ChildHandle()
  let stdout = ''
  let signalledAt: number | undefined
  const timer = setInterval(() => {
    if (signalledAt === undefined && isReady(stdout)) {
      signalledAt = performance.now()
      handle.kill('SIGINT')
    }
  }, 20)

  let run: ActionRun
  try {
    run = await runStep(simulator, inputs, {
      onSpawn: handle.onSpawn,
      onStdout: chunk => {
        stdout += chunk
      }
    })
  } finally {
    clearInterval(timer)
  }
  if (signalledAt === undefined) {
    throw new Error(`the step ended before SIGINT; stdout:\n${run.stdout}`)
  }

  return { run, exitDelayMs: performance.now() - signalledAt }
}

const waitStarted = (stdout: string) => WAIT_STARTED.test(stdout)

describe('timeout', () => {
  const timing = { timeout: '3s', 'poll-interval': '1s' }

  it('times out a stuck job', async () => {
    const simulator = await startSimulator({ outcome: 'stuck' })

    const run = await runStep(simulator, timing)

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('timed-out')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(run.outputs.error).not.toBe('')
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(0)
  })

  it('cancels a stuck job when asked', async () => {
    const simulator = await startSimulator({ outcome: 'stuck' })

    const run = await runStep(simulator, {
      ...timing,
      'cancel-if-unfinished': 'true'
    })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('timed-out')
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(1)
    expect(simulator.jobs()[0]!.progress.status).toBe(3)
  })

  it('leaves a stuck external job alone', async () => {
    const simulator = await startSimulator({ outcome: 'stuck' })
    const externalTaskId = simulator.startExternalJob()

    const run = await runStep(simulator, {
      ...timing,
      'if-running': 'queue',
      'cancel-if-unfinished': 'true'
    })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('timed-out')
    expect(run.outputs.error).toContain(externalTaskId)
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(0)
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(0)
    expect(simulator.jobs()[0]!.progress.isCompleted).toBe(false)
  })
})

describe('SIGINT', () => {
  it('cancels the backup when asked', async () => {
    const simulator = await startSimulator(ENDLESS_JOB)

    const { run, exitDelayMs } = await runAndInterrupt(
      simulator,
      { 'cancel-if-unfinished': 'true' },
      waitStarted
    )

    expect(run.signal).toBeNull()
    expect(run.exitCode).not.toBe(0)
    expect(exitDelayMs).toBeLessThan(RUNNER_SIGTERM_DELAY_MS)
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(1)
    expect(simulator.jobs()[0]!.progress.status).toBe(3)
    expect(run.outputs.status).toBe('canceled')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
  })

  it('leaves the backup running by default', async () => {
    const simulator = await startSimulator(ENDLESS_JOB)

    const { run, exitDelayMs } = await runAndInterrupt(
      simulator,
      {},
      waitStarted
    )

    expect(run.signal).toBeNull()
    expect(run.exitCode).not.toBe(0)
    expect(exitDelayMs).toBeLessThan(RUNNER_SIGTERM_DELAY_MS)
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(0)
    expect(simulator.jobs()[0]!.progress.isCompleted).toBe(false)
    expect(run.outputs.status).toBe('running')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
  })

  it('cancels a job whose start was in flight', async () => {
    const simulator = await startSimulator(ENDLESS_JOB)
    // The portal creates the job at once but responds only after the signal.
    simulator.faults.add({ endpoint: 'startbackup', kind: 'delay', ms: 3000 })

    const { run } = await runAndInterrupt(
      simulator,
      { 'cancel-if-unfinished': 'true' },
      () => requestsTo(simulator, 'startbackup').length > 0
    )

    expect(run.exitCode).not.toBe(0)
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(1)
    expect(simulator.jobs()[0]!.progress.status).toBe(3)
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(run.outputs.status).toBe('canceled')
  })

  it('leaves an external job alone while queued', async () => {
    const simulator = await startSimulator(ENDLESS_JOB)
    simulator.startExternalJob()

    const { run } = await runAndInterrupt(
      simulator,
      { 'if-running': 'queue', 'cancel-if-unfinished': 'true' },
      stdout => /^Backup (?:queued|running), \d+%/m.test(stdout)
    )

    expect(run.exitCode).not.toBe(0)
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(0)
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(0)
    expect(simulator.jobs()[0]!.progress.isCompleted).toBe(false)
    expect(run.outputs['task-id']).toBe('')
    // The run was cancelled before this step's backup could start.
    expect(run.outputs.status).toBe('canceled')
  })
})

describe('cancel-if-unfinished', () => {
  it('explains a portal without cancelbackup', async () => {
    const simulator = await startSimulator({
      version: '3.6.1',
      outcome: 'stuck'
    })

    const run = await runStep(simulator, {
      timeout: '1s',
      'cancel-if-unfinished': 'true'
    })
    const warnings = commandMessages(run.stdout, 'warning')

    expect(run.outputs.status).toBe('timed-out')
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(1)
    expect(warnings).toHaveLength(1)
    // cancelbackup exists since DocSpace 3.7.1, so its 404 here does not
    // mean that portal-url is wrong.
    expect(warnings[0]).not.toContain('portal-url')
  })
})
