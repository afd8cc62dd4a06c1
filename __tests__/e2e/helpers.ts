import { afterEach } from '@jest/globals'
import type { ChildProcess } from 'node:child_process'
import {
  runAction,
  type ActionRun,
  type RunOptions
} from '../../scripts/lib/run-action.js'
import {
  startSimulator,
  type HistoryRecord,
  type RecordedRequest,
  type Simulator,
  type SimulatorOptions
} from '../../simulator/server.js'

/** Job timings that keep a whole backup near one poll interval. */
export const FAST_JOB: SimulatorOptions = { queuedMs: 200, jobMs: 600 }

/** Inputs every run gets unless a test overrides them. */
const BASE_INPUTS = { 'poll-interval': '1s', timeout: '30s' }

type Endpoint = RecordedRequest['endpoint']

/**
 * Registers an `afterEach` that closes every simulator the file started, and
 * returns the function that starts one with FAST_JOB timings by default.
 */
export function useSimulators(): (
  options?: SimulatorOptions
) => Promise<Simulator> {
  const started: Simulator[] = []

  afterEach(async () => {
    await Promise.all(started.splice(0).map(simulator => simulator.close()))
  })

  return async options => {
    const simulator = await startSimulator({ ...FAST_JOB, ...options })
    started.push(simulator)

    return simulator
  }
}

/**
 * Runs dist/index.js against the simulator with its URL, its API key, a 1 s
 * poll interval and a 30 s timeout; `inputs` override these.
 */
export function runStep(
  simulator: Simulator,
  inputs: Record<string, string> = {},
  options: Omit<RunOptions, 'inputs'> = {}
): Promise<ActionRun> {
  return runAction({
    ...options,
    inputs: {
      'portal-url': simulator.url,
      'api-key': simulator.apiKey,
      ...BASE_INPUTS,
      ...inputs
    }
  })
}

/** Lists the endpoints the simulator received, in order. */
export function endpointsOf(simulator: Simulator): Endpoint[] {
  return simulator.requests.map(request => request.endpoint)
}

export function requestsTo(
  simulator: Simulator,
  endpoint: Endpoint
): RecordedRequest[] {
  return simulator.requests.filter(request => request.endpoint === endpoint)
}

/** Returns the one startbackup request, failing when there is not exactly one. */
export function startRequest(simulator: Simulator): RecordedRequest {
  const requests = requestsTo(simulator, 'startbackup')
  if (requests.length !== 1) {
    throw new Error(`expected 1 startbackup request, got ${requests.length}`)
  }

  return requests[0]!
}

/** Returns the taskId of the job in the portal slot. */
export function currentTaskId(simulator: Simulator): string {
  const job = simulator.jobs().find(entry => !entry.dump)
  if (!job) {
    throw new Error('the simulator has no portal job')
  }

  return job.taskId
}

/**
 * Reads the portal's backup history from the simulator. The request is
 * recorded too, so read `simulator.requests` before calling this.
 */
export async function readHistory(
  simulator: Simulator
): Promise<HistoryRecord[]> {
  const response = await fetch(
    `${simulator.url}/api/2.0/backup/getbackuphistory`,
    { headers: { Authorization: `Bearer ${simulator.apiKey}` } }
  )
  const envelope = (await response.json()) as { response: HistoryRecord[] }

  return envelope.response
}

/** Returns the messages of the `::<command>::` lines, e.g. `error`. */
export function commandMessages(stdout: string, command: string): string[] {
  const pattern = new RegExp(`^::${command}(?: [^:]*)?::(.*)$`)

  return stdout
    .split(/\r?\n/)
    .map(line => pattern.exec(line)?.[1])
    .filter(message => message !== undefined)
    .map(decodeCommandValue)
}

/** Returns stdout without its `::add-mask::` lines. */
export function logWithoutMasks(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
}

/** Undoes the escaping that @actions/core applies to command messages. */
function decodeCommandValue(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/**
 * Returns an `onStdout` callback that calls `action` once, as soon as the
 * output so far matches `pattern`.
 */
export function onceStdoutMatches(
  pattern: RegExp,
  action: () => void
): (chunk: string) => void {
  let seen = ''
  let fired = false

  return chunk => {
    seen += chunk
    if (!fired && pattern.test(seen)) {
      fired = true
      action()
    }
  }
}

/** A progress line of the wait loop, e.g. `Backup running, 45% (…)`. */
export const RUNNING_LINE = /^Backup running, \d+%/m

/** The log from the start of the wait to its first progress line. */
export const WAIT_STARTED =
  /^::group::Waiting for backup$[\s\S]*^Backup (?:queued|running), \d+%/m

/** Captures the spawned child so a test can signal it. */
export class ChildHandle {
  child: ChildProcess | undefined

  readonly onSpawn = (child: ChildProcess): void => {
    this.child = child
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.child) {
      throw new Error('the action has not been spawned')
    }
    this.child.kill(signal)
  }
}
