import type { Now, Sleep } from '../../src/time.js'

/** A test clock: `sleep` resolves at once and moves `now` forward. */
export interface FakeClock {
  now: Now
  sleep: Sleep
  /** Every sleep in milliseconds, in the order requested. */
  sleeps: number[]
  /** Moves the clock forward without sleeping, e.g. for a slow request. */
  advance(ms: number): void
}

/**
 * Creates a clock that starts at `startMs`. Its sleep rejects with the
 * signal's reason when the signal has aborted, like the real one, and
 * rejects a negative length, which only a bug in the caller produces.
 */
export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let current = startMs
  const sleeps: number[] = []

  const sleep: Sleep = async (ms, signal) => {
    if (signal?.aborted) {
      throw signal.reason
    }
    if (ms < 0) {
      throw new Error(`sleep was called with a negative length: ${ms} ms`)
    }
    sleeps.push(ms)
    current += ms
  }

  return {
    now: () => current,
    sleep,
    sleeps,
    advance: ms => {
      current += ms
    }
  }
}
