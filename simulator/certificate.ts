import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Certificate {
  key: string
  cert: string
}

/**
 * Creates a throwaway self-signed certificate for 127.0.0.1, valid one day.
 * Node has no API to issue certificates, so this runs the `openssl` command,
 * which must be on the PATH.
 */
export function createSelfSignedCertificate(): Certificate {
  const directory = mkdtempSync(join(tmpdir(), 'docspace-simulator-tls-'))
  const keyPath = join(directory, 'key.pem')
  const certPath = join(directory, 'cert.pem')

  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1'
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    )

    return {
      key: readFileSync(keyPath, 'utf8'),
      cert: readFileSync(certPath, 'utf8')
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}
