import { describe, expect, it } from '@jest/globals'
import {
  STACK_TRACE_MARKER,
  type FaultKind,
  type SimulatorOptions
} from '../../simulator/server.js'
import {
  commandMessages,
  endpointsOf,
  logWithoutMasks,
  onceStdoutMatches,
  requestsTo,
  runStep,
  RUNNING_LINE
} from './helpers.js'
import { passRequests, useServers } from './test-servers.js'

// The action's real retry policy applies here: 5 attempts, backoff from 1 s.
// Each test adds only a fault or two, and the tests run concurrently.
//
// NOTE: a response delayed past the 30 s per-request timeout is not covered,
// because no input shortens that timeout and each attempt would wait 30 s.
// __tests__/docspace/client.test.ts and __tests__/start.test.ts cover it.

const servers = useServers()

/** A job that runs long enough for a fault to hit a poll while it runs. */
const LONG_JOB: SimulatorOptions = { queuedMs: 200, jobMs: 3000 }

type FaultSpec = FaultKind & { times?: number }

/** The part of a .NET stack trace that must never reach the log. */
const STACK = [
  `   at ${STACK_TRACE_MARKER}.StartBackupAsync(BackupDto inDto)`,
  '   at lambda_method1187(Closure, Object)'
].join('\n')

function proxyErrorPage(status: number, reason: string): string {
  return (
    `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n` +
    `<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n` +
    '<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n'
  )
}

/** Builds the DocSpace error envelope of a .NET exception, stack included. */
function exceptionEnvelope(
  status: number,
  type: string,
  message: string
): string {
  return JSON.stringify({
    error: { message, type, stack: STACK, hresult: -2146233088 },
    status: 1,
    statusCode: status
  })
}

const VALIDATION_ENVELOPE = JSON.stringify({
  response: {
    type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    title: 'One or more validation errors occurred.',
    status: 400,
    errors: {
      '$.storageType': [
        'The JSON value could not be converted to ' +
          'ASC.Data.Backup.Contracts.BackupStorageType.'
      ]
    },
    traceId: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'
  },
  count: 1,
  links: [],
  status: 1,
  statusCode: 400
})

const PROBLEM_DETAILS = JSON.stringify({
  type: 'https://tools.ietf.org/html/rfc9110#section-15.5.4',
  title: 'Forbidden',
  status: 403,
  traceId: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'
})

/** The end of a server message too long to show in full. */
const HUGE_MESSAGE_TAIL = 'END-OF-HUGE-MESSAGE'

describe('startbackup faults', () => {
  it.concurrent('reset before create: starts again once', async () => {
    const simulator = await servers.simulator()
    simulator.faults.add({ endpoint: 'startbackup', kind: 'reset' })

    const run = await runStep(simulator)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    // The progress check comes between the lost start and the second one.
    expect(endpointsOf(simulator).slice(0, 4)).toEqual([
      'getbackupprogress',
      'startbackup',
      'getbackupprogress',
      'startbackup'
    ])
  })

  it.concurrent('reset after create: adopts the job', async () => {
    const simulator = await servers.simulator()
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'reset-after-create'
    })

    const run = await runStep(simulator)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(1)
    expect(run.outputs['task-id']).toBe(simulator.jobs()[0]?.taskId)
  })

  it.concurrent('503 HTML: one job', async () => {
    const simulator = await servers.simulator()
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'status',
      status: 503,
      body: proxyErrorPage(503, 'Service Temporarily Unavailable')
    })

    const run = await runStep(simulator)
    const starts = requestsTo(simulator, 'startbackup')

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    expect(starts.map(request => request.status)).toEqual([503, 200])
  })

  it.concurrent('429 with Retry-After: waits, one job', async () => {
    const simulator = await servers.simulator()
    // 2 s is longer than the first backoff (at most 1 s), so only the
    // header can explain the wait.
    simulator.faults.add({
      endpoint: 'startbackup',
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '2' }
    })

    const run = await runStep(simulator)
    const [first, second] = requestsTo(simulator, 'startbackup')

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.startedCount()).toBe(1)
    expect(first?.status).toBe(429)
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000)
  })
})

