import type { RecordedRequest } from './recording.js'

export type Outcome = 'success' | 'error' | 'crash' | 'warning' | 'stuck'

/**
 * Behaviour of a simulated DocSpace portal. The server reads these on every
 * request, so tests may change them between requests. The timing, outcome,
 * error message and link style of a job are read once, when the job is
 * created.
 */
export interface SimulatorOptions {
  /** Accepted API keys or tokens; default `['sk-simulator-key']`. */
  apiKeys?: string[]
  /** `user` gets 403 "Access denied" in an envelope on backup endpoints. */
  role?: 'owner' | 'admin' | 'user'
  /**
   * Scope of an `sk-` API key. `files` gets 403 with an empty body on every
   * backup endpoint, and `read` gets it on POST and DELETE. Other tokens have
   * full scope.
   */
  keyScope?: 'write' | 'read' | 'files'
  /** `saas` rejects dump (403) and Local storage (500 "Access denied"). */
  hosting?: 'standalone' | 'saas'
  /** `3.6.1` omits `status` from progress objects and has no cancelbackup. */
  version?: '3.7.2' | '3.6.1'
  /** Time in ms a new job stays Created before it runs; default 200. */
  queuedMs?: number
  /** Time in ms from Running to `isCompleted`; default 1500. */
  jobMs?: number
  /** Final state of new jobs; `stuck` jobs stay Created. Default `success`. */
  outcome?: Outcome
  /** Error of a job with outcome `error`; default "Directory not found.". */
  errorMessage?: string
  /** State getbackupprogress shows after a cancel; default `status3`. */
  cancelResult?: 'gone' | 'status3'
  /**
   * Free backups per month. Once this many portal backups have completed,
   * startbackup gets 402. Unlimited when undefined. Unlike the real server,
   * this applies on standalone hosting too.
   */
  freeBackups?: number
  /** Serve HTTPS with this key and certificate instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** Form of DataStore links; default `relative` (`/studio/1/backup/…`). */
  linkStyle?: 'relative' | 'absolute'
  /** Size in bytes of each downloadable archive; default 65536. */
  archiveBytes?: number
  /** Serve whole archives with 200 even when a Range header is sent. */
  ignoreRange?: boolean
  /**
   * Folder ids that startbackup rejects for Documents and ThridpartyDocuments
   * targets: `not-found` gives 404, `access-denied` gives 403.
   */
  folderErrors?: Record<string, 'not-found' | 'access-denied'>
  /**
   * Source of the current time in ms, `Date.now` by default. Tests can set a
   * fake clock to read job states at exact moments.
   */
  clock?: () => number
  /** Called once per request when its connection closes or it finishes. */
  onRequest?: (request: RecordedRequest) => void
}

export type ResolvedOptions = Required<
  Omit<SimulatorOptions, 'freeBackups' | 'tls' | 'onRequest'>
> &
  Pick<SimulatorOptions, 'freeBackups' | 'onRequest'>

export const DEFAULT_API_KEY = 'sk-simulator-key'

const DEFAULTS: Omit<ResolvedOptions, 'freeBackups' | 'onRequest'> = {
  apiKeys: [DEFAULT_API_KEY],
  role: 'owner',
  keyScope: 'write',
  hosting: 'standalone',
  version: '3.7.2',
  queuedMs: 200,
  jobMs: 1500,
  outcome: 'success',
  errorMessage: 'Directory not found.',
  cancelResult: 'status3',
  linkStyle: 'relative',
  archiveBytes: 64 * 1024,
  ignoreRange: false,
  folderErrors: {},
  clock: Date.now
}

/** Fills in defaults, treating an explicit `undefined` as unset. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const resolved: Record<string, unknown> = { ...DEFAULTS }
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) {
      resolved[name] = value
    }
  }

  return resolved as ResolvedOptions
}
