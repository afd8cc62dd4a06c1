import {
  archiveFileName,
  completedAt,
  historyRecordAt,
  jobStateAt,
  type HistoryRecord,
  type Job
} from './jobs.js'

/**
 * The backup queue of one portal: one slot for the portal job and one for the
 * server-wide dump job, plus every job ever created for history and lookups.
 */
export class JobStore {
  private readonly slots = new Map<boolean, Job>()
  private readonly created: Job[] = []

  /** Returns the job in the portal slot, or in the dump slot. */
  current(dump: boolean): Job | undefined {
    return this.slots.get(dump)
  }

  currentJobs(): Job[] {
    return [...this.slots.values()]
  }

  /** Returns the slot's job while it is not completed, as startbackup does. */
  unfinished(dump: boolean, now: number): Job | undefined {
    const job = this.slots.get(dump)

    return job && !jobStateAt(job, now).isCompleted ? job : undefined
  }

  /** Puts a job in its slot, removing whatever job was there. */
  add(job: Job, now: number): void {
    this.remove(job.dump, now)
    this.slots.set(job.dump, job)
    this.created.push(job)
  }

  remove(dump: boolean, now: number): void {
    const job = this.slots.get(dump)
    if (job) {
      job.removedAt = now
      this.slots.delete(dump)
    }
  }

  /**
   * Cancels every unfinished job. A cancelled job either stays visible as
   * Canceled or leaves its slot. Returns whether any job was cancelled.
   */
  cancelUnfinished(now: number, keepVisible: boolean): boolean {
    let cancelled = false
    for (const dump of [false, true]) {
      const job = this.unfinished(dump, now)
      if (!job) {
        continue
      }

      job.cancelledAt = now
      if (!keepVisible) {
        this.remove(dump, now)
      }
      cancelled = true
    }

    return cancelled
  }

  find(taskId: string): Job | undefined {
    return this.created.find(job => job.taskId === taskId)
  }

  completedAt(taskId: string, now: number): number | undefined {
    const job = this.find(taskId)

    return job ? completedAt(job, now) : undefined
  }

  /** Returns the history records of succeeded jobs, oldest first. */
  history(dump: boolean, now: number): HistoryRecord[] {
    return this.created
      .filter(job => job.dump === dump)
      .map(job => historyRecordAt(job, now))
      .filter(record => record !== undefined)
  }

  /** Finds the newest succeeded job whose archive has this file name. */
  findArchive(fileName: string, now: number): Job | undefined {
    return this.created.findLast(
      job =>
        archiveFileName(job) === fileName &&
        historyRecordAt(job, now) !== undefined
    )
  }

  /** Counts jobs created through startbackup, not external ones. */
  startedCount(): number {
    return this.created.filter(job => job.source === 'startbackup').length
  }
}
