import type { DocSpaceClient, StartBackupBody } from './docspace/client.js'
import { DocSpaceError } from './docspace/errors.js'
import type { ErrorContext } from './docspace/hints.js'
import type { BackupProgress } from './docspace/schemas.js'
import { errorMessage } from './errors.js'
import type { IfRunning } from './inputs.js'
import { backoffDelay, type RetryPolicy } from './retry.js'
import { formatDuration, type Sleep } from './time.js'
import { classifyProgress, isUnfinished, type WaitResult } from './wait.js'

/** The job the step follows, and whether it started it. */
export type StartOutcome =
  | { kind: 'started' | 'attached'; progress: BackupProgress }
  /** With if-running: queue, the other job did not end in time. */
  | { kind: 'not-started'; other: WaitResult; otherTaskId: string }

export interface StartOptions {
  client: Pick<DocSpaceClient, 'getBackupProgress' | 'startBackup'>
  body: StartBackupBody
  context: ErrorContext
  ifRunning: IfRunning
  /** Waits for another job to end (used by if-running: queue). */
  waitForOther: (progress: BackupProgress) => Promise<WaitResult>
  /** Called before each startbackup with the job seen before the start. */
  onStartSent?: (previousTaskId: string | undefined) => void
  retryPolicy: RetryPolicy
  sleep: Sleep
  random: () => number
  log: (message: string) => void
  signal?: AbortSignal
}

/** A failure that the step reports as it is, with no request details. */
export class ActionFailure extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ActionFailure'
  }
}

/**
 * Starts a backup, unless another job is running: then if-running decides
 * whether to queue behind it, attach to it or fail.
 */
export async function startOrAttach(
  options: StartOptions
): Promise<StartOutcome> {
  const { client, body } = options
  let existing = await client.getBackupProgress(body.dump)

  if (existing && isUnfinished(existing)) {
    const state = classifyProgress(existing, existing.taskId)
    const runningJob = `A backup (task ${existing.taskId}) is already ${state} on the portal`
    switch (options.ifRunning) {
      case 'fail':
        throw new ActionFailure(
          `${runningJob}, and if-running is fail. Wait for it to finish, or set ` +
            'if-running to queue or attach.'
        )
      case 'attach':
        options.log(`${runningJob}; following it (if-running: attach).`)
        return { kind: 'attached', progress: existing }
      case 'queue': {
        options.log(
          `${runningJob}; waiting for it to end before starting ours.`
        )
        const other = await options.waitForOther(existing)
        if (other.state === 'timed-out' || other.state === 'aborted') {
          return { kind: 'not-started', other, otherTaskId: existing.taskId }
        }
        options.log(`Task ${existing.taskId} ended (${other.state}).`)
        existing = other.progress ?? existing
      }
    }
  }

  const progress = await startOnce(options, existing?.taskId)
  return { kind: 'started', progress }
}

/**
 * Sends startbackup, and when the response is lost or unclear reads the
 * progress before anything else: a job that was not there before is ours and
 * is adopted. Only when there is none is the start sent again, so one step
 * never leaves two backups behind.
 */
async function startOnce(
  options: StartOptions,
  previousTaskId: string | undefined
): Promise<BackupProgress> {
  const { client, body, retryPolicy } = options

  for (let attempt = 1; ; attempt++) {
    let failure: unknown
    try {
      options.onStartSent?.(previousTaskId)
      const started = await client.startBackup(body, options.context)
      if (started) {
        options.log(`Backup started: task ${started.taskId}.`)
        return started
      }
      failure = new Error('startbackup returned no job.')
    } catch (error) {
      if (!isUnclear(error)) {
        throw error
      }
      failure = error
    }

    const delayMs = backoffDelay(attempt, failure, retryPolicy, options.random)
    options.log(
      `Starting the backup gave no clear answer (attempt ${attempt} of ` +
        `${retryPolicy.maxAttempts}): ${errorMessage(failure)} Checking ` +
        `in ${formatDuration(delayMs)} whether the portal created it.`
    )
    await options.sleep(delayMs, options.signal)

    const current = await client.getBackupProgress(body.dump)
    if (current && current.taskId !== previousTaskId) {
      options.log(
        `The portal did create the backup: task ${current.taskId}. ` +
          'Following it instead of starting another.'
      )
      return current
    }
    if (attempt >= retryPolicy.maxAttempts) {
      throw failure
    }
    options.log('The portal has no new backup job; sending the start again.')
  }
}

/** True when the start may or may not have reached the portal, or may pass. */
function isUnclear(error: unknown): boolean {
  return (
    error instanceof DocSpaceError && (error.retryable || error.outcomeUnknown)
  )
}
