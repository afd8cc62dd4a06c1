import { describe, expect, it } from '@jest/globals'
import {
  parseStorageParams,
  parseStorageType,
  StorageType,
  storageTypeName,
  validateStorageParams,
  type ParseResult,
  type StorageParam
} from '../src/storage.js'

/** Returns the parsed value, or fails the test with the parser's error. */
function valueOf<T>(result: ParseResult<T>): T {
  if ('error' in result) {
    throw new Error(`expected a value, got the error: ${result.error}`)
  }
  return result.value
}

/** Returns the parser's error, or fails the test when it parsed. */
function errorOf<T>(result: ParseResult<T>): string {
  if (!('error' in result)) {
    throw new Error(`expected an error, got ${JSON.stringify(result.value)}`)
  }
  return result.error
}

const param = (key: string, value: string): StorageParam => ({ key, value })

describe('parseStorageType', () => {
  it.each([
    ['Documents', StorageType.Documents],
    ['documents', StorageType.Documents],
    ['DATASTORE', StorageType.DataStore],
    ['  DataStore  ', StorageType.DataStore],
    ['local', StorageType.Local],
    ['ThirdPartyConsumer', StorageType.ThirdPartyConsumer],
    ['ThirdPartyDocuments', StorageType.ThirdPartyDocuments],
    ['ThridpartyDocuments', StorageType.ThirdPartyDocuments],
    ['thridpartydocuments', StorageType.ThirdPartyDocuments]
  ])('accepts the name %j', (text, type) => {
    expect(valueOf(parseStorageType(text))).toBe(type)
  })

  it.each([
    ['0', StorageType.Documents],
    ['1', StorageType.ThirdPartyDocuments],
    ['3', StorageType.Local],
    ['4', StorageType.DataStore],
    ['5', StorageType.ThirdPartyConsumer]
  ])('accepts the number %s', (text, type) => {
    expect(valueOf(parseStorageType(text))).toBe(type)
  })

  it.each(['CustomCloud', 'customcloud', '2'])('rejects %j', text => {
    const error = errorOf(parseStorageType(text))

    expect(error).toMatch(/^storage-type: /)
    expect(error).toContain('not supported')
    expect(error).toContain('Unknown storage type.')
  })

  it.each(['s3', '6', '-1', '4.0', 'Data store', 'constructor', '__proto__'])(
    'rejects unknown %j',
    text => {
      const error = errorOf(parseStorageType(text))

      expect(error).toMatch(/^storage-type: /)
      expect(error).toContain(`'${text}'`)
      for (const accepted of [
        'Documents',
        'ThirdPartyDocuments',
        'Local',
        'DataStore',
        'ThirdPartyConsumer',
        '0, 1, 3, 4, 5'
      ]) {
        expect(error).toContain(accepted)
      }
    }
  )

  it('leaves CustomCloud out of the accepted list', () => {
    const error = errorOf(parseStorageType('s3'))

    expect(error).not.toContain('CustomCloud')
    expect(error).not.toMatch(/\b2\b/)
  })
})

describe('storageTypeName', () => {
  it('names type 1 in the action spelling', () => {
    expect(storageTypeName(StorageType.ThirdPartyDocuments)).toBe(
      'ThirdPartyDocuments'
    )
  })
})

describe('parseStorageParams', () => {
  it('returns none for empty text', () => {
    expect(valueOf(parseStorageParams('  \n '))).toEqual([])
  })

  it('parses key=value lines in order', () => {
    const text = 'module=s3\nbucket=backups\nregion=eu-central-1'

    expect(valueOf(parseStorageParams(text))).toEqual([
      param('module', 's3'),
      param('bucket', 'backups'),
      param('region', 'eu-central-1')
    ])
  })

  it('keeps = inside a value', () => {
    const params = valueOf(parseStorageParams('sse=a=b==c'))

    expect(params).toEqual([param('sse', 'a=b==c')])
  })

  it('skips blank lines', () => {
    const params = valueOf(parseStorageParams('module=s3\n\n   \nbucket=b'))

    expect(params).toEqual([param('module', 's3'), param('bucket', 'b')])
  })

  it('splits CRLF lines', () => {
    const params = valueOf(parseStorageParams('module=s3\r\nbucket=b\r\n'))

    expect(params).toEqual([param('module', 's3'), param('bucket', 'b')])
  })

  it('trims keys and values', () => {
    const params = valueOf(parseStorageParams('  folderId =  42  '))

    expect(params).toEqual([param('folderId', '42')])
  })

  it('keeps an empty key for the checks', () => {
    expect(valueOf(parseStorageParams('=value'))).toEqual([param('', 'value')])
  })

  it('rejects a line without = by number only', () => {
    const error = errorOf(parseStorageParams('module=s3\nsk-LINE-SECRET-7731'))

    expect(error).toContain('line 2')
    expect(error).not.toContain('sk-LINE-SECRET-7731')
  })

  it('parses a JSON object in order', () => {
    const text = '{"module": "s3", "bucket": "b", "region": "eu-west-1"}'

    expect(valueOf(parseStorageParams(text))).toEqual([
      param('module', 's3'),
      param('bucket', 'b'),
      param('region', 'eu-west-1')
    ])
  })

  it('turns JSON numbers and booleans into text', () => {
    const text = '{"folderId": 42, "forcepathstyle": false}'

    expect(valueOf(parseStorageParams(text))).toEqual([
      param('folderId', '42'),
      param('forcepathstyle', 'false')
    ])
  })

  it('rejects invalid JSON without echoing it', () => {
    const error = errorOf(
      parseStorageParams('{"bucket": "sk-JSON-SECRET-5521"')
    )

    expect(error).toMatch(/^storage-params: /)
    expect(error).not.toContain('sk-JSON-SECRET-5521')
  })

  it('rejects a JSON value that is an object', () => {
    const text = '{"bucket": {"name": "sk-NESTED-SECRET-9012"}}'
    const error = errorOf(parseStorageParams(text))

    expect(error).toContain("'bucket'")
    expect(error).not.toContain('sk-NESTED-SECRET-9012')
  })

  it('rejects a JSON null value', () => {
    expect(errorOf(parseStorageParams('{"bucket": null}'))).toContain(
      "'bucket'"
    )
  })
})

