import type { ServerResponse } from 'node:http'
import type { Fault } from './faults.js'
import { bufferSource, type BodySource, type Reply } from './reply.js'

const CHUNK_BYTES = 64 * 1024
const EXTRA_DECLARED_BYTES = 1024

const MAINTENANCE_PAGE = `<!DOCTYPE html>
<html>
<head><title>Maintenance</title></head>
<body><h1>DocSpace is being updated</h1><p>Please try again later.</p></body>
</html>
`

/** Returns the response that a fault sends in place of the real one. */
export function faultReply(fault: Fault | undefined): Reply | undefined {
  switch (fault?.kind) {
    case 'status':
      return statusFaultReply(fault.status, fault.body ?? '', fault.headers)
    case 'html-200':
      return {
        status: 200,
        headers: { 'Content-Type': 'text/html; charset=utf-8' },
        body: MAINTENANCE_PAGE
      }
    case 'redirect':
      return { status: fault.status, headers: { Location: fault.location } }
    default:
      return undefined
  }
}

/**
 * Writes a reply with a Content-Length. The `reset-mid-body` and
 * `wrong-length` faults send part or all of the body and then close the
 * connection, so the client sees a body shorter than declared.
 */
export async function writeReply(
  response: ServerResponse,
  reply: Reply,
  fault: Fault | undefined
): Promise<void> {
  if (response.destroyed) {
    return
  }

  const body = toBodySource(reply.body)
  const declaredLength =
    fault?.kind === 'wrong-length'
      ? body.size + EXTRA_DECLARED_BYTES
      : body.size
  const sentLength =
    fault?.kind === 'reset-mid-body'
      ? Math.min(Math.max(fault.afterBytes, 0), body.size)
      : body.size

  response.writeHead(reply.status, {
    ...reply.headers,
    'Content-Length': String(declaredLength)
  })
  await writeBody(response, body, sentLength)

  if (sentLength < declaredLength) {
    response.destroy()
  } else {
    response.end()
  }
}

async function writeBody(
  response: ServerResponse,
  body: BodySource,
  length: number
): Promise<void> {
  for (let offset = 0; offset < length; offset += CHUNK_BYTES) {
    if (response.destroyed) {
      return
    }

    const chunk = body.read(offset, Math.min(CHUNK_BYTES, length - offset))
    await writeChunk(response, chunk)
  }
}

// Waiting for each write to flush gives backpressure, and makes sure the
// bytes before a deliberate reset reach the socket.
function writeChunk(response: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      response.off('close', done)
      resolve()
    }
    response.once('close', done)
    response.write(chunk, done)
  })
}

function toBodySource(body: Reply['body']): BodySource {
  if (body === undefined) {
    return bufferSource(Buffer.alloc(0))
  }

  return typeof body === 'string' ? bufferSource(Buffer.from(body)) : body
}

function statusFaultReply(
  status: number,
  body: string,
  headers: Record<string, string> | undefined
): Reply {
  const contentType: Record<string, string> =
    body === '' ? {} : { 'Content-Type': guessContentType(body) }

  return { status, headers: { ...contentType, ...headers }, body }
}

function guessContentType(body: string): string {
  const start = body.trimStart()
  if (start.startsWith('<')) {
    return 'text/html; charset=utf-8'
  }

  return start.startsWith('{') || start.startsWith('[')
    ? 'application/json; charset=utf-8'
    : 'text/plain; charset=utf-8'
}
