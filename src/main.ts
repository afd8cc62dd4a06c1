import * as core from '@actions/core'
import { runBackup } from './backup.js'
import { DocSpaceClient } from './docspace/client.js'
import { downloadArchive } from './docspace/download.js'
import { errorMessage } from './errors.js'
import { InputError, readInputs, type ActionInputs } from './inputs.js'
import {
  emptyReport,
  redact,
  setOutputs,
  writeSummary,
  type BackupReport
} from './report.js'
import { DEFAULT_RETRY_POLICY } from './retry.js'
import { storageTypeName } from './storage.js'
import { realNow, realSleep } from './time.js'

/** Time left for cancelling after SIGINT: the runner sends SIGTERM 7.5 s later. */
const CANCEL_REQUEST_TIMEOUT_MS = 5000

/** Runs the action: read inputs, start, wait, report. */
export async function run(signal?: AbortSignal): Promise<void> {
  const report = emptyReport()
  const secrets: string[] = []

  try {
    const { inputs, warnings } = readInputs()
    const authorization = authorizationHeader(inputs.apiKey)
    secrets.push(inputs.apiKey, authorization)
    warnings.forEach(warning => core.warning(warning))
    describeInputs(inputs, report)

    const deps = createDependencies(inputs, authorization, signal)
    await runBackup(inputs, deps, report)
  } catch (error) {
    // A server may echo a secret back in its error message.
    const message = redact(errorMessage(error), secrets)
    if (error instanceof InputError) {
      report.error = message
    } else {
      report.error ||= message
    }
    core.setFailed(message)
  } finally {
    secrets.push(report.link)
    report.error = redact(report.error, secrets)
    report.warning = redact(report.warning, secrets)
    setOutputs(report)
    await writeSummary(report, secrets).catch((error: unknown) =>
      core.warning(`Writing the job summary failed: ${errorMessage(error)}`)
    )
  }
}

/**
 * Returns the `Authorization` value: `Bearer <key>`, or the value as it is
 * when it already starts with `Bearer `. Masks both forms first.
 */
export function authorizationHeader(apiKey: string): string {
  const header = /^bearer /i.test(apiKey) ? apiKey : `Bearer ${apiKey}`
  core.setSecret(apiKey)
  core.setSecret(header)
  return header
}

function describeInputs(inputs: ActionInputs, report: BackupReport): void {
  report.portalHost = inputs.portalUrl.host
  report.storageTypeName = storageTypeName(inputs.storageType)
  report.dump = inputs.dump
  core.debug(
    `portal-url=${inputs.portalUrl.href} storage-type=${report.storageTypeName} ` +
      `storage-params keys=[${inputs.storageParams.map(param => param.key).join(', ')}] ` +
      `dump=${inputs.dump} wait=${inputs.wait} timeout=${inputs.timeoutSeconds}s ` +
      `poll-interval=${inputs.pollIntervalSeconds}s if-running=${inputs.ifRunning} ` +
      `cancel-if-unfinished=${inputs.cancelIfUnfinished}`
  )
}

function createDependencies(
  inputs: ActionInputs,
  authorization: string,
  signal: AbortSignal | undefined
) {
  const log = {
    info: (message: string) => core.info(message),
    warning: (message: string) => core.warning(message)
  }
  const client = new DocSpaceClient({
    baseUrl: inputs.portalUrl,
    authorization,
    log: log.info,
    signal
  })
  // Without the run's signal, so that it still works after a cancellation.
  const cancelClient = new DocSpaceClient({
    baseUrl: inputs.portalUrl,
    authorization,
    requestTimeoutMs: CANCEL_REQUEST_TIMEOUT_MS,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 },
    log: log.info
  })

  return {
    client,
    cancelBackup: () => cancelClient.cancelBackup(),
    readProgressAfterAbort: () => cancelClient.getBackupProgress(inputs.dump),
    download: (link: string, fileName: string) =>
      downloadArchive({
        link: new URL(link),
        portalUrl: inputs.portalUrl,
        authorization,
        destination: inputs.downloadPath,
        fileName,
        now: realNow,
        sleep: realSleep,
        log: log.info,
        signal
      }),
    now: realNow,
    sleep: realSleep,
    random: Math.random,
    retryPolicy: DEFAULT_RETRY_POLICY,
    log,
    group: core.group,
    signal
  }
}
