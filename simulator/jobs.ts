import { randomUUID } from 'node:crypto'
import type { Outcome, ResolvedOptions } from './options.js'
import { StorageType } from './storage-type.js'

/** `DistributedTaskStatus` values, typo included (DocSpace 3.7.1+). */
export const TaskStatus = {
  Created: 0,
  Running: 1,
  Completed: 2,
  Canceled: 3,
  Failted: 4
} as const

/** The progress object that startbackup and getbackupprogress return. */
export interface BackupProgress {
  isCompleted: boolean
  progress: number
  error: string
  warning?: string
  link: string
  tenantId: number
  backupProgressEnum: number
  status?: number
  taskId: string
}

/** An entry of getbackuphistory. Dates are UTC without an offset. */
export interface HistoryRecord {
  id: string
  fileName: string
  storageType: number
  createdOn: string
  expiresOn: string
}

/**
 * A backup job. Its state is computed from timestamps on each read, so two
 * reads at the same instant agree and no timers run.
 */
export interface Job {
  taskId: string
  dump: boolean
  storageType: number
  storageParams: Record<string, string>
  source: 'startbackup' | 'external'
  createdAt: number
  queuedMs: number
  jobMs: number
  outcome: Outcome
  errorMessage: string
  linkStyle: 'relative' | 'absolute'
  cancelledAt?: number
  /** Time the job left its slot: replaced, expired or cancelled as `gone`. */
  removedAt?: number
}

export interface JobParams {
  storageType: number
  storageParams: Record<string, string>
  dump: boolean
}

interface JobState {
  status: number
  progress: number
  isCompleted: boolean
  error: string
  warning?: string
}

export const TENANT_ID = 1
export const TENANT_ALIAS = 'simulator'
export const CANCELLED_WARNING = 'Backup cancelled'
export const CRASH_ERROR =
  'One or more errors occurred. (Object reference not set to an instance of an object.)'
const UNKNOWN_STORAGE_ERROR = 'Unknown storage type.'
const MIN_DATE = '0001-01-01T00:00:00'
const DAY_MS = 24 * 60 * 60 * 1000

const SUPPORTED_STORAGE_TYPES = new Set<number>([
  StorageType.Documents,
  StorageType.ThridpartyDocuments,
  StorageType.Local,
  StorageType.DataStore,
  StorageType.ThirdPartyConsumer
])

const CREATED: JobState = {
  status: TaskStatus.Created,
  progress: 0,
  isCompleted: false,
  error: ''
}

export function createJob(
  params: JobParams,
  options: ResolvedOptions,
  source: Job['source'],
  now: number
): Job {
  return {
    taskId: randomUUID(),
    ...params,
    source,
    createdAt: now,
    queuedMs: options.queuedMs,
    jobMs: options.jobMs,
    outcome: options.outcome,
    errorMessage: options.errorMessage,
    linkStyle: options.linkStyle
  }
}

/** Time the backup worker picks the job up and sets it Running. */
function pickedUpAt(job: Job): number {
  return job.createdAt + job.queuedMs
}

function finishedAt(job: Job): number {
  return pickedUpAt(job) + job.jobMs
}

/** Error the job ends with, or undefined when it succeeds. */
function failureOf(job: Job): string | undefined {
  if (!SUPPORTED_STORAGE_TYPES.has(job.storageType)) {
    return UNKNOWN_STORAGE_ERROR
  }

  return job.outcome === 'error' ? job.errorMessage : undefined
}

/**
 * Computes the job's state at `now`. A cancelled job shows the progress it
 * had when it was cancelled.
 */
export function jobStateAt(job: Job, now: number): JobState {
  const cancelledAt = job.cancelledAt
  if (cancelledAt === undefined || now < cancelledAt) {
    return uncancelledStateAt(job, now)
  }

  return {
    status: TaskStatus.Canceled,
    progress: uncancelledStateAt(job, cancelledAt).progress,
    isCompleted: true,
    error: '',
    warning: CANCELLED_WARNING
  }
}

