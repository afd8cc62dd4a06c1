import type { DocSpaceClient } from './docspace/client.js'
import type { DownloadedArchive } from './docspace/download.js'
import type { BackupProgress } from './docspace/schemas.js'
import {
  cancelAdvice,
  cancelIfRequested,
  cancelStartInFlight,
  type StartSent
} from './cancel.js'
import { errorMessage } from './errors.js'
import type { ActionInputs } from './inputs.js'
import { applyProgress, outputStatus, type BackupReport } from './report.js'
import type { RetryPolicy } from './retry.js'
import { ActionFailure, startOrAttach } from './start.js'
import { storageTypeName } from './storage.js'
import { formatDuration, type Now, type Sleep } from './time.js'
import {
  classifyProgress,
  waitForBackup,
  type WaitLogger,
  type WaitResult
} from './wait.js'

export interface BackupDependencies {
  client: Pick<
    DocSpaceClient,
    'getBackupProgress' | 'startBackup' | 'getBackupHistory'
  >
  /** Cancels the portal's backup; works after the signal has aborted. */
  cancelBackup: () => Promise<boolean>
  /** Reads the progress; works after the signal has aborted. */
  readProgressAfterAbort: () => Promise<BackupProgress | undefined>
  /** Saves the archive behind `link` to download-path. */
  download: (link: string, fileName: string) => Promise<DownloadedArchive>
  now: Now
  sleep: Sleep
  random: () => number
  retryPolicy: RetryPolicy
  log: WaitLogger
  group: <T>(name: string, work: () => Promise<T>) => Promise<T>
  signal?: AbortSignal
}

/**
 * Starts (or attaches to) a backup, waits for it when asked, and fills
 * `report` as it goes, so the outputs are right whatever ends the step.
 * Throws ActionFailure, or the request error, when the step must fail.
 */
export async function runBackup(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport
): Promise<void> {
  const startedAt = deps.now()
  try {
    await startAndWait(inputs, deps, report, startedAt)
  } finally {
    report.durationSeconds = Math.round((deps.now() - startedAt) / 1000)
  }
}

async function startAndWait(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport,
  startedAt: number
): Promise<void> {
  const deadline = startedAt + inputs.timeoutSeconds * 1000
  const waitFor = (taskId: string) =>
    waitForBackup({
      getProgress: () => deps.client.getBackupProgress(inputs.dump),
      taskId,
      pollIntervalMs: inputs.pollIntervalSeconds * 1000,
      deadline,
      now: deps.now,
      sleep: deps.sleep,
      log: deps.log,
      signal: deps.signal
    })

  const sent: StartSent = {}
  const outcome = await deps
    .group('Starting backup', () => start(inputs, deps, waitFor, sent))
    .catch(async (error: unknown) => {
      await cancelStartInFlight(inputs, deps, report, sent)
      throw error
    })
  if (outcome.kind === 'not-started') {
    // Our backup never started: the step timed out or was cancelled first.
    report.status =
      outcome.other.state === 'timed-out' ? 'timed-out' : 'canceled'
    const when =
      outcome.other.state === 'aborted'
        ? 'was cancelled'
        : `timed out after ${formatDuration(deps.now() - startedAt)}`
    throw new ActionFailure(
      `Another backup (task ${outcome.otherTaskId}) was still running when ` +
        `the step ${when}, so this backup was not started. The other ` +
        'backup was not cancelled, because this step did not start it.'
    )
  }

  report.origin = outcome.kind
  applyProgress(report, outcome.progress, inputs.portalUrl)
  report.status = outputStatus(
    classifyProgress(outcome.progress, outcome.progress.taskId)
  )
  if (!inputs.wait) {
    deps.log.info(
      `Backup task ${report.taskId} is ${report.status}; not waiting for it ` +
        '(wait: false).'
    )
    return
  }

  const result = await deps.group('Waiting for backup', () =>
    waitFor(outcome.progress.taskId)
  )
  await finish(inputs, deps, report, result)
  deps.log.info(
    `Backup task ${report.taskId}: ${report.status} in ` +
      `${formatDuration(deps.now() - startedAt)}` +
      (report.fileName ? `, file ${report.fileName}.` : '.')
  )
}

