import * as core from '@actions/core'
import type { BackupProgress } from './docspace/schemas.js'
import type { WaitState } from './wait.js'

/** The values of the `status` output. */
export type OutputStatus =
  'queued' | 'running' | 'completed' | 'failed' | 'canceled' | 'timed-out'

/** Everything the step reports: its outputs and its job summary. */
export interface BackupReport {
  taskId: string
  status: OutputStatus
  progress: number
  isCompleted: boolean
  error: string
  warning: string
  /** Absolute download link; a secret, never logged or summarised. */
  link: string
  fileName: string
  /** ISO 8601 UTC time when the backup is deleted; '' when it is kept. */
  expiresOn: string
  durationSeconds: number
  archivePath: string
  /** Bytes, as text; '' when nothing was downloaded. */
  archiveSize: string
  /** Whether the download failed after the backup completed. */
  downloadFailed: boolean
  portalHost: string
  storageTypeName: string
  dump: boolean
  /** The step's relation to the job, for the summary. */
  origin: 'started' | 'attached' | 'none'
}

/** Returns a report for a step that has done nothing yet. */
export function emptyReport(): BackupReport {
  return {
    taskId: '',
    status: 'failed',
    progress: 0,
    isCompleted: false,
    error: '',
    warning: '',
    link: '',
    fileName: '',
    expiresOn: '',
    durationSeconds: 0,
    archivePath: '',
    archiveSize: '',
    downloadFailed: false,
    portalHost: '',
    storageTypeName: '',
    dump: false,
    origin: 'none'
  }
}

/** Maps a job or wait state to the `status` output. */
export function outputStatus(state: WaitState): OutputStatus {
  switch (state) {
    case 'vanished':
    case 'replaced':
      return 'failed'
    case 'aborted':
      return 'running'
    default:
      return state
  }
}

/** Copies the fields of a progress object into the report. */
export function applyProgress(
  report: BackupReport,
  progress: BackupProgress,
  portalUrl: URL
): void {
  report.taskId = progress.taskId
  report.progress = progress.progress
  report.isCompleted = progress.isCompleted
  report.error = progress.error
  report.warning = progress.warning
  if (progress.link !== '') {
    // The link is a signed URL that anyone may use: mask it before any log.
    core.setSecret(progress.link)
    report.link = absoluteLink(progress.link, portalUrl)
    core.setSecret(report.link)
  }
}

/**
 * Resolves a link against the portal URL: self-hosted portals with disk
 * storage return it relative, e.g. `/studio/1/backup/…`. A relative link is
 * kept under the portal's sub-path, like the API itself.
 */
export function absoluteLink(link: string, portalUrl: URL): string {
  // NOTE: a portal under a sub-path was not seen live; this assumes a proxy
  // that maps /<sub-path>/ to the server's root, so '/studio/…' lives there.
  return new URL(link.replace(/^\/+/, ''), portalUrl).href
}

/** Sets every declared output. Call it on every path, failures included. */
export function setOutputs(report: BackupReport): void {
  if (report.link !== '') {
    core.setSecret(report.link)
  }
  core.setOutput('task-id', report.taskId)
  core.setOutput('status', report.status)
  core.setOutput('progress', String(report.progress))
  core.setOutput('is-completed', String(report.isCompleted))
  core.setOutput('error', report.error)
  core.setOutput('warning', report.warning)
  core.setOutput('link', report.link)
  core.setOutput('file-name', report.fileName)
  core.setOutput('expires-on', report.expiresOn)
  core.setOutput('duration-seconds', String(report.durationSeconds))
  core.setOutput('archive-path', report.archivePath)
  core.setOutput('archive-size', report.archiveSize)
}

/**
 * Writes the job summary. It never contains the link or the key, and
 * `secrets` are replaced in case a server message repeats one.
 */
export async function writeSummary(
  report: BackupReport,
  secrets: string[]
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('GITHUB_STEP_SUMMARY is not set; no job summary written.')
    return
  }

  // The inputs describe the backup only once they were all valid.
  const inputRows: [string, string][] =
    report.portalHost === ''
      ? []
      : [
          ['Portal', report.portalHost],
          ['Storage type', report.storageTypeName],
          ['Dump', report.dump ? 'yes' : 'no']
        ]
  // Without a task no backup started, so it has no progress or file.
  const hasTask = report.taskId !== ''
  const rows: [string, string][] = [
    ...inputRows,
    ['Task', hasTask ? report.taskId : '(none: no backup started)'],
    ['Status', `${STATUS_ICONS[report.status]} ${report.status}`],
    ['Progress', hasTask ? `${report.progress}%` : ''],
    ['Duration', `${report.durationSeconds}s`],
    ['File', hasTask ? report.fileName || '(unknown)' : ''],
    [
      'Expires',
      report.expiresOn || (report.status === 'completed' ? 'never' : '')
    ]
  ]
  if (report.origin === 'attached') {
    rows.push(['Note', 'Followed a backup that was already running'])
  }
  if (report.archivePath !== '') {
    rows.push([
      'Downloaded to',
      `${report.archivePath} (${report.archiveSize} bytes)`
    ])
  }
  if (report.downloadFailed) {
    rows.push(['Download', '❌ failed, so the step failed (see Error)'])
  }
  if (report.error !== '') {
    rows.push(['Error', report.error])
  }
  if (report.warning !== '') {
    rows.push(['Warning', report.warning])
  }

  // An empty cell would be written as an unclosed <td>, so the row goes.
  const table = rows
    .filter(([, value]) => value !== '')
    .map(([name, value]) => [
      { data: name, header: false },
      { data: cellHtml(redact(value, secrets)), header: false }
    ])
  await core.summary
    .addHeading('DocSpace backup', 3)
    .addTable([
      [
        { data: 'Item', header: true },
        { data: 'Value', header: true }
      ],
      ...table
    ])
    .write()
}

const STATUS_ICONS: Record<OutputStatus, string> = {
  queued: '⏳',
  running: '⏳',
  completed: '✅',
  failed: '❌',
  canceled: '⚠️',
  'timed-out': '⌛'
}

/** Replaces each non-empty secret in `text` with `***`. */
export function redact(text: string, secrets: string[]): string {
  return secrets
    .filter(secret => secret !== '')
    .reduce((result, secret) => result.split(secret).join('***'), text)
}

/** Escapes text for a table cell, and keeps its line breaks as `<br>`. */
function cellHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, '<br>')
}
