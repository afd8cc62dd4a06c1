import { describe, expect, it } from '@jest/globals'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import type {
  Fault,
  Simulator,
  SimulatorOptions
} from '../../simulator/server.js'
import {
  commandMessages,
  logWithoutMasks,
  requestsTo,
  runStep
} from './helpers.js'
import { passRequests, useServers } from './test-servers.js'

const servers = useServers()

// Distinctive values, so that a match anywhere can only be a leak.
const API_KEY = 'sk-e2e-4b9d2c71f0'
const BUCKET = 'bucket-7f3a9'
const REGION = 'region-e2e-5d81'
const SERVICE_URL = 'https://objects-e2e-2c4e.example.test'
const ACCESS_KEY = 'AKIAE2E6B1F6B0C3'
const SECRET_ACCESS_KEY = 'e2e-secret-8c3d-1a7f'

const STORAGE_PARAMS = [
  'module=s3',
  `bucket=${BUCKET}`,
  `region=${REGION}`,
  `serviceurl=${SERVICE_URL}`
].join('\n')

const BASE_INPUTS = {
  'api-key': API_KEY,
  'storage-type': 'ThirdPartyConsumer',
  'storage-params': STORAGE_PARAMS
}

interface Scenario {
  name: string
  options?: SimulatorOptions
  /** Adds faults once the simulator is up. */
  faults?: (simulator: Simulator) => void
  inputs?: Record<string, string>
  exitCode: number
  /** False when the action stops before any request. */
  sendsRequests: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'success', exitCode: 0, sendsRequests: true },
  {
    name: 'failed backup',
    options: { outcome: 'error', errorMessage: 'The upload was rejected.' },
    exitCode: 1,
    sendsRequests: true
  },
  {
    name: 'timeout with cancel',
    options: { jobMs: 60_000 },
    inputs: { timeout: '2s', 'cancel-if-unfinished': 'true' },
    exitCode: 1,
    sendsRequests: true
  },
  {
    name: 'fault retries',
    faults: simulator => {
      const faults: Fault[] = [
        { endpoint: 'startbackup', kind: 'reset-after-create' },
        { endpoint: 'getbackupprogress', kind: 'status', status: 502 },
        { endpoint: 'getbackuphistory', kind: 'status', status: 503 }
      ]
      // Past the check before the start and the check after the reset.
      passRequests(simulator, 'getbackupprogress', 2)
      faults.forEach(fault => simulator.faults.add(fault))
    },
    exitCode: 0,
    sendsRequests: true
  },
  {
    name: 'input error with credentials',
    inputs: {
      'storage-params': [
        STORAGE_PARAMS,
        `acesskey=${ACCESS_KEY}`,
        `secretaccesskey=${SECRET_ACCESS_KEY}`
      ].join('\n')
    },
    exitCode: 1,
    sendsRequests: false
  },
  {
    name: 'server echoes the key',
    faults: simulator =>
      simulator.faults.add({
        endpoint: 'startbackup',
        kind: 'status',
        status: 400,
        body: JSON.stringify({
          error: { message: `The token Bearer ${API_KEY} is not valid.` },
          status: 1,
          statusCode: 400
        })
      }),
    exitCode: 1,
    sendsRequests: true
  }
]

/** Names each secret that occurs outside `::add-mask::` lines, and where. */
function findLeaks(run: ActionRun, secrets: Record<string, string>): string[] {
  const places: Record<string, string> = {
    stdout: logWithoutMasks(run.stdout),
    stderr: run.stderr,
    summary: run.summary
  }
  for (const [name, value] of Object.entries(run.outputs)) {
    if (name !== 'link') {
      places[`output ${name}`] = value
    }
  }

  const leaks: string[] = []
  for (const [place, text] of Object.entries(places)) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret !== '' && text.includes(secret)) {
        leaks.push(`${name} in ${place}`)
      }
    }
  }

  return leaks
}

/** Returns the download link as the server sent it and without its origin. */
function serverLinks(simulator: Simulator): string[] {
  const link = simulator.jobs()[0]?.progress.link ?? ''
  if (link === '') {
    return []
  }
  const url = new URL(link, simulator.url)

  return [link, `${url.pathname}${url.search}`]
}

describe('secrets', () => {
  it.concurrent.each(
    SCENARIOS.map(scenario => [scenario.name, scenario] as const)
  )('%s: nothing leaks', async (_name, scenario) => {
    const simulator = await servers.simulator({
      ...scenario.options,
      apiKeys: [API_KEY]
    })
    scenario.faults?.(simulator)

    const run = await runStep(simulator, {
      ...BASE_INPUTS,
      ...scenario.inputs
    })
    const [link, linkPath] = serverLinks(simulator)
    const secrets = {
      'api-key': API_KEY,
      'Bearer header': `Bearer ${API_KEY}`,
      bucket: BUCKET,
      region: REGION,
      serviceurl: SERVICE_URL,
      acesskey: ACCESS_KEY,
      secretaccesskey: SECRET_ACCESS_KEY,
      'link output': run.outputs.link ?? '',
      'server link': link ?? '',
      'link path': linkPath ?? ''
    }

    expect(run.exitCode).toBe(scenario.exitCode)
    expect(simulator.faults.pending()).toEqual([])
    expect(findLeaks(run, secrets)).toEqual([])
    if (scenario.exitCode === 0) {
      expect(run.outputs.link).not.toBe('')
    }
    if (scenario.sendsRequests) {
      // The values were in play: the action sent them to the portal.
      expect(requestsTo(simulator, 'startbackup')[0]?.body).toMatchObject({
        storageParams: expect.arrayContaining([
          { key: 'bucket', value: BUCKET },
          { key: 'region', value: REGION }
        ])
      })
    } else {
      expect(simulator.requests).toEqual([])
    }
  })

  it.concurrent('key masked before any request', async () => {
    const simulator = await servers.simulator({ apiKeys: [API_KEY] })

    const run = await runStep(simulator, BASE_INPUTS)
    // The first group, "Starting backup", opens before the first request.
    const beforeRequests = run.stdout.slice(0, run.stdout.search(/^::group::/m))
    const masks = commandMessages(beforeRequests, 'add-mask')

    expect(run.exitCode).toBe(0)
    expect(masks).toContain(API_KEY)
    expect(masks).toContain(`Bearer ${API_KEY}`)
  })
})
