import { isInt32, isInt32Text } from './integers.js'
import { STORAGE_TYPE_NAMES, StorageType } from './storage-type.js'

/** A `{key, value}` item of `storageParams` as sent; null when the item is. */
export type StorageParamItem = { key: unknown; value: unknown } | null

/** The start body after model binding, before the controller's checks. */
export interface StartBody {
  storageType: number
  storageParams: StorageParamItem[]
  dump: boolean
}

export type BodyParseResult =
  { body: StartBody } | { errors: Record<string, string[]> }

const MODEL_REQUIRED = { inDto: ['The inDto field is required.'] }

const PROPERTY_TYPES: Record<string, string> = {
  storagetype: 'System.Nullable`1[ASC.Data.Backup.Contracts.BackupStorageType]',
  storageparams:
    'System.Collections.Generic.IEnumerable`1[ASC.Api.Collections.ItemKeyValuePair`2[System.Object,System.Object]]',
  dump: 'System.Boolean'
}

/**
 * Binds a start body the way System.Text.Json does for `BackupDto`: property
 * names ignore case, and the first property that cannot be converted fails
 * the whole body. Only that first error is reported, as in ASP.NET.
 */
export function parseStartBody(text: string): BodyParseResult {
  if (text.trim() === '') {
    return { errors: { '': ['A non-empty request body is required.'] } }
  }

  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return invalid('$', 'The request body is not valid JSON.')
  }

  if (json === null) {
    return { errors: MODEL_REQUIRED }
  }

  if (typeof json !== 'object' || Array.isArray(json)) {
    return conversionError('$', 'ASC.Data.Backup.ApiModels.BackupDto')
  }

  return bindProperties(json as Record<string, unknown>)
}

function bindProperties(json: Record<string, unknown>): BodyParseResult {
  const body: StartBody = { storageType: 0, storageParams: [], dump: false }

  for (const [name, value] of Object.entries(json)) {
    const property = name.toLowerCase()
    const path = `$.${name}`

    if (property === 'storagetype') {
      const storageType = readStorageType(value)
      if (storageType === undefined) {
        return conversionError(path, PROPERTY_TYPES.storagetype!)
      }
      body.storageType = storageType
    } else if (property === 'storageparams') {
      const items = readStorageParams(value)
      if (typeof items === 'string') {
        return conversionError(`${path}${items}`, PROPERTY_TYPES.storageparams!)
      }
      body.storageParams = items
    } else if (property === 'dump') {
      if (typeof value !== 'boolean') {
        return conversionError(path, PROPERTY_TYPES.dump!)
      }
      body.dump = value
    }
  }

  return { body }
}

/**
 * Reads `storageType` as JsonStringEnumConverter does: an integer, a numeric
 * string, or a member name in any case. Null means the default, Documents.
 * Integers outside 0-5 bind and later fail in the worker.
 */
export function readStorageType(value: unknown): number | undefined {
  if (value === null || value === undefined) {
    return StorageType.Documents
  }

  if (typeof value === 'number') {
    return isInt32(value) ? value : undefined
  }

  if (typeof value !== 'string') {
    return undefined
  }

  if (isInt32Text(value)) {
    return Number(value)
  }

  const index = STORAGE_TYPE_NAMES.findIndex(
    name => name.toLowerCase() === value.toLowerCase()
  )

  return index === -1 ? undefined : index
}

/** Returns the items, or the path suffix of the item that failed to bind. */
function readStorageParams(value: unknown): StorageParamItem[] | string {
  if (value === null || value === undefined) {
    return []
  }

  if (!Array.isArray(value)) {
    return ''
  }

  const items: StorageParamItem[] = []
  for (const [index, item] of value.entries()) {
    if (item === null) {
      items.push(null)
    } else if (typeof item === 'object' && !Array.isArray(item)) {
      const record = item as Record<string, unknown>
      items.push({
        key: propertyIgnoringCase(record, 'key'),
        value: propertyIgnoringCase(record, 'value')
      })
    } else {
      return `[${index}]`
    }
  }

  return items
}

function propertyIgnoringCase(
  record: Record<string, unknown>,
  name: string
): unknown {
  const key = Object.keys(record).findLast(key => key.toLowerCase() === name)

  return key === undefined ? undefined : record[key]
}

function conversionError(path: string, type: string): BodyParseResult {
  return invalid(
    path,
    `The JSON value could not be converted to ${type}. Path: ${path}`
  )
}

function invalid(path: string, message: string): BodyParseResult {
  return { errors: { [path]: [message], ...MODEL_REQUIRED } }
}