describe('validateStorageParams', () => {
  it('accepts Documents with an integer folderId', () => {
    const params = [param('folderId', '12345')]

    expect(validateStorageParams(StorageType.Documents, params)).toEqual([])
  })

  it.each([
    [[]],
    [[param('folderId', 'sbox-7-abc')]],
    [[param('folderId', '')]]
  ])('rejects Documents with folderId %j', params => {
    const errors = validateStorageParams(StorageType.Documents, params)

    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('Documents needs folderId=<number>')
  })

  it('accepts ThirdPartyDocuments with a provider id', () => {
    const params = [param('folderId', 'sbox-7-abc')]

    expect(
      validateStorageParams(StorageType.ThirdPartyDocuments, params)
    ).toEqual([])
  })

  it.each([[[]], [[param('folderId', '12345')]]])(
    'rejects ThirdPartyDocuments with folderId %j',
    params => {
      const errors = validateStorageParams(
        StorageType.ThirdPartyDocuments,
        params
      )

      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain('ThirdPartyDocuments needs folderId=<id>')
    }
  )

  it('accepts Local with filePath', () => {
    const params = [param('filePath', '/var/backups')]

    expect(validateStorageParams(StorageType.Local, params)).toEqual([])
  })

  it('rejects Local without filePath', () => {
    const errors = validateStorageParams(StorageType.Local, [])

    expect(errors).toEqual([expect.stringContaining('Local needs filePath=')])
  })

  it('rejects Local with an empty filePath', () => {
    const errors = validateStorageParams(StorageType.Local, [
      param('filePath', '')
    ])

    expect(errors).toEqual([expect.stringContaining('Local needs filePath=')])
  })

  it('names a miscased required key', () => {
    const errors = validateStorageParams(StorageType.Local, [
      param('filepath', '/srv/sk-PATH-SECRET-6120')
    ])

    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain("found 'filepath'")
    expect(errors[0]).not.toContain('sk-PATH-SECRET-6120')
  })

  it('accepts ThirdPartyConsumer with module', () => {
    const params = [param('module', 's3'), param('bucket', 'b')]

    expect(
      validateStorageParams(StorageType.ThirdPartyConsumer, params)
    ).toEqual([])
  })

  it('rejects ThirdPartyConsumer without module', () => {
    const errors = validateStorageParams(StorageType.ThirdPartyConsumer, [
      param('bucket', 'b')
    ])

    expect(errors).toEqual([
      expect.stringContaining('ThirdPartyConsumer needs module=')
    ])
  })

  it('accepts DataStore without params', () => {
    expect(validateStorageParams(StorageType.DataStore, [])).toEqual([])
  })

  it('rejects DataStore params by key', () => {
    const errors = validateStorageParams(StorageType.DataStore, [
      param('bucket', 'sk-DATASTORE-SECRET-3390')
    ])

    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('bucket')
    expect(errors[0]).not.toContain('sk-DATASTORE-SECRET-3390')
  })

  it('rejects an empty key', () => {
    const errors = validateStorageParams(StorageType.ThirdPartyConsumer, [
      param('module', 's3'),
      param('', 'x')
    ])

    expect(errors).toEqual([expect.stringContaining('empty key')])
  })

  it('rejects a duplicate key in any case', () => {
    const errors = validateStorageParams(StorageType.ThirdPartyConsumer, [
      param('module', 's3'),
      param('bucket', 'a'),
      param('Bucket', 'b')
    ])

    expect(errors).toEqual([expect.stringContaining("'Bucket'")])
    expect(errors[0]).toContain("'bucket' and 'Bucket'")
    expect(errors[0]).toContain('more than once')
  })

  it('hints at a miscased folderId', () => {
    const errors = validateStorageParams(StorageType.Documents, [
      param('folderid', '12345')
    ])

    expect(errors).toEqual([expect.stringContaining("found 'folderid'")])
  })

  it.each(['acesskey', 'accesskey', 'secretaccesskey', 'SecretAccessKey'])(
    'rejects the credential key %s',
    key => {
      const secret = 'sk-CREDENTIAL-SECRET-4471'
      const errors = validateStorageParams(StorageType.ThirdPartyConsumer, [
        param('module', 's3'),
        param(key, secret)
      ])

      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(`'${key}' is a storage credential`)
      expect(errors[0]).toContain('Save them in the portal')
      expect(errors[0]).not.toContain(secret)
    }
  )

  it('reports every problem', () => {
    const errors = validateStorageParams(StorageType.ThirdPartyConsumer, [
      param('', 'x'),
      param('acesskey', 'k')
    ])

    expect(errors).toHaveLength(3)
  })
})