describe('getbackupprogress faults mid-wait', () => {
  const transient: [string, FaultSpec][] = [
    [
      '502 HTML once',
      { kind: 'status', status: 502, body: proxyErrorPage(502, 'Bad Gateway') }
    ],
    [
      '503 HTML twice',
      {
        kind: 'status',
        status: 503,
        body: proxyErrorPage(503, 'Service Temporarily Unavailable'),
        times: 2
      }
    ],
    [
      '504 HTML once',
      {
        kind: 'status',
        status: 504,
        body: proxyErrorPage(504, 'Gateway Time-out')
      }
    ],
    ['maintenance page with 200', { kind: 'html-200' }],
    ['connection reset', { kind: 'reset' }]
  ]

  it.concurrent.each(transient)('%s: retried', async (_name, fault) => {
    const simulator = await servers.simulator(LONG_JOB)
    // The first request checks for a running job and the second is the
    // first poll, so the fault hits while the job runs.
    passRequests(simulator, 'getbackupprogress', 2)
    simulator.faults.add({ endpoint: 'getbackupprogress', ...fault })

    const run = await runStep(simulator)
    const log = logWithoutMasks(run.stdout)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.faults.pending()).toEqual([])
    for (let attempt = 1; attempt <= (fault.times ?? 1); attempt++) {
      expect(log).toContain(
        `getbackupprogress failed (attempt ${attempt} of 5)`
      )
    }
    expect(log).not.toMatch(/<(?:!doctype|html|head|body)/i)
  })

  it.concurrent('revoked key: fails at once', async () => {
    const simulator = await servers.simulator(LONG_JOB)
    passRequests(simulator, 'getbackupprogress', 2)
    simulator.faults.add({ endpoint: 'getbackupprogress', kind: 'revoke-key' })

    const run = await runStep(simulator)
    const rejected = requestsTo(simulator, 'getbackupprogress').filter(
      request => request.status === 401
    )

    expect(run.exitCode).toBe(1)
    expect(run.outputs.error).toContain('failed with 401')
    expect(run.outputs.error).toContain('did not accept the API key')
    expect(rejected).toHaveLength(1)
  })

  it.concurrent('job vanished: fails', async () => {
    const simulator = await servers.simulator(LONG_JOB)

    const run = await runStep(
      simulator,
      {},
      {
        onStdout: onceStdoutMatches(RUNNING_LINE, () => simulator.expireJob())
      }
    )

    expect(run.exitCode).toBe(1)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.error).toContain('is no longer on the portal')
    expect(simulator.startedCount()).toBe(1)
  })

  it.concurrent('slow server: completes', async () => {
    const simulator = await servers.simulator()
    simulator.faults.add({ endpoint: 'startbackup', kind: 'delay', ms: 2000 })
    passRequests(simulator, 'getbackupprogress', 1)
    simulator.faults.add({
      endpoint: 'getbackupprogress',
      kind: 'delay',
      ms: 2000
    })

    const run = await runStep(simulator)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('completed')
    expect(simulator.faults.pending()).toEqual([])
    expect(requestsTo(simulator, 'startbackup')).toHaveLength(1)
    expect(simulator.startedCount()).toBe(1)
  })
})

interface ErrorBodyCase {
  name: string
  fault?: FaultSpec
  options?: SimulatorOptions
  inputs?: Record<string, string>
  /** Each must match the `error` output and the error annotation. */
  expected: RegExp[]
}

