import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  createSelfSignedCertificate,
  generateArchive
} from '../../simulator/server.js'
import { logWithoutMasks, requestsTo, runStep } from './helpers.js'
import {
  addressOf,
  createCaSignedCertificate,
  hostsFileAlias,
  useServers
} from './test-servers.js'

const servers = useServers()

const PROGRESS_PATH = '/api/2.0/backup/getbackupprogress'
const START_PATH = '/api/2.0/backup/startbackup'

/**
 * A name under the reserved .test domain. The action sends it to the proxy in
 * each CONNECT request and never resolves it.
 */
const PROXIED_HOST = 'portal.example.test'

/**
 * Makes the action's lookups of *.test names fail at once, so that a proxy
 * the action ignored would not send a DNS query off the machine.
 */
const BLOCK_TEST_DNS = `--import=${new URL('./block-test-dns.mjs', import.meta.url).href}`

const selfSigned = createSelfSignedCertificate()
const caSigned = createCaSignedCertificate()
const trustDirectory = mkdtempSync(join(tmpdir(), 'docspace-e2e-trust-'))

/** Writes a PEM file for NODE_EXTRA_CA_CERTS and returns its path. */
function trustFile(name: string, pem: string): string {
  const path = join(trustDirectory, name)
  writeFileSync(path, pem)

  return path
}

/** A portal certificate and the CA file that makes Node trust it. */
interface TlsCase {
  tls: { key: string; cert: string }
  caFile: string
}

const selfSignedCaFile = trustFile('self-signed.pem', selfSigned.cert)

const TLS_CASES: [string, TlsCase][] = [
  ['self-signed', { tls: selfSigned, caFile: selfSignedCaFile }],
  ['CA-signed', { tls: caSigned, caFile: trustFile('ca.pem', caSigned.ca) }]
]

afterAll(() => {
  rmSync(trustDirectory, { recursive: true, force: true })
})

describe('redirects', () => {
  it.concurrent.each([
    ['getbackupprogress', 302, PROGRESS_PATH],
    ['startbackup', 307, START_PATH]
  ] as const)(
    '%s to another host: rejected',
    async (endpoint, status, path) => {
      const simulator = await servers.simulator()
      const otherHost = await servers.recorder('127.0.0.2')
      simulator.faults.add({
        endpoint,
        kind: 'redirect',
        status,
        location: `${otherHost.url}${path}`
      })

      const run = await runStep(simulator)

      expect(run.exitCode).toBe(1)
      expect(run.outputs.error).toContain('redirected to another host')
      expect(run.outputs.error).toContain(new URL(otherHost.url).host)
      expect(otherHost.authorizationSeen).not.toContain(true)
      expect(simulator.startedCount()).toBe(0)
    }
  )

  it.concurrent('https to http: rejected', async () => {
    const simulator = await servers.simulator({ tls: selfSigned })
    const plainHost = await servers.recorder('127.0.0.1')
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'redirect',
      status: 301,
      location: `${plainHost.url}${PROGRESS_PATH}`
    })

    const run = await runStep(
      simulator,
      {},
      { env: { NODE_EXTRA_CA_CERTS: selfSignedCaFile } }
    )

    expect(run.exitCode).toBe(1)
    expect(run.outputs.error).toContain('redirected from https to http')
    expect(plainHost.authorizationSeen).not.toContain(true)
    expect(simulator.startedCount()).toBe(0)
  })
})

describe('proxy', () => {
  it.concurrent('HTTP_PROXY: completes through it', async () => {
    const simulator = await servers.simulator()
    const proxy = await servers.proxy(addressOf(simulator))

    const run = await runStep(
      simulator,
      { 'portal-url': `http://${PROXIED_HOST}` },
      {
        env: {
          HTTP_PROXY: proxy.url,
          HTTPS_PROXY: proxy.url,
          NODE_OPTIONS: BLOCK_TEST_DNS
        }
      }
    )

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    // @actions/http-client opens one tunnel per request without keep-alive.
    expect(proxy.requests).toHaveLength(simulator.requests.length)
    for (const request of proxy.requests) {
      expect(request).toEqual({
        method: 'CONNECT',
        target: `${PROXIED_HOST}:80`
      })
    }
  })

  // The action must reach the simulator without the proxy, so the host needs
  // a name that resolves locally, because a .test name would go to the DNS
  // server.
  const alias = hostsFileAlias()
  const itWithAlias = alias ? it.concurrent : it.skip

  itWithAlias('NO_PROXY: bypasses it', async () => {
    const simulator = await servers.simulator()
    const proxy = await servers.proxy(addressOf(simulator))
    const { port } = addressOf(simulator)

    const run = await runStep(
      simulator,
      { 'portal-url': `http://${alias}:${port}` },
      {
        env: {
          HTTP_PROXY: proxy.url,
          HTTPS_PROXY: proxy.url,
          NO_PROXY: alias!
        }
      }
    )

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(proxy.requests).toEqual([])
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(1)
  })
})

