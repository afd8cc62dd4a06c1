import { describe, expect, it } from '@jest/globals'
import {
  commandMessages,
  logWithoutMasks,
  runStep,
  useSimulators
} from './helpers.js'

const startSimulator = useSimulators()

describe('invalid input', () => {
  it.each([
    ['storage-type', 's3'],
    ['storage-type', 'CustomCloud'],
    ['portal-url', 'ftp://127.0.0.1/docspace'],
    ['timeout', 'soon'],
    ['poll-interval', '5 minutes'],
    ['if-running', 'skip'],
    ['wait', 'yes'],
    ['cancel-if-unfinished', 'maybe']
  ])('rejects %s %j before any request', async (name, value) => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, { [name]: value })
    const errors = commandMessages(run.stdout, 'error')

    expect(simulator.requests).toHaveLength(0)
    expect(run.exitCode).not.toBe(0)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`${name}:`)
    expect(errors[0]).toContain(value)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.error).toContain(`${name}:`)
    expect(run.outputs['task-id']).toBe('')
  })

  it('lists every invalid input at once', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, {
      'storage-type': 'Tape',
      timeout: 'later'
    })
    const [error] = commandMessages(run.stdout, 'error')

    expect(simulator.requests).toHaveLength(0)
    expect(error).toContain("storage-type: 'Tape'")
    expect(error).toContain("timeout: 'later'")
  })

  it('rejects Documents without folderId', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, {
      'storage-type': 'Documents',
      'storage-params': 'folder=123'
    })

    expect(simulator.requests).toHaveLength(0)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toContain('storage-params:')
    expect(run.outputs.error).toContain('folderId')
  })

  it('rejects a missing api-key', async () => {
    const simulator = await startSimulator()

    const run = await runStep(simulator, { 'api-key': '' })

    expect(simulator.requests).toHaveLength(0)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toContain('api-key:')
  })

  it('never shows a credential in storage-params', async () => {
    const simulator = await startSimulator()
    const secret = 'AKIA-e2e-secret-value'

    const run = await runStep(simulator, {
      'storage-type': 'ThirdPartyConsumer',
      'storage-params': `module=s3\nbucket=b\nsecretaccesskey=${secret}`
    })

    expect(simulator.requests).toHaveLength(0)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toContain('secretaccesskey')
    expect(run.outputs.error).not.toContain(secret)
    expect(logWithoutMasks(run.stdout)).not.toContain(secret)
    expect(run.summary).not.toContain(secret)
  })
})
