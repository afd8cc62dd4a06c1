import type { BackupDependencies } from './backup.js'
import { DocSpaceHttpError } from './docspace/errors.js'
import { errorMessage } from './errors.js'
import type { ActionInputs } from './inputs.js'
import type { BackupReport } from './report.js'
import { isUnfinished } from './wait.js'

/** Whether startbackup was sent, and which job the portal had before. */
export interface StartSent {
  sent?: boolean
  previousTaskId?: string
}

/** Returns the advice that ends a timeout or cancellation message. */
export function cancelAdvice(inputs: ActionInputs): string {
  return inputs.cancelIfUnfinished
    ? ''
    : ' The backup goes on on the portal; set cancel-if-unfinished: true ' +
        'to cancel it in this case.'
}

/**
 * Cancels the portal's backup when cancel-if-unfinished is set. Logs the
 * result; a failure to cancel is a warning, because the step fails anyway.
 */
export async function cancelIfRequested(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport,
  reason: 'timed-out' | 'aborted'
): Promise<void> {
  if (!inputs.cancelIfUnfinished) {
    return
  }
  if (report.origin === 'attached') {
    deps.log.info(
      `Backup task ${report.taskId} was not cancelled, because this step ` +
        'did not start it (if-running: attach).'
    )
    return
  }

  try {
    const cancelled = await deps.cancelBackup()
    deps.log.info(
      cancelled
        ? `Cancelled backup task ${report.taskId} on the portal.`
        : 'The portal had no unfinished backup to cancel.'
    )
    if (cancelled && reason === 'aborted') {
      report.status = 'canceled'
    }
  } catch (error) {
    deps.log.warning(describeCancelFailure(error))
  }
}

/**
 * Cancels the job that a start in flight may have created when the run is
 * cancelled. cancelbackup removes every job of the portal, so it is sent
 * only for an unfinished job that was not there before our start.
 */
export async function cancelStartInFlight(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport,
  sent: StartSent
): Promise<void> {
  if (!deps.signal?.aborted || !sent.sent || !inputs.cancelIfUnfinished) {
    return
  }

  try {
    const current = await deps.readProgressAfterAbort()
    if (
      !current ||
      current.taskId === sent.previousTaskId ||
      !isUnfinished(current)
    ) {
      deps.log.info('The start did not create a backup; nothing to cancel.')
      return
    }
    report.taskId = current.taskId
    report.status = 'running'
    await cancelIfRequested(inputs, deps, report, 'aborted')
  } catch (error) {
    deps.log.warning(describeCancelFailure(error))
  }
}

function describeCancelFailure(error: unknown): string {
  if (error instanceof DocSpaceHttpError && error.status === 404) {
    return (
      'Cancelling the backup failed: this portal has no cancelbackup ' +
      'endpoint (it arrived in DocSpace 3.7.1). The backup goes on; stop ' +
      'it on the portal if needed.'
    )
  }

  return `Cancelling the backup failed: ${errorMessage(error)}`
}