describe('tls', () => {
  it.concurrent.each(TLS_CASES)(
    '%s certificate not trusted: fails',
    async (_name, { tls }) => {
      const simulator = await servers.simulator({ tls })

      const run = await runStep(simulator)

      expect(run.exitCode).toBe(1)
      expect(run.outputs.status).toBe('failed')
      expect(run.outputs.error).toContain('NODE_EXTRA_CA_CERTS')
      expect(simulator.requests).toEqual([])
      // An untrusted certificate stays untrusted: retrying only delays the
      // error by up to 15 s and repeats it four times in the log.
      expect(logWithoutMasks(run.stdout)).not.toContain('(attempt 1 of 5)')
    }
  )

  it.concurrent.each(TLS_CASES)(
    '%s certificate trusted: completes',
    async (_name, { tls, caFile }) => {
      const simulator = await servers.simulator({ tls })

      const run = await runStep(
        simulator,
        {},
        { env: { NODE_EXTRA_CA_CERTS: caFile } }
      )

      expect(simulator.url).toMatch(/^https:/)
      expect(run.exitCode).toBe(0)
      expect(run.outputs.status).toBe('completed')
      expect(simulator.startedCount()).toBe(1)
    }
  )
})

describe('download', () => {
  /** A little over 1 MiB, so the body spans many socket reads. */
  const ARCHIVE_BYTES = 1024 * 1024 + 13

  /** Checks that the run saved exactly the archive the simulator serves. */
  function expectSavedArchive(run: ActionRun): void {
    expect(run.exitCode).toBe(0)
    const saved = readFileSync(run.outputs['archive-path'] ?? '')
    const served = generateArchive(
      run.outputs['file-name'] ?? '',
      ARCHIVE_BYTES
    )
    expect(saved.equals(served)).toBe(true)
  }

  it.concurrent('over https: saves the archive', async () => {
    const simulator = await servers.simulator({
      tls: selfSigned,
      archiveBytes: ARCHIVE_BYTES
    })

    const run = await runStep(
      simulator,
      { 'download-path': `${join(trustDirectory, 'https')}/` },
      { env: { NODE_EXTRA_CA_CERTS: selfSignedCaFile } }
    )

    expect(simulator.url).toMatch(/^https:/)
    expectSavedArchive(run)
    expect(requestsTo(simulator, 'download')).toHaveLength(1)
  })

  it.concurrent('over https: refuses a redirect to http', async () => {
    const plain = await servers.simulator({ archiveBytes: ARCHIVE_BYTES })
    const simulator = await servers.simulator({
      tls: selfSigned,
      archiveBytes: ARCHIVE_BYTES
    })
    simulator.faults.add({
      endpoint: 'download',
      kind: 'redirect',
      status: 302,
      location: `${plain.url}/studio/1/backup/archive.tar.gz`
    })

    const run = await runStep(
      simulator,
      { 'download-path': `${join(trustDirectory, 'downgrade')}/` },
      { env: { NODE_EXTRA_CA_CERTS: selfSignedCaFile } }
    )

    expect(run.exitCode).toBe(1)
    expect(run.outputs.error).toMatch(/redirected from HTTPS to HTTP/)
    expect(run.outputs['archive-path']).toBe('')
    expect(plain.requests).toHaveLength(0)
  })

  it.concurrent('http portal moved to https: sends the key', async () => {
    const simulator = await servers.simulator({
      tls: selfSigned,
      archiveBytes: ARCHIVE_BYTES
    })
    const front = await servers.redirector(simulator.url)

    const run = await runStep(
      simulator,
      {
        'portal-url': front.url,
        'download-path': `${join(trustDirectory, 'upgrade')}/`
      },
      { env: { NODE_EXTRA_CA_CERTS: selfSignedCaFile } }
    )

    expectSavedArchive(run)
    expect(requestsTo(simulator, 'download')[0]?.hasAuthorization).toBe(true)
  })

  it.concurrent('through HTTP_PROXY: saves the archive', async () => {
    const simulator = await servers.simulator({ archiveBytes: ARCHIVE_BYTES })
    const proxy = await servers.proxy(addressOf(simulator))

    const run = await runStep(
      simulator,
      {
        'portal-url': `http://${PROXIED_HOST}`,
        'download-path': `${join(trustDirectory, 'proxy')}/`
      },
      {
        env: {
          HTTP_PROXY: proxy.url,
          HTTPS_PROXY: proxy.url,
          NODE_OPTIONS: BLOCK_TEST_DNS
        }
      }
    )

    expectSavedArchive(run)
    expect(requestsTo(simulator, 'download')).toHaveLength(1)
    expect(proxy.requests.at(-1)).toEqual({
      method: 'CONNECT',
      target: `${PROXIED_HOST}:80`
    })
  })
})
