import { DocSpaceError, DocSpaceHttpError } from './docspace/errors.js'
import { errorMessage } from './errors.js'
import { formatDuration, type Now, type Sleep } from './time.js'

/** Bounds on retrying one request. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** Retries stop when the next one would start later than this. */
  maxTotalMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxTotalMs: 120_000
}

export interface RetryDependencies {
  policy: RetryPolicy
  sleep: Sleep
  now: Now
  /** Returns a number in [0, 1) for jitter. */
  random: () => number
  log: (message: string) => void
  signal?: AbortSignal
}

/**
 * Runs `operation` and retries it with exponential backoff and jitter while
 * it fails with a retryable DocSpaceError. Honours `Retry-After`. Rethrows
 * the last error when the attempts or the time run out.
 */
export async function withRetries<T>(
  label: string,
  operation: () => Promise<T>,
  deps: RetryDependencies
): Promise<T> {
  const { policy } = deps
  const startedAt = deps.now()

  for (let attempt = 1; ; attempt++) {
    try {
      return await operation()
    } catch (error) {
      const delayMs = retryDelay(error, attempt, deps)
      const elapsedMs = deps.now() - startedAt
      const canRetry =
        delayMs !== undefined &&
        attempt < policy.maxAttempts &&
        elapsedMs + delayMs <= policy.maxTotalMs
      if (!canRetry) {
        throw error
      }

      deps.log(
        `${label} failed (attempt ${attempt} of ${policy.maxAttempts}): ` +
          `${errorMessage(error)} Retrying in ${formatDuration(delayMs)}.`
      )
      await deps.sleep(delayMs, deps.signal)
    }
  }
}

/** Returns the wait before the next attempt, or undefined for no retry. */
function retryDelay(
  error: unknown,
  attempt: number,
  deps: RetryDependencies
): number | undefined {
  if (!(error instanceof DocSpaceError) || !error.retryable) {
    return undefined
  }

  return backoffDelay(attempt, error, deps.policy, deps.random)
}

/**
 * Returns the wait in milliseconds before attempt `attempt + 1`: exponential
 * with equal jitter (half fixed, half random, so parallel jobs spread out),
 * or the server's `Retry-After` when that is longer.
 */
export function backoffDelay(
  attempt: number,
  error: unknown,
  policy: RetryPolicy,
  random: () => number
): number {
  const { baseDelayMs, maxDelayMs } = policy
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2)

  if (
    error instanceof DocSpaceHttpError &&
    error.retryAfterSeconds !== undefined
  ) {
    return Math.max(jittered, error.retryAfterSeconds * 1000)
  }

  return jittered
}
