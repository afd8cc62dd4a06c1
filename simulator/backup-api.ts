import { checkBackupAccess } from './auth.js'
import {
  exceptionReply,
  successReply,
  validationReply,
  type RequestLink
} from './envelope.js'
import type { JobStore } from './job-store.js'
import { createJob, toBackupProgress, type Job } from './jobs.js'
import type { ResolvedOptions } from './options.js'
import { emptyReply, type Reply } from './reply.js'
import type { ApiEndpoint, Route } from './routes.js'
import { parseStartBody } from './start-body.js'
import { checkStartRequest } from './validate.js'

export interface ApiRequest {
  method: string
  query: Record<string, string>
  body: string
  authorization: string | undefined
  link: RequestLink
  now: number
}

export interface ApiContext {
  options: ResolvedOptions
  store: JobStore
  revokedKeys: ReadonlySet<string>
  linkFor: (job: Job) => string
}

type Handler = (request: ApiRequest, context: ApiContext) => Reply

type BackupEndpoint = Exclude<ApiEndpoint, 'version'>

const HANDLERS: Record<BackupEndpoint, Handler> = {
  startbackup: startBackup,
  getbackupprogress: getBackupProgress,
  cancelbackup: cancelBackup,
  getbackuphistory: getBackupHistory,
  getbackupscount: getBackupsCount,
  getservicestate: (request, _context) =>
    successReply({ enabled: false }, request.link)
}

/**
 * Builds the reply to a DocSpace API request: routing errors first, then
 * authentication and permissions, then the action itself.
 */
export function apiReply(
  route: Route,
  request: ApiRequest,
  context: ApiContext
): Reply {
  if (
    route.endpoint === 'cancelbackup' &&
    context.options.version === '3.6.1'
  ) {
    return emptyReply(404)
  }

  if (request.method !== route.method) {
    return emptyReply(405, { Allow: route.method })
  }

  if (route.endpoint === 'version') {
    return getVersion(request, context)
  }

  const denied = checkBackupAccess(
    request.method,
    request.authorization,
    context.options,
    context.revokedKeys
  )

  return denied ?? HANDLERS[route.endpoint](request, context)
}

/**
 * Starts a backup, or returns the unfinished job of the same kind (portal or
 * dump) without changing it. A completed job is replaced.
 */
function startBackup(request: ApiRequest, context: ApiContext): Reply {
  const parsed = parseStartBody(request.body)
  if ('errors' in parsed) {
    return validationReply(parsed.errors, request.link)
  }

  const { store, options } = context
  const checked = checkStartRequest(parsed.body, {
    hosting: options.hosting,
    freeBackups: options.freeBackups,
    completedBackups: store.history(false, request.now).length,
    folderErrors: options.folderErrors
  })
  if ('exception' in checked) {
    return exceptionReply(checked.exception)
  }

  const dump = checked.request.dump
  let job = store.unfinished(dump, request.now)
  if (!job) {
    job = createJob(checked.request, options, 'startbackup', request.now)
    store.add(job, request.now)
  }

  return progressReply(job, request, context)
}

function getBackupProgress(request: ApiRequest, context: ApiContext): Reply {
  const dump = parseDump(request.query)
  if (typeof dump === 'string') {
    return validationReply({ dump: [dump] }, request.link)
  }

  const job = context.store.current(dump)

  return job
    ? progressReply(job, request, context)
    : successReply(undefined, request.link)
}

function cancelBackup(request: ApiRequest, context: ApiContext): Reply {
  const keepVisible = context.options.cancelResult === 'status3'
  const cancelled = context.store.cancelUnfinished(request.now, keepVisible)

  return successReply(cancelled, request.link)
}

function getBackupHistory(request: ApiRequest, context: ApiContext): Reply {
  const dump = parseDump(request.query)
  if (typeof dump === 'string') {
    return validationReply({ dump: [dump] }, request.link)
  }

  return successReply(context.store.history(dump, request.now), request.link)
}

// NOTE: `from`, `to` and `paid` are ignored; the count covers the current
// calendar month in UTC, the 3.7.1+ default, and every backup is free.
function getBackupsCount(request: ApiRequest, context: ApiContext): Reply {
  const month = new Date(request.now).toISOString().slice(0, 7)
  const count = context.store
    .history(false, request.now)
    .filter(record => record.createdOn.startsWith(month)).length

  return successReply(count, request.link)
}

// NOTE: only `docSpace` and `documentServer` are known fields of the real
// response; the values here are the simulated version and a made-up one.
function getVersion(request: ApiRequest, context: ApiContext): Reply {
  return successReply(
    { docSpace: context.options.version, documentServer: '9.0.4' },
    request.link
  )
}

function progressReply(
  job: Job,
  request: ApiRequest,
  context: ApiContext
): Reply {
  const progress = toBackupProgress(
    job,
    request.now,
    context.options.version,
    context.linkFor
  )

  return successReply(progress, request.link)
}

/** Binds the `dump` query as ASP.NET binds a bool; returns an error text. */
function parseDump(query: Record<string, string>): boolean | string {
  const name = Object.keys(query).find(key => key.toLowerCase() === 'dump')
  const value = name === undefined ? undefined : query[name]
  if (value === undefined) {
    return false
  }

  const lower = value.toLowerCase()
  if (lower === 'true' || lower === 'false') {
    return lower === 'true'
  }

  return `The value '${value}' is not valid.`
}
