import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { request as httpRequest } from 'node:http'
import {
  generateArchive,
  startSimulator,
  type Simulator,
  type SimulatorOptions
} from '../../simulator/server.js'
import { responseOf, startBackup } from './helpers.js'

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Whether the whole declared body arrived before the connection closed. */
  complete: boolean
}

let simulator: Simulator

beforeEach(async () => {
  simulator = await startSimulator({ queuedMs: 0, jobMs: 0 })
})

afterEach(async () => {
  await simulator.close()
})

async function restart(options: SimulatorOptions): Promise<void> {
  await simulator.close()
  simulator = await startSimulator({ queuedMs: 0, jobMs: 0, ...options })
}

/** Runs a backup that completes at once and returns its link. */
async function finishedLink(body?: unknown): Promise<string> {
  const progress = responseOf(await startBackup(simulator, body))
  expect(progress.isCompleted).toBe(true)

  return progress.link as string
}

function fileNameOf(link: string): string {
  return new URL(link, simulator.url).pathname.split('/').at(-1) ?? ''
}

// node:http shows what arrived before a broken connection, which fetch hides.
function rawGet(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET'
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      new URL(path, simulator.url),
      { method, headers, agent: false },
      response => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', () => undefined)
        response.on('close', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
            complete: response.complete
          })
        )
      }
    )
    request.on('error', reject)
    request.end()
  })
}

describe('download', () => {
  it('serves a DataStore archive without a key', async () => {
    const link = await finishedLink()

    const response = await rawGet(link)

    expect(response.status).toBe(200)
    expect(response.complete).toBe(true)
    expect(response.headers['content-length']).toBe('65536')
    expect(response.headers['accept-ranges']).toBe('bytes')
    expect(response.body.equals(generateArchive(fileNameOf(link), 65536))).toBe(
      true
    )
    expect(simulator.requests.at(-1)?.endpoint).toBe('download')
    expect(simulator.requests.at(-1)?.hasAuthorization).toBe(false)
  })

  it('streams a large archive', async () => {
    simulator.options.archiveBytes = 3 * 1024 * 1024 + 7
    const link = await finishedLink()

    const response = await rawGet(link)

    expect(response.body.length).toBe(3 * 1024 * 1024 + 7)
    expect(
      response.body.equals(
        generateArchive(fileNameOf(link), 3 * 1024 * 1024 + 7)
      )
    ).toBe(true)
  })

  it('serves under a path prefix', async () => {
    const link = await finishedLink()

    const response = await rawGet(`/docspace${link}`)

    expect(response.status).toBe(200)
  })

  it('serves a ThirdPartyConsumer link', async () => {
    const link = await finishedLink({
      storageType: 5,
      storageParams: [{ key: 'module', value: 's3' }]
    })

    const response = await rawGet(link)

    expect(link.startsWith(simulator.url)).toBe(true)
    expect(response.status).toBe(200)
  })

  it('answers HEAD without a body', async () => {
    const link = await finishedLink()

    const response = await rawGet(link, {}, 'HEAD')

    expect(response.status).toBe(200)
    expect(response.headers['content-length']).toBe('65536')
    expect(response.body.length).toBe(0)
  })

  it('rejects a bad signature with 403', async () => {
    const link = await finishedLink()

    const response = await rawGet(link.replace(/signature=./, 'signature=x'))

    expect(response.status).toBe(403)
  })

  it('accepts the key instead of a signature', async () => {
    const link = await finishedLink()

    const response = await rawGet(link.split('?')[0] ?? '', {
      Authorization: `Bearer ${simulator.apiKey}`
    })

    expect(response.status).toBe(200)
    expect(simulator.requests.at(-1)?.hasAuthorization).toBe(true)
  })

  it('answers an unknown archive with 404', async () => {
    const response = await rawGet('/studio/1/backup/none.tar.gz', {
      Authorization: `Bearer ${simulator.apiKey}`
    })

    expect(response.status).toBe(404)
  })
})

describe('download ranges', () => {
  it('resumes from an offset with 206', async () => {
    const link = await finishedLink()
    const archive = generateArchive(fileNameOf(link), 65536)

    const response = await rawGet(link, { Range: 'bytes=1000-' })

    expect(response.status).toBe(206)
    expect(response.headers['content-range']).toBe('bytes 1000-65535/65536')
    expect(response.headers['content-length']).toBe('64536')
    expect(response.body.equals(archive.subarray(1000))).toBe(true)
  })

  it('serves a closed range', async () => {
    const link = await finishedLink()
    const archive = generateArchive(fileNameOf(link), 65536)

    const response = await rawGet(link, { Range: 'bytes=10-19' })

    expect(response.headers['content-range']).toBe('bytes 10-19/65536')
    expect(response.body.equals(archive.subarray(10, 20))).toBe(true)
  })

  it('serves a suffix range', async () => {
    const link = await finishedLink()
    const archive = generateArchive(fileNameOf(link), 65536)

    const response = await rawGet(link, { Range: 'bytes=-100' })

    expect(response.status).toBe(206)
    expect(response.body.equals(archive.subarray(65436))).toBe(true)
  })

  it('rejects a range past the end with 416', async () => {
    const link = await finishedLink()

    const response = await rawGet(link, { Range: 'bytes=65536-' })

    expect(response.status).toBe(416)
    expect(response.headers['content-range']).toBe('bytes */65536')
  })

  it('ignores a malformed range', async () => {
    const link = await finishedLink()

    const response = await rawGet(link, { Range: 'bytes=a-b' })

    expect(response.status).toBe(200)
    expect(response.body.length).toBe(65536)
  })

  it('ignores ranges when told to', async () => {
    await restart({ ignoreRange: true })
    const link = await finishedLink()

    const response = await rawGet(link, { Range: 'bytes=1000-' })

    expect(response.status).toBe(200)
    expect(response.headers['accept-ranges']).toBeUndefined()
    expect(response.body.length).toBe(65536)
  })
})

describe('download faults', () => {
  it('reset-mid-body stops after the given bytes', async () => {
    const link = await finishedLink()
    simulator.faults.add({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: 1000
    })

    const response = await rawGet(link)

    expect(response.status).toBe(200)
    expect(response.headers['content-length']).toBe('65536')
    expect(response.complete).toBe(false)
    expect(response.body.length).toBe(1000)
  })

  it('wrong-length declares more than it sends', async () => {
    const link = await finishedLink()
    simulator.faults.add({ endpoint: 'download', kind: 'wrong-length' })

    const response = await rawGet(link)

    expect(Number(response.headers['content-length'])).toBeGreaterThan(65536)
    expect(response.complete).toBe(false)
    expect(response.body.length).toBe(65536)
  })

  it('fetch reports a cut body as an error', async () => {
    const link = await finishedLink()
    simulator.faults.add({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: 10
    })

    const response = await fetch(new URL(link, simulator.url))

    await expect(response.arrayBuffer()).rejects.toThrow()
  })
})
