import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSelfSignedCertificate } from './certificate.js'
import { parseCliArgs, USAGE, type CliConfig } from './cli-args.js'
import type { RecordedRequest } from './recording.js'
import { startSimulator } from './server.js'

function logRequest(request: RecordedRequest): void {
  // The path leaves out the query, which can carry a link signature.
  process.stderr.write(`${request.method} ${request.path} ${request.status}\n`)
}

/**
 * Writes the certificate where a client can trust it, for example with
 * NODE_EXTRA_CA_CERTS, and returns the path and a cleanup function.
 */
function writeCertificate(cert: string): { path: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), 'docspace-simulator-'))
  const path = join(directory, 'cert.pem')
  writeFileSync(path, cert)

  return { path, remove: () => rmSync(directory, { recursive: true }) }
}

async function run(config: CliConfig): Promise<void> {
  const certificate = config.tls ? createSelfSignedCertificate() : undefined
  const certificateFile = certificate && writeCertificate(certificate.cert)

  const simulator = await startSimulator({
    ...config.options,
    port: config.port,
    tls: certificate,
    onRequest: logRequest
  })
  config.faults.forEach(fault => simulator.faults.add(fault))

  const ready = {
    url: simulator.url,
    apiKey: simulator.apiKey,
    ...(certificateFile ? { certificatePath: certificateFile.path } : {})
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
  process.stderr.write(`DocSpace simulator listening on ${simulator.url}\n`)

  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`DocSpace simulator stopping on ${signal}\n`)
    simulator
      .close()
      .finally(() => certificateFile?.remove())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`DocSpace simulator: close failed: ${error}\n`)
        process.exit(1)
      })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

function main(): void {
  let config: CliConfig
  try {
    config = parseCliArgs(process.argv.slice(2))
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${message}\n\n${USAGE}`)
    process.exit(2)
  }

  if (config.help) {
    process.stdout.write(USAGE)
    return
  }

  run(config).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`DocSpace simulator failed to start: ${message}\n`)
    process.exit(1)
  })
}

main()
