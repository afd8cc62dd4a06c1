import { randomBytes } from 'node:crypto'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { archiveLink } from './archive.js'
import { FaultQueue } from './faults.js'
import {
  currentTime,
  handleRequest,
  reportSimulatorError,
  type SimulatorState
} from './handler.js'
import { JobStore } from './job-store.js'
import {
  createJob,
  toBackupProgress,
  type BackupProgress,
  type Job,
  type JobParams
} from './jobs.js'
import { resolveOptions, type SimulatorOptions } from './options.js'
import type { RecordedRequest } from './recording.js'
import { StorageType } from './storage-type.js'

export type { SimulatorOptions } from './options.js'
export type { RecordedRequest } from './recording.js'
export type { Fault, FaultKind } from './faults.js'
export { FaultQueue } from './faults.js'
export type { BackupProgress, HistoryRecord, JobParams } from './jobs.js'
export { TaskStatus } from './jobs.js'
export { StorageType } from './storage-type.js'
export { createSelfSignedCertificate } from './certificate.js'
export { generateArchive } from './archive.js'
export { STACK_TRACE_MARKER } from './envelope.js'
export { DEFAULT_API_KEY } from './options.js'

/** A job in the portal or dump slot, as tests see it. */
export interface SimulatedJob {
  taskId: string
  dump: boolean
  storageType: number
  storageParams: Record<string, string>
  source: 'startbackup' | 'external'
  /** Time from the `clock` option when the job was created. */
  createdAt: number
  /** Progress object that getbackupprogress would return now. */
  progress: BackupProgress
}

export interface Simulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43567`. */
  url: string
  /** The first accepted API key. */
  apiKey: string
  /** The options the server reads on each request; tests may change them. */
  options: SimulatorOptions
  requests: RecordedRequest[]
  faults: FaultQueue
  jobs(): SimulatedJob[]
  /** Counts the new jobs that startbackup created. */
  startedCount(): number
  /** Returns the `clock` time at which the job's `isCompleted` turned true. */
  completedAt(taskId: string): number | undefined
  /** Starts a job as a schedule or another user would; returns its taskId. */
  startExternalJob(params?: Partial<JobParams>): string
  /** Cancels every unfinished job, as the portal's UI would. */
  cancelFromPortal(): void
  /** Removes the portal job (or the dump job), as the queue cleaner would. */
  expireJob(dump?: boolean): void
  close(): Promise<void>
}

/**
 * Starts a simulated DocSpace backup API on 127.0.0.1. Port 0, the default,
 * picks a free port.
 */
export async function startSimulator(
  options: SimulatorOptions & { port?: number } = {}
): Promise<Simulator> {
  const { port = 0, ...simulatorOptions } = options
  const state: SimulatorState = {
    options: simulatorOptions,
    store: new JobStore(),
    faults: new FaultQueue(),
    requests: [],
    revokedKeys: new Set(),
    secret: randomBytes(32).toString('hex'),
    baseUrl: '',
    closing: new AbortController()
  }

  const server = createServer(state)
  await listen(server, port)
  const address = server.address() as AddressInfo
  const scheme = options.tls ? 'https' : 'http'
  state.baseUrl = `${scheme}://127.0.0.1:${address.port}`

  return createSimulator(state, server)
}

function createSimulator(state: SimulatorState, server: Server): Simulator {
  const { store } = state
  const linkFor = (job: Job) => archiveLink(job, state.baseUrl, state.secret)

  return {
    url: state.baseUrl,
    apiKey: resolveOptions(state.options).apiKeys[0] ?? '',
    options: state.options,
    requests: state.requests,
    faults: state.faults,
    jobs: () => {
      const { clock, version } = resolveOptions(state.options)
      const now = clock()
      return store.currentJobs().map(job => ({
        taskId: job.taskId,
        dump: job.dump,
        storageType: job.storageType,
        storageParams: job.storageParams,
        source: job.source,
        createdAt: job.createdAt,
        progress: toBackupProgress(job, now, version, linkFor)
      }))
    },
    startedCount: () => store.startedCount(),
    completedAt: taskId => store.completedAt(taskId, currentTime(state)),
    startExternalJob: params => startExternalJob(state, params),
    cancelFromPortal: () => {
      const keepVisible = resolveOptions(state.options).cancelResult
      store.cancelUnfinished(currentTime(state), keepVisible === 'status3')
    },
    expireJob: (dump = false) => store.remove(dump, currentTime(state)),
    close: () => closeServer(server, state.closing)
  }
}

function startExternalJob(
  state: SimulatorState,
  params: Partial<JobParams> = {}
): string {
  const time = currentTime(state)
  const job = createJob(
    {
      storageType: params.storageType ?? StorageType.DataStore,
      storageParams: params.storageParams ?? {},
      dump: params.dump ?? false
    },
    resolveOptions(state.options),
    'external',
    time
  )
  state.store.add(job, time)

  return job.taskId
}

function createServer(state: SimulatorState): Server {
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    handleRequest(state, request, response).catch((error: unknown) => {
      reportSimulatorError(response, error)
    })
  }
  const tls = state.options.tls

  return tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert }, listener)
    : createHttpServer(listener)
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function closeServer(server: Server, closing: AbortController): Promise<void> {
  if (closing.signal.aborted) {
    return Promise.resolve()
  }

  closing.abort()

  return new Promise((resolve, reject) => {
    server.close(error => (error ? reject(error) : resolve()))
    server.closeAllConnections()
  })
}
