import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type Simulator } from '../../simulator/server.js'
import {
  call,
  getProgress,
  HISTORY_PATH,
  PROGRESS_PATH,
  responseOf,
  startBackup
} from './helpers.js'

let simulator: Simulator

beforeEach(async () => {
  simulator = await startSimulator()
})

afterEach(async () => {
  await simulator.close()
})

describe('status fault', () => {
  it('sends a 502 HTML page once', async () => {
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'status',
      status: 502,
      body: '<html><body>502 Bad Gateway</body></html>'
    })

    const failed = await getProgress(simulator)
    const next = await getProgress(simulator)

    expect(failed.status).toBe(502)
    expect(failed.headers.get('content-type')).toMatch(/^text\/html/)
    expect(failed.text).toContain('Bad Gateway')
    expect(next.status).toBe(200)
  })

  it('sends 429 with Retry-After', async () => {
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '3' }
    })

    const result = await getProgress(simulator)

    expect(result.status).toBe(429)
    expect(result.headers.get('retry-after')).toBe('3')
    expect(result.text).toBe('')
  })

  it('applies n times', async () => {
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'status',
      status: 503,
      times: 2
    })

    const statuses = []
    for (let i = 0; i < 3; i++) {
      statuses.push((await getProgress(simulator)).status)
    }

    expect(statuses).toEqual([503, 503, 200])
    expect(simulator.faults.pending()).toEqual([])
  })

  it('skips other endpoints', async () => {
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'status',
      status: 500
    })

    const progress = await getProgress(simulator)

    expect(progress.status).toBe(200)
    expect(simulator.faults.pending()).toHaveLength(1)
  })

  it('matches any path with *', async () => {
    simulator.faults.add({ endpoint: '*', kind: 'status', status: 503 })

    const result = await call(simulator, '/no/such/path')

    expect(result.status).toBe(503)
  })

  it('leaves the job untouched on startbackup', async () => {
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'status',
      status: 502
    })

    await startBackup(simulator)

    expect(simulator.startedCount()).toBe(0)
  })
})

describe('connection faults', () => {
  it('reset drops startbackup before creating the job', async () => {
    simulator.faults.add({ endpoint: 'startbackup', kind: 'reset' })

    await expect(startBackup(simulator)).rejects.toThrow()

    expect(simulator.startedCount()).toBe(0)
    expect(simulator.requests[0]?.status).toBe(0)
  })

  it('reset-after-create creates the job', async () => {
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'reset-after-create'
    })

    await expect(startBackup(simulator)).rejects.toThrow()
    const progress = await getProgress(simulator)

    expect(simulator.startedCount()).toBe(1)
    expect(responseOf(progress).taskId).toBe(simulator.jobs()[0]?.taskId)
    expect(simulator.requests[0]?.status).toBe(0)
  })

  it('delay holds the response after handling', async () => {
    simulator.faults.add({ endpoint: 'startbackup', kind: 'delay', ms: 300 })
    const before = Date.now()

    const pending = startBackup(simulator)
    await new Promise(resolve => setTimeout(resolve, 100))
    const startedWhileHeld = simulator.startedCount()
    const result = await pending

    expect(startedWhileHeld).toBe(1)
    expect(result.status).toBe(200)
    expect(Date.now() - before).toBeGreaterThanOrEqual(290)
  })

  it('hang never answers', async () => {
    simulator.faults.add({ endpoint: 'getbackupprogress', kind: 'hang' })

    const request = fetch(`${simulator.url}${PROGRESS_PATH}`, {
      headers: { Authorization: `Bearer ${simulator.apiKey}` },
      signal: AbortSignal.timeout(200)
    })

    await expect(request).rejects.toThrow()
    expect(simulator.requests[0]?.status).toBe(0)
  })

  it('close ends a hung request', async () => {
    simulator.faults.add({ endpoint: 'getbackupprogress', kind: 'hang' })
    const request = getProgress(simulator)
    await new Promise(resolve => setTimeout(resolve, 50))

    await simulator.close()

    await expect(request).rejects.toThrow()
  })
})

describe('response faults', () => {
  it('html-200 sends a maintenance page', async () => {
    simulator.faults.add({ endpoint: 'getbackupprogress', kind: 'html-200' })

    const result = await getProgress(simulator)

    expect(result.status).toBe(200)
    expect(result.headers.get('content-type')).toMatch(/^text\/html/)
    expect(result.json).toBeUndefined()
  })

  it('redirect sends Location', async () => {
    simulator.faults.add({
      endpoint: 'getbackuphistory',
      kind: 'redirect',
      status: 302,
      location: `${simulator.url}/login`
    })

    const result = await call(simulator, HISTORY_PATH)

    expect(result.status).toBe(302)
    expect(result.headers.get('location')).toBe(`${simulator.url}/login`)
  })

  it('revoke-key rejects the key from then on', async () => {
    simulator.faults.add({ endpoint: 'getbackupprogress', kind: 'revoke-key' })

    const first = await getProgress(simulator)
    const second = await getProgress(simulator)

    expect(first.status).toBe(401)
    expect(first.text).toBe('')
    expect(second.status).toBe(401)
  })

  it('wrong-length cuts a JSON body short', async () => {
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'wrong-length'
    })

    await expect(getProgress(simulator)).rejects.toThrow()
  })
})
