import { describe, expect, it } from '@jest/globals'
import { hintFor } from '../../src/docspace/hints.js'

describe('hintFor', () => {
  it('401 points at the API key', () => {
    const hint = hintFor(401, '', true, {})

    expect(hint).toContain('api-key')
    expect(hint).toContain('Authorization: Bearer <key>')
  })

  it('403 with an empty body points at the key scope', () => {
    const hint = hintFor(403, '', true, {})

    expect(hint).toContain('lacks the permission')
    expect(hint).not.toContain('admin')
  })

  it('403 Access denied points at the role', () => {
    const hint = hintFor(403, 'Access denied', false, {})

    expect(hint).toContain('portal owner or a DocSpace admin')
    expect(hint).toContain('target folder')
    expect(hint).not.toContain('dump')
  })

  it('403 Access denied with dump names self-hosting', () => {
    const hint = hintFor(403, 'Access denied', false, { dump: true })

    expect(hint).toContain('portal owner or a DocSpace admin')
    expect(hint).toContain('dump: true is not available')
  })

  it('403 with another message stays general', () => {
    const hint = hintFor(403, 'Tenant is restoring', false, {})

    expect(hint).toBe('the portal denied the request.')
  })

  it('402 points at the backup quota', () => {
    const message =
      'The number of free backups should not exceed 2 within a month'

    expect(hintFor(402, message, false, {})).toContain('free backups')
  })

  it('404 for a folder points at folderId', () => {
    const message = 'The required folder was not found'

    expect(hintFor(404, message, false, {})).toContain('folderId')
  })

  it('404 otherwise points at portal-url', () => {
    expect(hintFor(404, '', true, {})).toContain('portal-url')
  })

  it('400 wrong folder type explains folderId', () => {
    const hint = hintFor(400, 'wrong folder type', false, {})

    expect(hint).toContain('folderId does not fit storage-type')
  })

  it('400 otherwise points at the storage inputs', () => {
    const hint = hintFor(400, '$.storageType: invalid', false, {})

    expect(hint).toContain('storage-type and storage-params')
  })

  it('500 Access denied with Local names self-hosting', () => {
    const hint = hintFor(500, 'Access denied', false, {
      storageTypeName: 'Local'
    })

    expect(hint).toContain('Local works only on self-hosted')
  })

  it('500 Access denied with another type stays general', () => {
    const hint = hintFor(500, 'Access denied', false, {
      storageTypeName: 'DataStore'
    })

    expect(hint).not.toContain('Local')
  })

  it('429 points at the rate limit', () => {
    expect(hintFor(429, '', true, {})).toContain('rate limit')
  })

  it.each([502, 503, 504])('%i points at the proxy', status => {
    expect(hintFor(status, '', false, {})).toContain('unavailable')
  })

  it('ignores the case of the message', () => {
    const hint = hintFor(403, 'ACCESS DENIED', false, {})

    expect(hint).toContain('DocSpace admin')
  })
})
