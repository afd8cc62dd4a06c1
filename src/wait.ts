import type { BackupProgress } from './docspace/schemas.js'
import { DocSpaceError } from './docspace/errors.js'
import { errorMessage } from './errors.js'
import { formatDuration, type Now, type Sleep } from './time.js'

/** The state of a backup job, as read from one progress object. */
export type JobState =
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'vanished'
  | 'replaced'

/** The way a wait ended. */
export type WaitState = JobState | 'timed-out' | 'aborted'

const FINAL_STATES: ReadonlySet<WaitState> = new Set([
  'completed',
  'failed',
  'canceled',
  'vanished',
  'replaced'
])

const STATUS_CREATED = 0
const STATUS_CANCELED = 3
const STATUS_FAILED = 4
const CANCELLED_WARNING = 'backup cancelled'
const UPLOAD_PHASE_PROGRESS = 90

/**
 * Classifies one progress response for the job `taskId`. DocSpace marks a
 * failed backup Completed (status 2) with a non-empty `error`, and a job that
 * crashes early Failted (status 4) with `isCompleted` false, so `error` is
 * checked first and `status` only after it.
 */
export function classifyProgress(
  progress: BackupProgress | undefined,
  taskId: string
): JobState {
  if (!progress) {
    return 'vanished'
  }
  if (progress.taskId !== taskId) {
    return 'replaced'
  }
  if (progress.error !== '') {
    return 'failed'
  }
  if (
    progress.status === STATUS_CANCELED ||
    progress.warning.trim().toLowerCase() === CANCELLED_WARNING
  ) {
    return 'canceled'
  }
  if (progress.isCompleted) {
    return 'completed'
  }
  if (progress.status === STATUS_FAILED) {
    return 'failed'
  }
  if (progress.status === STATUS_CREATED) {
    return 'queued'
  }

  // Before 3.7.1 there is no status: a job at 0 % may still be queued.
  return progress.status === undefined && progress.progress === 0
    ? 'queued'
    : 'running'
}

/** Returns true for a job that the server has not finished. */
export function isUnfinished(progress: BackupProgress): boolean {
  const state = classifyProgress(progress, progress.taskId)
  return state === 'queued' || state === 'running'
}

export interface WaitLogger {
  info(message: string): void
  warning(message: string): void
}

export interface WaitOptions {
  getProgress: () => Promise<BackupProgress | undefined>
  taskId: string
  pollIntervalMs: number
  /** When the wait gives up, in the same clock as `now`. */
  deadline: number
  now: Now
  sleep: Sleep
  log: WaitLogger
  signal?: AbortSignal
  /** Failed polls in a row (each after the client's own retries) to bear. */
  maxConsecutiveErrors?: number
  /** How long a job may stay queued before one warning. */
  queuedWarningMs?: number
}

export interface WaitResult {
  state: WaitState
  /** The last progress read for this job. */
  progress: BackupProgress | undefined
}

const DEFAULT_MAX_CONSECUTIVE_ERRORS = 3
const DEFAULT_QUEUED_WARNING_MS = 3 * 60_000

/**
 * Polls the job until it reaches a final state, the deadline passes or the
 * signal aborts. Logs progress only when it changes. Throws the last error
 * when polls fail too often in a row, or at once when the error cannot pass
 * (a revoked key, for example).
 */
export async function waitForBackup(options: WaitOptions): Promise<WaitResult> {
  const startedAt = options.now()
  const maxErrors =
    options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS
  const tracker = new ProgressTracker(options, startedAt)
  let lastProgress: BackupProgress | undefined
  let consecutiveErrors = 0

  for (;;) {
    const pollStartedAt = options.now()
    try {
      const progress = await options.getProgress()
      consecutiveErrors = 0
      const state = classifyProgress(progress, options.taskId)
      if (state !== 'vanished' && state !== 'replaced') {
        lastProgress = progress
      }
      tracker.report(state, progress)
      if (FINAL_STATES.has(state)) {
        return { state, progress: lastProgress }
      }
    } catch (error) {
      if (options.signal?.aborted) {
        return { state: 'aborted', progress: lastProgress }
      }
      consecutiveErrors++
      if (!isPassing(error) || consecutiveErrors >= maxErrors) {
        throw error
      }
      options.log.info(
        `Reading the backup progress failed (${consecutiveErrors} in a ` +
          `row; the step fails at ${maxErrors}): ${errorMessage(error)}`
      )
    }

    const now = options.now()
    if (now >= options.deadline) {
      return { state: 'timed-out', progress: lastProgress }
    }

    const nextPollAt = Math.min(
      pollStartedAt + options.pollIntervalMs,
      options.deadline
    )
    try {
      await options.sleep(Math.max(0, nextPollAt - now), options.signal)
    } catch (error) {
      if (options.signal?.aborted) {
        return { state: 'aborted', progress: lastProgress }
      }
      throw error
    }
  }
}

function isPassing(error: unknown): boolean {
  return error instanceof DocSpaceError && error.retryable
}

/** Logs state and progress changes, the upload phase and a long queue. */
class ProgressTracker {
  private lastLine = ''
  private uploadLogged = false
  private queuedWarned = false

  constructor(
    private readonly options: WaitOptions,
    private readonly startedAt: number
  ) {}

  report(state: JobState, progress: BackupProgress | undefined): void {
    const elapsedMs = this.options.now() - this.startedAt
    const percent = progress?.progress ?? 0
    const line = `Backup ${state}, ${percent}%`
    if (line !== this.lastLine) {
      this.lastLine = line
      this.options.log.info(`${line} (${formatDuration(elapsedMs)} elapsed)`)
    }

    if (
      state === 'running' &&
      percent >= UPLOAD_PHASE_PROGRESS &&
      !this.uploadLogged
    ) {
      this.uploadLogged = true
      this.options.log.info(
        'The archive is written; the portal is now uploading it to the ' +
          'storage. Progress stays near 90% until the upload ends.'
      )
    }

    const queuedWarningMs =
      this.options.queuedWarningMs ?? DEFAULT_QUEUED_WARNING_MS
    if (
      state === 'queued' &&
      elapsedMs >= queuedWarningMs &&
      !this.queuedWarned
    ) {
      this.queuedWarned = true
      this.options.log.warning(
        `The backup has been queued for ${formatDuration(elapsedMs)} without ` +
          "starting. The portal's backup service may not be taking jobs; " +
          'ask the portal admin to check the backup worker.'
      )
    }
  }
}
