import { describe, expect, it, jest } from '@jest/globals'
import { DocSpaceNetworkError } from '../src/docspace/errors.js'
import {
  backoffDelay,
  withRetries,
  type RetryDependencies,
  type RetryPolicy
} from '../src/retry.js'
import { createFakeClock, type FakeClock } from './helpers/clock.js'
import { httpError } from './helpers/errors.js'

const POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1000,
  maxDelayMs: 5000,
  maxTotalMs: 60_000
}

/** Dependencies with a fake clock and a fixed jitter of `random`. */
function dependencies(
  clock: FakeClock,
  overrides: Partial<RetryDependencies> = {}
): RetryDependencies & { logs: string[] } {
  const logs: string[] = []
  return {
    policy: POLICY,
    sleep: clock.sleep,
    now: clock.now,
    random: () => 0.5,
    log: message => logs.push(message),
    logs,
    ...overrides
  }
}

/** An operation that throws each of `errors` in turn, then returns 'ok'. */
function failingThen(...errors: Error[]) {
  let calls = 0
  const operation = jest.fn(async () => {
    const error = errors[calls++]
    if (error) {
      throw error
    }
    return 'ok'
  })
  return operation
}

describe('backoffDelay', () => {
  it('doubles with each attempt', () => {
    const delays = [1, 2, 3].map(attempt =>
      backoffDelay(attempt, httpError(503), POLICY, () => 0.5)
    )

    expect(delays).toEqual([750, 1500, 3000])
  })

  it('stops at maxDelayMs', () => {
    expect(backoffDelay(10, httpError(503), POLICY, () => 0.999)).toBe(4998)
  })

  it.each([1, 2, 3, 4])('keeps jitter within bounds on attempt %i', attempt => {
    const exponential = Math.min(5000, 1000 * 2 ** (attempt - 1))
    const lowest = backoffDelay(attempt, httpError(503), POLICY, () => 0)
    const highest = backoffDelay(attempt, httpError(503), POLICY, () => 0.9999)

    expect(lowest).toBe(exponential / 2)
    expect(highest).toBeLessThanOrEqual(exponential)
    expect(highest).toBeGreaterThan(exponential * 0.99)
  })

  it('honours a longer Retry-After', () => {
    const error = httpError(429, { retryAfterSeconds: 20 })

    expect(backoffDelay(1, error, POLICY, () => 0.5)).toBe(20_000)
  })

  it('keeps the backoff over a shorter Retry-After', () => {
    const error = httpError(429, { retryAfterSeconds: 0 })

    expect(backoffDelay(3, error, POLICY, () => 0.5)).toBe(3000)
  })
})

describe('withRetries', () => {
  it('returns the first success', async () => {
    const clock = createFakeClock()
    const operation = failingThen()

    await expect(
      withRetries('GET x', operation, dependencies(clock))
    ).resolves.toBe('ok')
    expect(operation).toHaveBeenCalledTimes(1)
    expect(clock.sleeps).toEqual([])
  })

  it('retries a retryable error', async () => {
    const clock = createFakeClock()
    const operation = failingThen(httpError(502), httpError(503))

    const result = await withRetries('GET x', operation, dependencies(clock))

    expect(result).toBe('ok')
    expect(operation).toHaveBeenCalledTimes(3)
    expect(clock.sleeps).toEqual([750, 1500])
  })

  it('logs each retry as attempt n of m', async () => {
    const clock = createFakeClock()
    const deps = dependencies(clock)
    const operation = failingThen(httpError(502), httpError(503))

    await withRetries('GET /api/2.0/backup/x', operation, deps)

    expect(deps.logs).toHaveLength(2)
    expect(deps.logs[0]).toContain('GET /api/2.0/backup/x')
    expect(deps.logs[0]).toContain('attempt 1 of 4')
    expect(deps.logs[1]).toContain('attempt 2 of 4')
    expect(deps.logs[1]).toContain('failed with 503')
    expect(deps.logs[1]).toContain('1.5s')
  })

  it('retries a network error', async () => {
    const clock = createFakeClock()
    const reset = Object.assign(new Error('socket hang up'), {
      code: 'ECONNRESET'
    })
    const operation = failingThen(
      new DocSpaceNetworkError({ method: 'GET', path: '/x' }, reset)
    )

    await expect(
      withRetries('GET x', operation, dependencies(clock))
    ).resolves.toBe('ok')
    expect(operation).toHaveBeenCalledTimes(2)
  })

  it('waits as long as Retry-After', async () => {
    const clock = createFakeClock()
    const operation = failingThen(httpError(429, { retryAfterSeconds: 12 }))

    await withRetries('GET x', operation, dependencies(clock))

    expect(clock.sleeps).toEqual([12_000])
  })

  it('stops after maxAttempts', async () => {
    const clock = createFakeClock()
    const errors = [1, 2, 3, 4, 5].map(() => httpError(503))
    const operation = failingThen(...errors)

    const result = withRetries('GET x', operation, dependencies(clock))

    await expect(result).rejects.toBe(errors[3])
    expect(operation).toHaveBeenCalledTimes(4)
    expect(clock.sleeps).toHaveLength(3)
  })

  it('stops before maxTotalMs would pass', async () => {
    const clock = createFakeClock()
    const policy = { ...POLICY, maxAttempts: 10, maxTotalMs: 4000 }
    const errors = Array.from({ length: 10 }, () => httpError(503))
    const operation = failingThen(...errors)

    const result = withRetries(
      'GET x',
      operation,
      dependencies(clock, { policy })
    )

    await expect(result).rejects.toBe(errors[2])
    expect(clock.sleeps).toEqual([750, 1500])
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(
      policy.maxTotalMs
    )
  })

  it('counts slow attempts against maxTotalMs', async () => {
    const clock = createFakeClock()
    const policy = { ...POLICY, maxAttempts: 10, maxTotalMs: 10_000 }
    const operation = jest.fn(async () => {
      clock.advance(9_500)
      throw httpError(504)
    })

    const result = withRetries(
      'GET x',
      operation,
      dependencies(clock, { policy })
    )

    await expect(result).rejects.toMatchObject({ status: 504 })
    expect(operation).toHaveBeenCalledTimes(1)
  })

  it('does not retry a 500 or a 401', async () => {
    for (const status of [500, 401, 403, 404]) {
      const clock = createFakeClock()
      const error = httpError(status)
      const operation = failingThen(error)

      await expect(
        withRetries('GET x', operation, dependencies(clock))
      ).rejects.toBe(error)
      expect(operation).toHaveBeenCalledTimes(1)
      expect(clock.sleeps).toEqual([])
    }
  })

  it('does not retry an error of another kind', async () => {
    const clock = createFakeClock()
    const error = new TypeError('a bug')
    const operation = failingThen(error)

    await expect(
      withRetries('GET x', operation, dependencies(clock))
    ).rejects.toBe(error)
    expect(operation).toHaveBeenCalledTimes(1)
  })

  it('stops waiting when the signal aborts', async () => {
    const clock = createFakeClock()
    const controller = new AbortController()
    const reason = new Error('cancelled')
    const operation = jest.fn(async () => {
      controller.abort(reason)
      throw httpError(503)
    })
    const deps = dependencies(clock, { signal: controller.signal })

    await expect(withRetries('GET x', operation, deps)).rejects.toBe(reason)
    expect(operation).toHaveBeenCalledTimes(1)
  })
})
