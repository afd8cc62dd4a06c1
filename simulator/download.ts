import { archiveSource, hasValidSignature } from './archive.js'
import type { JobStore } from './job-store.js'
import { emptyReply, type BodySource, type Reply } from './reply.js'

export interface DownloadRequest {
  /** Archive path without portal prefix, as the signature covers it. */
  archivePath: string
  query: Record<string, string>
  authenticated: boolean
  range: string | undefined
}

export interface DownloadContext {
  store: JobStore
  secret: string
  archiveBytes: number
  ignoreRange: boolean
  now: number
}

interface ByteRange {
  start: number
  end: number
}

/**
 * Serves the archive behind a backup link. A valid signature or a valid
 * credential is enough. `Range` with one range is honoured unless
 * `ignoreRange` is set.
 */
export function downloadReply(
  request: DownloadRequest,
  context: DownloadContext
): Reply {
  const signed = hasValidSignature(
    context.secret,
    request.archivePath,
    request.query
  )
  if (!signed && !request.authenticated) {
    return emptyReply(403)
  }

  const fileName = request.archivePath.slice(
    request.archivePath.lastIndexOf('/') + 1
  )
  if (!context.store.findArchive(fileName, context.now)) {
    return emptyReply(404)
  }

  const source = archiveSource(fileName, context.archiveBytes)
  const headers: Record<string, string> = {
    'Content-Type': 'application/gzip',
    'Content-Disposition': `attachment; filename="${fileName}"`
  }
  if (context.ignoreRange || request.range === undefined) {
    return { status: 200, headers: withRanges(headers, context), body: source }
  }

  return rangeReply(source, request.range, headers)
}

function rangeReply(
  source: BodySource,
  header: string,
  headers: Record<string, string>
): Reply {
  const range = parseRange(header, source.size)
  if (range === undefined) {
    return { status: 200, headers: withAcceptRanges(headers), body: source }
  }

  if (range === 'unsatisfiable') {
    return emptyReply(416, { 'Content-Range': `bytes */${source.size}` })
  }

  return {
    status: 206,
    headers: {
      ...withAcceptRanges(headers),
      'Content-Range': `bytes ${range.start}-${range.end}/${source.size}`
    },
    body: sliceSource(source, range)
  }
}

/**
 * Parses a single `bytes=` range. Returns undefined for a header that should
 * be ignored (bad syntax or several ranges), as RFC 9110 allows.
 */
function parseRange(
  header: string,
  size: number
): ByteRange | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) {
    return undefined
  }

  const first = match[1] === '' ? undefined : Number(match[1])
  const last = match[2] === '' ? undefined : Number(match[2])

  if (first === undefined) {
    // A suffix range: the last N bytes.
    const length = Math.min(last ?? 0, size)
    return length === 0
      ? 'unsatisfiable'
      : { start: size - length, end: size - 1 }
  }

  if (first >= size) {
    return 'unsatisfiable'
  }

  if (last !== undefined && last < first) {
    return undefined
  }

  return { start: first, end: Math.min(last ?? size - 1, size - 1) }
}

function sliceSource(source: BodySource, range: ByteRange): BodySource {
  return {
    size: range.end - range.start + 1,
    read: (offset, length) => source.read(range.start + offset, length)
  }
}

function withRanges(
  headers: Record<string, string>,
  context: DownloadContext
): Record<string, string> {
  return context.ignoreRange ? headers : withAcceptRanges(headers)
}

function withAcceptRanges(
  headers: Record<string, string>
): Record<string, string> {
  return { ...headers, 'Accept-Ranges': 'bytes' }
}
