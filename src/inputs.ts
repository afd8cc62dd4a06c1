import * as core from '@actions/core'
import { parseDuration } from './duration.js'
import {
  LINKED_STORAGE_TYPES,
  parseStorageParams,
  parseStorageType,
  StorageType,
  storageTypeName,
  validateStorageParams,
  type StorageParam
} from './storage.js'

export type IfRunning = 'queue' | 'attach' | 'fail'

/** The action's inputs, checked and converted. */
export interface ActionInputs {
  /** The portal's base URL, always ending in `/`. */
  portalUrl: URL
  apiKey: string
  storageType: StorageType
  storageParams: StorageParam[]
  dump: boolean
  wait: boolean
  timeoutSeconds: number
  pollIntervalSeconds: number
  ifRunning: IfRunning
  cancelIfUnfinished: boolean
  /** The path to save the archive to; empty for no download. */
  downloadPath: string
}

/** Invalid inputs, one message per line, found before any request. */
export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'InputError'
  }
}

type GetInput = (name: string) => string

const MIN_POLL_INTERVAL_SECONDS = 1

/**
 * Reads and checks every input. Throws InputError listing all invalid inputs
 * at once. Returns warnings for valid but risky values.
 */
export function readInputs(getInput: GetInput = name => core.getInput(name)): {
  inputs: ActionInputs
  warnings: string[]
} {
  const problems: string[] = []
  const warnings: string[] = []
  const take = <T>(result: { value: T } | { error: string }, fallback: T) => {
    if ('error' in result) {
      problems.push(result.error)
      return fallback
    }
    return result.value
  }

  const portalUrl = take(parsePortalUrl(getInput('portal-url')), undefined)
  if (portalUrl && isPlainHttpToRemoteHost(portalUrl)) {
    warnings.push(
      `portal-url: ${portalUrl.origin} uses plain http, so the API key ` +
        'travels unencrypted. Use https://.'
    )
  }

  const apiKey = getInput('api-key').trim()
  if (apiKey === '' || /^bearer\s*$/i.test(apiKey)) {
    problems.push(
      'api-key: missing. Pass a DocSpace API key from a secret, ' +
        'e.g. api-key: ${{ secrets.DOCSPACE_API_KEY }}.'
    )
  }

  const storageType = take(
    parseStorageType(getInput('storage-type') || 'DataStore'),
    undefined
  )
  const storageParams = take(parseStorageParams(getInput('storage-params')), [])
  if (storageType !== undefined) {
    problems.push(...validateStorageParams(storageType, storageParams))
  }

  const dump = take(parseBoolean('dump', getInput('dump'), false), false)
  const wait = take(parseBoolean('wait', getInput('wait'), true), true)
  const cancelIfUnfinished = take(
    parseBoolean(
      'cancel-if-unfinished',
      getInput('cancel-if-unfinished'),
      false
    ),
    false
  )
  const ifRunning = take(parseIfRunning(getInput('if-running')), 'queue')
  const timeout = parseDurationInput('timeout', getInput('timeout'), '1h')
  const pollInterval = parseDurationInput(
    'poll-interval',
    getInput('poll-interval'),
    '5s'
  )
  const timeoutSeconds = take(timeout, 0)
  const pollIntervalSeconds = take(pollInterval, 0)
  if ('value' in timeout && 'value' in pollInterval) {
    problems.push(...checkTimes(timeoutSeconds, pollIntervalSeconds))
  }

  const downloadPath = getInput('download-path').trim()
  if (downloadPath !== '' && storageType !== undefined) {
    problems.push(...checkDownloadable(storageType, wait))
  }

  if (problems.length > 0 || !portalUrl || storageType === undefined) {
    throw new InputError(problems)
  }

  const inputs: ActionInputs = {
    portalUrl,
    apiKey,
    storageType,
    storageParams,
    dump,
    wait,
    timeoutSeconds,
    pollIntervalSeconds,
    ifRunning,
    cancelIfUnfinished,
    downloadPath
  }
  return { inputs, warnings }
}

/**
 * Parses `portal-url`: keeps a sub-path, drops a trailing `/api/2.0`, and
 * returns a base URL that ends in `/`.
 */
export function parsePortalUrl(
  text: string
): { value: URL } | { error: string } {
  const trimmed = text.trim()
  if (trimmed === '') {
    return {
      error:
        'portal-url: missing. Set it to your portal address, ' +
        'e.g. https://example.onlyoffice.com.'
    }
  }

  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      error:
        `portal-url: '${trimmed}' is not an http:// or https:// address. ` +
        'Use the full address, e.g. https://example.onlyoffice.com.'
    }
  }
  if (url.username || url.password) {
    return {
      error:
        'portal-url: remove the user name and password from the address; ' +
        'the action authenticates with api-key.'
    }
  }

  url.search = ''
  url.hash = ''
  url.pathname = url.pathname
    .replace(/\/+$/, '')
    .replace(/\/api\/2\.0$/i, '')
    .concat('/')

  return { value: url }
}

function isPlainHttpToRemoteHost(url: URL): boolean {
  const host = url.hostname
  const loopback =
    host === 'localhost' || host.startsWith('127.') || host === '[::1]'
  return url.protocol === 'http:' && !loopback
}

function parseBoolean(
  name: string,
  text: string,
  fallback: boolean
): { value: boolean } | { error: string } {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === '') {
    return { value: fallback }
  }
  if (trimmed === 'true' || trimmed === 'false') {
    return { value: trimmed === 'true' }
  }

  return { error: `${name}: '${text}' is not a boolean. Use true or false.` }
}

function parseIfRunning(
  text: string
): { value: IfRunning } | { error: string } {
  const trimmed = text.trim().toLowerCase() || 'queue'
  if (trimmed === 'queue' || trimmed === 'attach' || trimmed === 'fail') {
    return { value: trimmed }
  }

  return {
    error:
      `if-running: '${text}' is not accepted. Use queue (wait for the ` +
      'running backup, then start ours), attach (follow the running ' +
      'backup instead) or fail.'
  }
}

function parseDurationInput(
  name: string,
  text: string,
  fallback: string
): { value: number } | { error: string } {
  const seconds = parseDuration(text.trim() || fallback)
  if (seconds === undefined) {
    return {
      error:
        `${name}: '${text}' is not a duration. Use seconds (90), or a ` +
        'number with h, m and s units, e.g. 90s, 15m or 1h30m.'
    }
  }

  return { value: seconds }
}

function checkTimes(timeout: number, pollInterval: number): string[] {
  if (pollInterval < MIN_POLL_INTERVAL_SECONDS) {
    return [
      `poll-interval: ${pollInterval}s is too short. ` +
        `Use at least ${MIN_POLL_INTERVAL_SECONDS}s.`
    ]
  }
  if (timeout < pollInterval) {
    return [
      `timeout: ${timeout}s is shorter than poll-interval (${pollInterval}s). ` +
        'Use a timeout of at least one poll interval.'
    ]
  }

  return []
}

function checkDownloadable(type: StorageType, wait: boolean): string[] {
  const problems: string[] = []
  if (!LINKED_STORAGE_TYPES.includes(type)) {
    problems.push(
      `download-path: storage-type ${storageTypeName(type)} gives no ` +
        'download link. Downloads work with: ' +
        `${LINKED_STORAGE_TYPES.map(storageTypeName).join(', ')}.`
    )
  }
  if (!wait) {
    problems.push(
      'download-path: the archive can only be downloaded when wait is true.'
    )
  }

  return problems
}