function uncancelledStateAt(job: Job, now: number): JobState {
  if (job.outcome === 'stuck' || now < pickedUpAt(job)) {
    return CREATED
  }

  // A crash before the job's try-block faults the task: status Failted, but
  // isCompleted stays false because only the job's own code sets it.
  if (job.outcome === 'crash') {
    return { ...CREATED, status: TaskStatus.Failted, error: CRASH_ERROR }
  }

  if (now >= finishedAt(job)) {
    return finalState(job)
  }

  const fraction = (now - pickedUpAt(job)) / job.jobMs
  return {
    status: TaskStatus.Running,
    progress: runningProgress(fraction, failureOf(job) !== undefined),
    isCompleted: false,
    error: ''
  }
}

/**
 * Progress while running. It rises to 90 over the first 70% of the run while
 * the archive is written, sits at 90 during the upload, then shows 100 before
 * `isCompleted` turns true. A job that fails in the upload stays at 90.
 */
function runningProgress(fraction: number, failing: boolean): number {
  if (fraction < 0.7) {
    return Math.floor((90 * fraction) / 0.7)
  }

  return fraction < 0.9 || failing ? 90 : 100
}

// A failed backup still ends as status Completed; only `error` marks it.
function finalState(job: Job): JobState {
  const failure = failureOf(job)
  if (failure !== undefined) {
    return {
      status: TaskStatus.Completed,
      progress: 90,
      isCompleted: true,
      error: failure
    }
  }

  const state: JobState = {
    status: TaskStatus.Completed,
    progress: 100,
    isCompleted: true,
    error: ''
  }
  if (job.outcome === 'warning') {
    state.warning = `Some files were not included in the backup. For more details, please check ${missingFilesPath(job)}`
  }

  return state
}

/**
 * Returns the time `isCompleted` turned true, or undefined if it has not by
 * `now` or the job left its slot first (expired, replaced, cancelled as gone).
 */
export function completedAt(job: Job, now: number): number | undefined {
  const time = job.cancelledAt ?? completionTime(job)
  if (time === undefined || time > now) {
    return undefined
  }

  return job.removedAt !== undefined && job.removedAt <= time ? undefined : time
}

function completionTime(job: Job): number | undefined {
  return job.outcome === 'stuck' || job.outcome === 'crash'
    ? undefined
    : finishedAt(job)
}

/** Returns the history record, which exists once a job has succeeded. */
export function historyRecordAt(
  job: Job,
  now: number
): HistoryRecord | undefined {
  const completed = completedAt(job, now)
  if (
    completed === undefined ||
    job.cancelledAt !== undefined ||
    failureOf(job) !== undefined
  ) {
    return undefined
  }

  const expiresOn =
    job.storageType === StorageType.DataStore
      ? formatUtc(completed + DAY_MS)
      : MIN_DATE

  return {
    id: job.taskId,
    fileName: archiveFileName(job),
    storageType: job.storageType,
    createdOn: formatUtc(completed),
    expiresOn
  }
}

/** Builds the archive name as DocSpace does: `<alias>_<UTC time>.tar.gz`. */
export function archiveFileName(job: Job): string {
  const alias = job.dump ? 'workspace' : TENANT_ALIAS
  const time = formatUtc(pickedUpAt(job)).replace('T', '_').replaceAll(':', '-')

  return `${alias}_${time}.tar.gz`
}

// NOTE: the real warning names a file that lists the skipped files; its exact
// location is not known, so this path is made up.
function missingFilesPath(job: Job): string {
  return `backup/${archiveFileName(job)}.missing-files.txt`
}

/**
 * Builds the progress object. Version 3.6.1 has no `status` field, and
 * `link` stays empty until the job has succeeded.
 */
export function toBackupProgress(
  job: Job,
  now: number,
  version: ResolvedOptions['version'],
  linkFor: (job: Job) => string
): BackupProgress {
  const state = jobStateAt(job, now)
  const succeeded = historyRecordAt(job, now) !== undefined
  const warning = state.warning === undefined ? {} : { warning: state.warning }
  const status = version === '3.6.1' ? {} : { status: state.status }

  return {
    isCompleted: state.isCompleted,
    progress: state.progress,
    error: state.error,
    ...warning,
    link: succeeded ? linkFor(job) : '',
    tenantId: TENANT_ID,
    backupProgressEnum: 0,
    ...status,
    taskId: job.taskId
  }
}

function formatUtc(time: number): string {
  return new Date(time).toISOString().slice(0, 19)
}
