import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { request } from 'node:https'
import {
  createSelfSignedCertificate,
  type Certificate
} from '../../simulator/certificate.js'
import { startSimulator, type Simulator } from '../../simulator/server.js'

let simulator: Simulator
let certificate: Certificate

beforeAll(async () => {
  certificate = createSelfSignedCertificate()
  simulator = await startSimulator({ tls: certificate })
})

afterAll(async () => {
  await simulator.close()
})

function httpsGet(
  path: string,
  ca: string
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(path, simulator.url),
      { ca, headers: { Authorization: `Bearer ${simulator.apiKey}` } },
      response => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body })
        )
      }
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

describe('tls', () => {
  it('serves HTTPS on 127.0.0.1', async () => {
    const response = await httpsGet(
      '/api/2.0/backup/getbackupprogress',
      certificate.cert
    )

    expect(simulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toMatchObject({ count: 0 })
  })

  it('fails without the certificate as CA', async () => {
    const noTrustedCa = createSelfSignedCertificate().cert

    await expect(
      httpsGet('/api/2.0/backup/getbackupprogress', noTrustedCa)
    ).rejects.toThrow()
  })
})
