import type { BackupProgress } from '../../src/docspace/schemas.js'

/** The task id of the job that the step under test follows. */
export const TASK_ID = '3f0c2a5e-0d6b-4f4e-9a57-1b2c3d4e5f60'

/** The task id of a different, earlier or later job. */
export const OTHER_TASK_ID = 'b7e1d9c4-8a2f-4c6d-b3e5-0f1a2b3c4d5e'

/**
 * Builds a progress object as DocSpace 3.7.1+ returns it for a queued job,
 * with `overrides` applied. Pass `status: undefined` for an older server.
 */
export function progress(
  overrides: Partial<BackupProgress> = {}
): BackupProgress {
  return {
    taskId: TASK_ID,
    isCompleted: false,
    progress: 0,
    error: '',
    warning: '',
    link: '',
    status: 0,
    ...overrides
  }
}

/** Builds a job that the worker is running at `percent`. */
export function running(
  percent: number,
  overrides: Partial<BackupProgress> = {}
): BackupProgress {
  return progress({ status: 1, progress: percent, ...overrides })
}

/** Builds a job that finished without error. */
export function completed(
  overrides: Partial<BackupProgress> = {}
): BackupProgress {
  return progress({
    status: 2,
    progress: 100,
    isCompleted: true,
    ...overrides
  })
}

/** Builds a failed job. DocSpace keeps status 2 and fills `error`. */
export function failed(
  error: string,
  overrides: Partial<BackupProgress> = {}
): BackupProgress {
  return completed({ error, ...overrides })
}
