import { describe, expect, it } from '@jest/globals'
import type { Simulator } from '../../simulator/server.js'
import {
  commandMessages,
  currentTaskId,
  onceStdoutMatches,
  requestsTo,
  RUNNING_LINE,
  runStep,
  startRequest,
  useSimulators
} from './helpers.js'

const startSimulator = useSimulators()

/** Long enough for a poll to see the job running before it ends. */
const LONG_JOB = { queuedMs: 200, jobMs: 4000 }

/** Runs the step and calls `action` once the log shows the job running. */
function runAndActWhileRunning(simulator: Simulator, action: () => void) {
  return runStep(
    simulator,
    {},
    { onStdout: onceStdoutMatches(RUNNING_LINE, action) }
  )
}

describe('final state', () => {
  it('reports a failed backup', async () => {
    const errorMessage = 'Directory not found: /var/backups.'
    const simulator = await startSimulator({ outcome: 'error', errorMessage })

    const run = await runStep(simulator)

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.error).toBe(errorMessage)
    expect(run.outputs['is-completed']).toBe('true')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(commandMessages(run.stdout, 'error')[0]).toContain(errorMessage)
  })

  it('reports a crashed job as failed', async () => {
    const simulator = await startSimulator({ outcome: 'crash' })

    const run = await runStep(simulator)
    const serverError = simulator.jobs()[0]!.progress.error

    expect(simulator.jobs()[0]!.progress.status).toBe(4)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs['is-completed']).toBe('false')
    expect(run.outputs.error).toBe(serverError)
  })

  it('reports a warning but succeeds', async () => {
    const simulator = await startSimulator({ outcome: 'warning' })

    const run = await runStep(simulator)
    const serverWarning = simulator.jobs()[0]!.progress.warning!

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(run.outputs.warning).toBe(serverWarning)
    expect(run.outputs.error).toBe('')
    expect(commandMessages(run.stdout, 'warning')).toEqual([
      expect.stringContaining(serverWarning)
    ])
  })

  it('reports a cancel from the portal', async () => {
    const simulator = await startSimulator(LONG_JOB)

    const run = await runAndActWhileRunning(simulator, () =>
      simulator.cancelFromPortal()
    )

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('canceled')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(run.outputs['is-completed']).toBe('true')
    expect(requestsTo(simulator, 'cancelbackup')).toHaveLength(0)
  })

  it('reports a vanished job', async () => {
    const simulator = await startSimulator(LONG_JOB)

    let ownTaskId = ''

    const run = await runAndActWhileRunning(simulator, () => {
      ownTaskId = currentTaskId(simulator)
      simulator.expireJob()
    })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs['task-id']).toBe(ownTaskId)
    expect(run.outputs.error).toContain(ownTaskId)
  })

  it('reports a replaced job', async () => {
    const simulator = await startSimulator(LONG_JOB)
    let ownTaskId = ''

    const run = await runAndActWhileRunning(simulator, () => {
      ownTaskId = currentTaskId(simulator)
      simulator.expireJob()
      simulator.startExternalJob()
    })

    expect(currentTaskId(simulator)).not.toBe(ownTaskId)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs['task-id']).toBe(ownTaskId)
    expect(run.outputs.error).toContain(ownTaskId)
    expect(simulator.startedCount()).toBe(1)
  })

  it('completes on 3.6.1 without status', async () => {
    const simulator = await startSimulator({ version: '3.6.1' })

    const run = await runStep(simulator)

    expect(simulator.jobs()[0]!.progress.status).toBeUndefined()
    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(run.outputs['task-id']).toBe(currentTaskId(simulator))
    expect(run.outputs['file-name']).not.toBe('')
  })
})

describe('if-running', () => {
  it('fails when set to fail', async () => {
    const simulator = await startSimulator()
    const externalTaskId = simulator.startExternalJob()

    const run = await runStep(simulator, { 'if-running': 'fail' })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.error).toContain(externalTaskId)
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(0)
  })

  it('follows the other job with attach', async () => {
    const simulator = await startSimulator()
    const externalTaskId = simulator.startExternalJob()

    const run = await runStep(simulator, { 'if-running': 'attach' })

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(run.outputs['task-id']).toBe(externalTaskId)
    expect(simulator.startedCount()).toBe(0)
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(0)
    expect(run.summary).toContain('already running')
  })

  it('starts after the other job with queue', async () => {
    const simulator = await startSimulator()
    const externalTaskId = simulator.startExternalJob()

    const run = await runStep(simulator, { 'if-running': 'queue' })
    const ownTaskId = currentTaskId(simulator)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    expect(ownTaskId).not.toBe(externalTaskId)
    expect(run.outputs['task-id']).toBe(ownTaskId)
    expect(startRequest(simulator).at).toBeGreaterThanOrEqual(
      simulator.completedAt(externalTaskId)!
    )
  })
})
