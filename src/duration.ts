const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 }

/**
 * Parses a duration such as `90s`, `15m`, `1h30m` or a bare number of
 * seconds. Returns the length in seconds, or undefined when the text is not a
 * duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase()
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed)
  }

  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed)
  if (!match || trimmed === '') {
    return undefined
  }

  const [, hours, minutes, seconds] = match
  return (
    Number(hours ?? 0) * UNIT_SECONDS.h! +
    Number(minutes ?? 0) * UNIT_SECONDS.m! +
    Number(seconds ?? 0)
  )
}
