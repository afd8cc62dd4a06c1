/**
 * Resolves a redirect's Location against the URL that returned it, or
 * returns undefined when it does not parse.
 */
export function tryUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base)
  } catch {
    return undefined
  }
}

/** Tells whether `to` is the HTTPS form of the HTTP URL `from`'s host. */
export function isHttpsUpgrade(from: URL, to: URL): boolean {
  return (
    from.protocol === 'http:' &&
    to.protocol === 'https:' &&
    from.hostname === to.hostname
  )
}
