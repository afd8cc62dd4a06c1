/** Random-access bytes of a response body, so large bodies can be streamed. */
export interface BodySource {
  size: number
  read(offset: number, length: number): Buffer
}

/** A response before faults are applied and it is written to the socket. */
export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: string | BodySource
}

export function emptyReply(
  status: number,
  headers?: Record<string, string>
): Reply {
  return { status, headers }
}

export function jsonReply(status: number, value: unknown): Reply {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(value)
  }
}

export function bufferSource(buffer: Buffer): BodySource {
  return {
    size: buffer.length,
    read: (offset, length) => buffer.subarray(offset, offset + length)
  }
}
