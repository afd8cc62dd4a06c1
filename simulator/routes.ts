export type EndpointName =
  | 'startbackup'
  | 'getbackupprogress'
  | 'cancelbackup'
  | 'getbackuphistory'
  | 'getbackupscount'
  | 'getservicestate'
  | 'version'
  | 'download'

export type ApiEndpoint = Exclude<EndpointName, 'download'>

export interface Route {
  endpoint: ApiEndpoint
  method: string
}

const API_ROUTES: Record<string, Route> = {
  'backup/startbackup': { endpoint: 'startbackup', method: 'POST' },
  'backup/getbackupprogress': { endpoint: 'getbackupprogress', method: 'GET' },
  'backup/cancelbackup': { endpoint: 'cancelbackup', method: 'POST' },
  'backup/getbackuphistory': { endpoint: 'getbackuphistory', method: 'GET' },
  'backup/getbackupscount': { endpoint: 'getbackupscount', method: 'GET' },
  'backup/getservicestate': { endpoint: 'getservicestate', method: 'GET' },
  'settings/version/build': { endpoint: 'version', method: 'GET' }
}

// A portal may be served under a sub-path such as /docspace, so any prefix
// before /api/2.0/ is accepted. ASP.NET routing ignores case and a trailing
// slash.
const API_PATH = /^(?:\/.*)?\/api\/2\.0\/(.+?)\/?$/

/** Archive paths of DataStore (disc storage) and ThirdPartyConsumer links. */
const ARCHIVE_PATH = /^(?:\/.*)?(\/(?:studio\/\d+|s3\/[^/]+)\/backup\/[^/]+)$/

/** Finds the API route of a path; the method is not checked here. */
export function matchApiRoute(path: string): Route | undefined {
  const match = API_PATH.exec(path)
  const action = match?.[1]?.toLowerCase()

  return action === undefined ? undefined : API_ROUTES[action]
}

/**
 * Returns the path of an archive link without any portal prefix, which is
 * the part that the link signature covers.
 */
export function matchArchivePath(path: string): string | undefined {
  return ARCHIVE_PATH.exec(path)?.[1]
}
