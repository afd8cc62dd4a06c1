import type { StartBackupBody } from '../../src/docspace/client.js'
import type { ErrorContext } from '../../src/docspace/hints.js'
import type {
  BackupHistoryRecord,
  BackupProgress
} from '../../src/docspace/schemas.js'

/** One scripted result: a value to return, or an error to throw. */
export type Step<T> = T | Error

export interface ScriptedClientOptions {
  /** Results of getBackupProgress in order. The last one repeats. */
  progress?: Step<BackupProgress | undefined>[]
  /** Results of startBackup in order. A call past the end fails the test. */
  start?: Step<BackupProgress | undefined>[]
  /** The result of every getBackupHistory call. */
  history?: Step<BackupHistoryRecord[]>
  /** Runs before each getBackupProgress result, e.g. to abort a signal. */
  onProgress?: (call: number) => void
  /** Runs before each startBackup result. */
  onStart?: (call: number) => void
}

/** A stand-in for DocSpaceClient that returns scripted results. */
export interface ScriptedClient {
  getBackupProgress(dump: boolean): Promise<BackupProgress | undefined>
  startBackup(
    body: StartBackupBody,
    context?: ErrorContext
  ): Promise<BackupProgress | undefined>
  getBackupHistory(dump: boolean): Promise<BackupHistoryRecord[]>
  calls: {
    /** The `dump` argument of each getBackupProgress call. */
    progress: boolean[]
    /** The body of each startBackup call. */
    start: StartBackupBody[]
    history: number
  }
}

export function createScriptedClient(
  options: ScriptedClientOptions
): ScriptedClient {
  const calls: ScriptedClient['calls'] = { progress: [], start: [], history: 0 }
  const settle = <T>(step: Step<T>): Promise<T> =>
    step instanceof Error ? Promise.reject(step) : Promise.resolve(step)

  return {
    getBackupProgress: dump => {
      const script = options.progress ?? [undefined]
      const call = calls.progress.push(dump)
      options.onProgress?.(call)
      const step = script[Math.min(call, script.length) - 1]
      return settle(step)
    },
    startBackup: body => {
      const call = calls.start.push(body)
      options.onStart?.(call)
      const script = options.start ?? []
      if (call > script.length) {
        return Promise.reject(
          new Error(
            `unexpected startBackup call #${call}; the script has ${script.length}`
          )
        )
      }
      return settle(script[call - 1])
    },
    getBackupHistory: () => {
      calls.history++
      return settle(options.history ?? [])
    },
    calls
  }
}
