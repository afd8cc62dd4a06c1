import { exceptionReply, exceptions } from './envelope.js'
import type { ResolvedOptions } from './options.js'
import { emptyReply, type Reply } from './reply.js'

/** `api-key` is an `sk-` key sent as Bearer; any other accepted value is a token. */
export type CredentialKind = 'api-key' | 'token'

const BEARER = /^Bearer\s+(.+)$/i

/**
 * Identifies the credential in an Authorization header. An `sk-` API key
 * needs the `Bearer ` prefix; other tokens work with or without it, as with
 * DocSpace's cookie handler. Returns undefined when nothing valid was sent.
 */
export function authenticate(
  authorization: string | undefined,
  apiKeys: string[],
  revokedKeys: ReadonlySet<string>
): CredentialKind | undefined {
  if (authorization === undefined) {
    return undefined
  }

  const bearer = BEARER.exec(authorization)?.[1]?.trim()
  const value = bearer ?? authorization.trim()
  if (!apiKeys.includes(value) || revokedKeys.has(value)) {
    return undefined
  }

  if (!value.startsWith('sk-')) {
    return 'token'
  }

  return bearer === undefined ? undefined : 'api-key'
}

/**
 * Applies DocSpace's checks before a backup action runs: credentials (401,
 * empty body), API key scope (403, empty body), then the role (403 "Access
 * denied" envelope). Returns the rejection, or undefined to go on.
 */
export function checkBackupAccess(
  method: string,
  authorization: string | undefined,
  options: ResolvedOptions,
  revokedKeys: ReadonlySet<string>
): Reply | undefined {
  const credential = authenticate(authorization, options.apiKeys, revokedKeys)
  if (credential === undefined) {
    const basic = authorization?.toLowerCase().startsWith('basic ')
    return emptyReply(401, basic ? { 'WWW-Authenticate': 'Basic' } : {})
  }

  if (credential === 'api-key' && !scopeAllows(options.keyScope, method)) {
    return emptyReply(403)
  }

  if (options.role === 'user') {
    return exceptionReply(exceptions.accessDenied())
  }

  return undefined
}

// Backup routes belong to no module scope, so they need the global `*:read`
// scope for GET and `*:write` for anything else.
function scopeAllows(scope: ResolvedOptions['keyScope'], method: string) {
  if (scope === 'files') {
    return false
  }

  return scope === 'write' || method === 'GET'
}
