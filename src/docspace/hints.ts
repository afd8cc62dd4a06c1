/** The request's purpose, so an error message can name what to fix. */
export interface ErrorContext {
  dump?: boolean
  storageTypeName?: string
}

/**
 * Returns the advice that follows a failed request: what the status and
 * message usually mean on DocSpace, and what to change.
 */
export function hintFor(
  status: number,
  serverMessage: string,
  emptyBody: boolean,
  context: ErrorContext
): string {
  const message = serverMessage.toLowerCase()

  switch (status) {
    case 400:
      if (message.includes('wrong folder type')) {
        return (
          'folderId does not fit storage-type. Documents takes the number ' +
          'of a DocSpace room or folder; ThirdPartyDocuments takes the id ' +
          'of a connected third-party folder.'
        )
      }
      return 'the portal rejected the request. Check storage-type and storage-params.'
    case 401:
      return (
        'the portal did not accept the API key. Check api-key: it may be ' +
        "mistyped, expired or revoked. It is sent as 'Authorization: " +
        "Bearer <key>'."
      )
    case 402:
      return (
        "the portal's plan does not allow this backup now. On DocSpace " +
        'Cloud the free backups of the month may be used up: enable the ' +
        'paid Backup service in the portal, or wait for next month.'
      )
    case 403:
      return forbiddenHint(message, emptyBody, context)
    case 404:
      if (message.includes('folder')) {
        return 'check folderId in storage-params.'
      }
      return 'no DocSpace API was found there. Check portal-url.'
    case 429:
      return "the portal's rate limit was reached. Try again later."
    case 500:
      if (message === 'access denied' && context.storageTypeName === 'Local') {
        return 'storage-type Local works only on self-hosted DocSpace.'
      }
      return 'the portal failed to handle the request.'
    case 502:
    case 503:
    case 504:
      return 'the portal or a proxy in front of it is unavailable.'
    default:
      return ''
  }
}

function forbiddenHint(
  message: string,
  emptyBody: boolean,
  context: ErrorContext
): string {
  if (emptyBody) {
    return (
      'the API key lacks the permission the backup API needs. Create a key ' +
      "with access to everything ('*', read and write)."
    )
  }
  if (message === 'access denied' && context.dump) {
    return (
      "the API key's user must be the portal owner or a DocSpace admin, " +
      'or this is DocSpace Cloud, where dump: true is not available ' +
      '(it needs self-hosted DocSpace).'
    )
  }
  if (message === 'access denied') {
    return (
      "the API key's user must be the portal owner or a DocSpace admin, " +
      'and a target folder must be writable by that user.'
    )
  }

  return 'the portal denied the request.'
}
