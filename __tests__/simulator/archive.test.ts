import { describe, expect, it } from '@jest/globals'
import { createCipheriv, createHash } from 'node:crypto'
import { archiveSource } from '../../simulator/archive.js'

const FILE_NAME = 'portal_2026-12-04_10-00-00.tar.gz'
const SIZE = 300_000

/** Returns the archive as one AES-256-CTR keystream from counter zero. */
function wholeArchive(): Buffer {
  const key = createHash('sha256').update(FILE_NAME).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))

  return cipher.update(Buffer.alloc(SIZE))
}

describe('archiveSource', () => {
  const archive = wholeArchive()

  it('gives the same bytes when read in order, in pieces of any size', () => {
    const source = archiveSource(FILE_NAME, SIZE)
    const pieces: Buffer[] = []
    const sizes = [1, 15, 17, 65_536, 100_000, 3, 70_000]
    let offset = 0
    for (const size of sizes) {
      pieces.push(source.read(offset, size))
      offset += size
    }
    pieces.push(source.read(offset, SIZE))

    expect(Buffer.concat(pieces).equals(archive)).toBe(true)
  })

  it('gives the same bytes for a range out of order, and after it', () => {
    const source = archiveSource(FILE_NAME, SIZE)
    source.read(0, 1000)

    expect(
      source.read(123_457, 999).equals(archive.subarray(123_457, 124_456))
    ).toBe(true)
    expect(
      source.read(124_456, 5).equals(archive.subarray(124_456, 124_461))
    ).toBe(true)
    expect(source.read(7, 9).equals(archive.subarray(7, 16))).toBe(true)
  })

  it('stops at the end of the archive', () => {
    const source = archiveSource(FILE_NAME, SIZE)

    expect(
      source.read(SIZE - 10, 100).equals(archive.subarray(SIZE - 10))
    ).toBe(true)
    expect(source.read(SIZE, 100).length).toBe(0)
  })
})