const ERROR_BODIES: ErrorBodyCase[] = [
  {
    name: 'empty 401',
    fault: { kind: 'status', status: 401 },
    expected: [/failed with 401: /, /did not accept the API key/]
  },
  {
    name: 'empty 403',
    fault: { kind: 'status', status: 403 },
    expected: [/failed with 403: /, /lacks the permission/]
  },
  {
    name: '403 Access denied envelope',
    fault: {
      kind: 'status',
      status: 403,
      body: exceptionEnvelope(
        403,
        'System.Security.SecurityException',
        'Access denied'
      )
    },
    expected: [/failed with 403 Access denied/, /owner or a DocSpace admin/]
  },
  {
    name: '402 free backups used up',
    options: { freeBackups: 0 },
    expected: [
      /failed with 402 The number of free backups should not exceed 0/,
      /paid Backup service/
    ]
  },
  {
    name: '400 validation envelope',
    fault: { kind: 'status', status: 400, body: VALIDATION_ENVELOPE },
    expected: [
      /failed with 400 \$\.storageType: The JSON value could not be converted/,
      /Check storage-type and storage-params/
    ]
  },
  {
    name: 'RFC 7807 problem details',
    fault: {
      kind: 'status',
      status: 403,
      body: PROBLEM_DETAILS,
      headers: { 'Content-Type': 'application/problem+json; charset=utf-8' }
    },
    expected: [/failed with 403 Forbidden/]
  },
  {
    name: 'huge message',
    fault: {
      kind: 'status',
      status: 400,
      body: exceptionEnvelope(
        400,
        'System.ArgumentException',
        `${'x'.repeat(100_000)}${HUGE_MESSAGE_TAIL}`
      )
    },
    expected: [/failed with 400 x+…/]
  },
  {
    // DocSpace wrote this 500 itself, so the start did not happen.
    name: '500 .NET exception envelope',
    fault: {
      kind: 'status',
      status: 500,
      body: exceptionEnvelope(
        500,
        'System.NullReferenceException',
        'Object reference not set to an instance of an object.'
      )
    },
    expected: [
      /failed with 500 Object reference not set to an instance of an object/,
      /the portal failed to handle the request/
    ]
  },
  {
    name: '404 .NET exception from the simulator',
    options: { folderErrors: { '4242': 'not-found' } },
    inputs: { 'storage-type': 'Documents', 'storage-params': 'folderId=4242' },
    expected: [
      /failed with 404 The required folder was not found/,
      /check folderId/
    ]
  }
]

describe('startbackup error bodies', () => {
  it.concurrent.each(ERROR_BODIES.map(entry => [entry.name, entry] as const))(
    '%s: clear error',
    async (_name, entry) => {
      const simulator = await servers.simulator(entry.options)
      if (entry.fault) {
        simulator.faults.add({ endpoint: 'startbackup', ...entry.fault })
      }

      const run = await runStep(simulator, entry.inputs)
      const annotations = commandMessages(run.stdout, 'error')

      expect(run.exitCode).toBe(1)
      expect(run.outputs.status).toBe('failed')
      expect(annotations).toHaveLength(1)
      for (const pattern of entry.expected) {
        expect(run.outputs.error).toMatch(pattern)
        expect(annotations[0]).toMatch(pattern)
      }
      // A rejected start is not sent again, because the portal gave the reason.
      expect(requestsTo(simulator, 'startbackup')).toHaveLength(1)
      expect(simulator.startedCount()).toBe(0)
      expect(run.outputs.error).not.toContain(STACK_TRACE_MARKER)
      expect(run.stdout).not.toContain(STACK_TRACE_MARKER)
      expect(run.stderr).not.toContain(STACK_TRACE_MARKER)
      expect(run.summary).not.toContain(STACK_TRACE_MARKER)
    }
  )

  it.concurrent('huge message: capped', async () => {
    const entry = ERROR_BODIES.find(item => item.name === 'huge message')!
    const simulator = await servers.simulator()
    simulator.faults.add({ endpoint: 'startbackup', ...entry.fault! })

    const run = await runStep(simulator)

    expect(run.exitCode).toBe(1)
    expect(run.outputs.error?.length).toBeLessThan(1000)
    expect(run.outputs.error).not.toContain(HUGE_MESSAGE_TAIL)
    expect(run.stdout).not.toContain(HUGE_MESSAGE_TAIL)
    expect(run.summary).not.toContain(HUGE_MESSAGE_TAIL)
  })
})