function start(
  inputs: ActionInputs,
  deps: BackupDependencies,
  waitFor: (taskId: string) => Promise<WaitResult>,
  sent: StartSent
) {
  return startOrAttach({
    client: deps.client,
    body: {
      storageType: inputs.storageType,
      storageParams: inputs.storageParams,
      dump: inputs.dump
    },
    context: {
      dump: inputs.dump,
      storageTypeName: storageTypeName(inputs.storageType)
    },
    ifRunning: inputs.ifRunning,
    waitForOther: other => waitFor(other.taskId),
    onStartSent: previousTaskId => {
      sent.previousTaskId = previousTaskId
      sent.sent = true
    },
    retryPolicy: deps.retryPolicy,
    sleep: deps.sleep,
    random: deps.random,
    log: message => deps.log.info(message),
    signal: deps.signal
  })
}

/** Records how the wait ended; throws ActionFailure unless it succeeded. */
async function finish(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport,
  result: WaitResult
): Promise<void> {
  if (result.progress) {
    applyProgress(report, result.progress, inputs.portalUrl)
  }
  report.status = outputStatus(result.state)
  const task = `Backup task ${report.taskId}`

  switch (result.state) {
    case 'completed':
      await readHistory(inputs, deps, report)
      if (report.warning !== '') {
        deps.log.warning(
          `The backup completed with a warning: ${report.warning}`
        )
      }
      if (inputs.downloadPath !== '') {
        await deps
          .group('Downloading backup', () => download(deps, report))
          .catch((error: unknown) => {
            report.downloadFailed = true
            throw error
          })
      }
      return
    case 'failed':
      throw new ActionFailure(
        `${task} failed on the portal: ${report.error || 'no error message'}`
      )
    case 'canceled':
      throw new ActionFailure(
        `${task} was cancelled on the portal` +
          (report.warning ? ` (${report.warning}).` : '.')
      )
    case 'vanished':
      report.error = `${task} is no longer on the portal.`
      throw new ActionFailure(
        `${report.error} It was cancelled from the portal, expired, or was ` +
          'removed by another start.'
      )
    case 'replaced':
      report.error = `${task} was replaced by another backup job.`
      throw new ActionFailure(
        `${report.error} Someone (a user, a schedule or another workflow) ` +
          'started a new backup after this one was removed.'
      )
    case 'timed-out':
      await cancelIfRequested(inputs, deps, report, 'timed-out')
      report.error ||= `Timed out after ${formatDuration(inputs.timeoutSeconds * 1000)}.`
      throw new ActionFailure(
        `${task} did not finish within timeout (${formatDuration(inputs.timeoutSeconds * 1000)}); ` +
          `it was at ${report.progress}%.${cancelAdvice(inputs)}`
      )
    case 'aborted':
      await cancelIfRequested(inputs, deps, report, 'aborted')
      throw new ActionFailure(
        `The workflow run was cancelled while backup task ${report.taskId} was at ` +
          `${report.progress}%.${cancelAdvice(inputs)}`
      )
    default:
      throw new ActionFailure(
        `${task} ended in an unexpected state: ${result.state}.`
      )
  }
}

async function download(
  deps: BackupDependencies,
  report: BackupReport
): Promise<void> {
  if (report.link === '') {
    throw new ActionFailure(
      `Backup task ${report.taskId} completed, but the portal returned no ` +
        'download link, so download-path could not be filled.'
    )
  }

  const fileName = report.fileName || `docspace-backup-${report.taskId}.tar.gz`
  const archive = await deps.download(report.link, fileName)
  report.archivePath = archive.path
  report.archiveSize = String(archive.size)
}

/** Fills the file name and expiry from the history record of the task. */
async function readHistory(
  inputs: ActionInputs,
  deps: BackupDependencies,
  report: BackupReport
): Promise<void> {
  try {
    const records = await deps.client.getBackupHistory(inputs.dump)
    const record = records.find(entry => entry.id === report.taskId)
    if (!record) {
      deps.log.info(
        `The backup history has no record of task ${report.taskId}.`
      )
      return
    }
    report.fileName = record.fileName
    report.expiresOn = parseExpiry(record.expiresOn)
  } catch (error) {
    deps.log.warning(
      `Reading the backup history failed, so file-name and expires-on are ` +
        `empty: ${errorMessage(error)}`
    )
  }
}

/**
 * Converts DocSpace's offset-less UTC time to ISO 8601. `0001-01-01…`
 * (DateTime.MinValue) means the backup does not expire, and gives ''.
 */
export function parseExpiry(value: string | undefined): string {
  if (!value || value.startsWith('0001-01-01')) {
    return ''
  }
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value)
  const time = Date.parse(hasZone ? value : `${value}Z`)

  return Number.isNaN(time) ? '' : new Date(time).toISOString()
}
