import {
  createCipheriv,
  createHash,
  createHmac,
  type Cipheriv
} from 'node:crypto'
import type { BodySource } from './reply.js'
import { archiveFileName, TENANT_ID, type Job } from './jobs.js'
import { StorageType } from './storage-type.js'

const AES_BLOCK_BYTES = 16
const LINK_LIFETIME_SECONDS = 24 * 60 * 60
const SHARED_ZEROS = Buffer.alloc(64 * 1024)

/**
 * Returns deterministic pseudo-random archive bytes for a file name. The
 * bytes are an AES-256-CTR keystream, so any range can be produced without
 * generating the bytes before it. Reads that follow on from the last one
 * continue its cipher, so a response streamed in order sets up one cipher.
 */
export function archiveSource(fileName: string, size: number): BodySource {
  const key = createHash('sha256').update(fileName).digest()
  let next: { offset: number; cipher: Cipheriv } | undefined

  return {
    size,
    read: (offset, length) => {
      const end = Math.min(offset + length, size)
      if (end <= offset) {
        return Buffer.alloc(0)
      }

      if (next?.offset === offset) {
        next.offset = end
        return next.cipher.update(zeros(end - offset))
      }

      const block = Math.floor(offset / AES_BLOCK_BYTES)
      const skip = offset - block * AES_BLOCK_BYTES
      const counter = Buffer.alloc(AES_BLOCK_BYTES)
      counter.writeBigUInt64BE(BigInt(block), 8)

      const cipher = createCipheriv('aes-256-ctr', key, counter)
      next = { offset: end, cipher }
      return cipher.update(zeros(skip + end - offset)).subarray(skip)
    }
  }
}

/** Returns zero bytes to encrypt. Lengths up to 64 KiB share one buffer. */
function zeros(length: number): Buffer {
  return length <= SHARED_ZEROS.length
    ? SHARED_ZEROS.subarray(0, length)
    : Buffer.alloc(length)
}

/** Returns the whole archive the simulator serves for a file name. */
export function generateArchive(fileName: string, size: number): Buffer {
  return archiveSource(fileName, size).read(0, size)
}

export function signArchivePath(secret: string, path: string): string {
  return createHmac('sha256', secret).update(path).digest('hex')
}

/** Checks the signature of a DataStore or S3-style link to an archive. */
export function hasValidSignature(
  secret: string,
  archivePath: string,
  query: Record<string, string>
): boolean {
  const signature = query.signature ?? query['X-Amz-Signature']

  return signature === signArchivePath(secret, archivePath)
}

/**
 * Builds the download link of a succeeded job. DataStore links are relative
 * unless the job asked for absolute ones. ThirdPartyConsumer links imitate an
 * S3 pre-signed URL on the simulator. Other storage types have no link.
 */
export function archiveLink(job: Job, baseUrl: string, secret: string): string {
  const fileName = archiveFileName(job)

  if (job.storageType === StorageType.DataStore) {
    const path = `/studio/${TENANT_ID}/backup/${fileName}`
    const link = `${path}?signature=${signArchivePath(secret, path)}`

    return job.linkStyle === 'absolute' ? `${baseUrl}${link}` : link
  }

  if (job.storageType === StorageType.ThirdPartyConsumer) {
    const bucket = encodeURIComponent(job.storageParams.bucket ?? 'backup')
    const path = `/s3/${bucket}/backup/${fileName}`
    const signature = signArchivePath(secret, path)

    return `${baseUrl}${path}?X-Amz-Expires=${LINK_LIFETIME_SECONDS}&X-Amz-Signature=${signature}`
  }

  return ''
}
