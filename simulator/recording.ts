import type { EndpointName } from './routes.js'

/** A request as the simulator received it, without any credential value. */
export interface RecordedRequest {
  method: string
  /** Path without the query string, portal prefix included. */
  path: string
  query: Record<string, string>
  hasAuthorization: boolean
  /** Parsed JSON body, the raw text when it is not JSON, or undefined. */
  body: unknown
  /** HTTP status sent, or 0 when the connection closed without a response. */
  status: number
  /** Time from the `clock` option when the request arrived. */
  at: number
  /** Matched endpoint; undefined for unknown paths. */
  endpoint: EndpointName | undefined
  contentType: string | undefined
}

export function parseRecordedBody(text: string): unknown {
  if (text === '') {
    return undefined
  }

  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
