import { parseArgs } from 'node:util'
import type { Fault } from './faults.js'
import type { Outcome, SimulatorOptions } from './options.js'

export interface CliConfig {
  port: number
  /** Serve HTTPS with a fresh self-signed certificate. */
  tls: boolean
  help: boolean
  options: SimulatorOptions
  /** Faults to queue once the simulator listens. */
  faults: Fault[]
}

export const USAGE = `Usage: node build/simulator/cli.js [options]

Runs a simulated ONLYOFFICE DocSpace backup API on 127.0.0.1. Prints one JSON
line {"url", "apiKey"} on stdout when listening (plus "certificatePath" with
--tls), then logs each request to stderr. Stops on SIGINT or SIGTERM.

Options:
  --port N              TCP port; 0 picks a free one (default 0)
  --api-key K           accepted API key, repeatable (default sk-simulator-key)
  --queued-ms N         milliseconds a new job stays Created (default 200)
  --job-ms N            milliseconds from Running to completed (default 1500)
  --outcome O           success, error, crash, warning or stuck (default success)
  --error-message TEXT  error of a job with outcome error
  --role R              owner, admin or user (default owner)
  --key-scope S         write, read or files (default write)
  --hosting H           standalone or saas (default standalone)
  --docspace-version V  3.7.2 or 3.6.1 (default 3.7.2)
  --cancel-result C     gone or status3 (default status3)
  --free-backups N      completed backups allowed before startbackup gets 402
  --link-style L        relative or absolute DataStore links (default relative)
  --archive-bytes N     size of each downloadable archive (default 65536)
  --ignore-range        answer Range requests with the whole archive
  --download-status N   answer every archive download with HTTP status N
                        (400-599), e.g. 404 as for an expired link
  --download-drop-after N
                        close the first archive download after N body bytes,
                        as a dropped connection; the next request resumes
  --tls                 serve HTTPS with a self-signed certificate (needs openssl)
  --help                print this help
`

const CHOICES = {
  outcome: ['success', 'error', 'crash', 'warning', 'stuck'],
  role: ['owner', 'admin', 'user'],
  'key-scope': ['write', 'read', 'files'],
  hosting: ['standalone', 'saas'],
  'docspace-version': ['3.7.2', '3.6.1'],
  'cancel-result': ['gone', 'status3'],
  'link-style': ['relative', 'absolute']
} as const

type ChoiceName = keyof typeof CHOICES

const STRING_OPTIONS = [
  'port',
  'queued-ms',
  'job-ms',
  'error-message',
  'free-backups',
  'archive-bytes',
  'download-status',
  'download-drop-after',
  ...Object.keys(CHOICES)
]

/** Parses the command line; throws an Error that names the bad option. */
export function parseCliArgs(argv: string[]): CliConfig {
  const parsed = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(
        STRING_OPTIONS.map(name => [name, { type: 'string' as const }])
      ),
      'api-key': { type: 'string', multiple: true },
      'ignore-range': { type: 'boolean' },
      tls: { type: 'boolean' },
      help: { type: 'boolean' }
    },
    strict: true
  })
  const values = parsed.values as Record<string, unknown>
  const text = (name: string) => values[name] as string | undefined
  const number = (name: string) => readInteger(name, text(name))
  const choice = <Name extends ChoiceName>(name: Name) =>
    readChoice(name, text(name))

  const options: SimulatorOptions = {
    apiKeys: values['api-key'] as string[] | undefined,
    queuedMs: number('queued-ms'),
    jobMs: number('job-ms'),
    outcome: choice('outcome') as Outcome | undefined,
    errorMessage: text('error-message'),
    role: choice('role'),
    keyScope: choice('key-scope'),
    hosting: choice('hosting'),
    version: choice('docspace-version'),
    cancelResult: choice('cancel-result'),
    freeBackups: number('free-backups'),
    linkStyle: choice('link-style'),
    archiveBytes: number('archive-bytes'),
    ignoreRange: values['ignore-range'] as boolean | undefined
  }

  const port = number('port') ?? 0
  if (port > 65535) {
    throw new Error(`--port: ${port} is not a TCP port. Use 0-65535.`)
  }

  return {
    port,
    tls: values.tls === true,
    help: values.help === true,
    options,
    faults: readDownloadFaults(
      number('download-status'),
      number('download-drop-after')
    )
  }
}

function readDownloadFaults(
  status: number | undefined,
  dropAfterBytes: number | undefined
): Fault[] {
  const faults: Fault[] = []
  if (dropAfterBytes !== undefined) {
    faults.push({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: dropAfterBytes
    })
  }
  if (status !== undefined) {
    if (status < 400 || status > 599) {
      throw new Error(
        `--download-status: ${status} is not an error status. Use 400-599.`
      )
    }
    faults.push({
      endpoint: 'download',
      kind: 'status',
      status,
      times: Number.POSITIVE_INFINITY
    })
  }

  return faults
}

function readInteger(
  name: string,
  value: string | undefined
): number | undefined {
  if (value === undefined) {
    return undefined
  }

  if (!/^\d+$/.test(value)) {
    throw new Error(
      `--${name}: '${value}' is not a whole number. Use 0 or more.`
    )
  }

  return Number(value)
}

function readChoice<Name extends ChoiceName>(
  name: Name,
  value: string | undefined
): (typeof CHOICES)[Name][number] | undefined {
  if (value === undefined) {
    return undefined
  }

  const choices: readonly string[] = CHOICES[name]
  if (!choices.includes(value)) {
    throw new Error(
      `--${name}: '${value}' is not valid. Use one of: ${choices.join(', ')}.`
    )
  }

  return value as (typeof CHOICES)[Name][number]
}
