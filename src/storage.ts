/** The `storageType` values of DocSpace's `BackupStorageType` enum. */
export enum StorageType {
  Documents = 0,
  ThirdPartyDocuments = 1,
  CustomCloud = 2,
  Local = 3,
  DataStore = 4,
  ThirdPartyConsumer = 5
}

/** One `{key, value}` pair of the `storageParams` array. */
export interface StorageParam {
  key: string
  value: string
}

export type ParseResult<T> = { value: T } | { error: string }

const STORAGE_TYPE_NAMES: Record<string, StorageType> = {
  documents: StorageType.Documents,
  thirdpartydocuments: StorageType.ThirdPartyDocuments,
  // The server's enum member is spelled "ThridpartyDocuments".
  thridpartydocuments: StorageType.ThirdPartyDocuments,
  customcloud: StorageType.CustomCloud,
  local: StorageType.Local,
  datastore: StorageType.DataStore,
  thirdpartyconsumer: StorageType.ThirdPartyConsumer
}

const ACCEPTED_STORAGE_TYPES =
  'Documents, ThirdPartyDocuments, Local, DataStore, ThirdPartyConsumer, ' +
  'or 0, 1, 3, 4, 5'

/** Storage types whose finished backup has a download link. */
export const LINKED_STORAGE_TYPES: readonly StorageType[] = [
  StorageType.DataStore,
  StorageType.ThirdPartyConsumer
]

/**
 * Keys that hold the credentials of a storage consumer. DocSpace saves these
 * into the portal's consumer settings when they appear in `storageParams`,
 * which overwrites the credentials an admin saved there.
 */
const CREDENTIAL_KEYS = new Set(['acesskey', 'accesskey', 'secretaccesskey'])

/** Returns the enum member name used in messages and the job summary. */
export function storageTypeName(type: StorageType): string {
  return StorageType[type]
}

/**
 * Parses the `storage-type` input: an enum name in any case (both spellings
 * of type 1) or its number.
 */
export function parseStorageType(text: string): ParseResult<StorageType> {
  const trimmed = text.trim()
  const type = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : STORAGE_TYPE_NAMES[trimmed.toLowerCase()]

  if (type === StorageType.CustomCloud) {
    return {
      error:
        `storage-type: '${trimmed}' (CustomCloud) is not supported. ` +
        'DocSpace accepts it, but every such backup fails with ' +
        "'Unknown storage type.'. " +
        `Use one of: ${ACCEPTED_STORAGE_TYPES}.`
    }
  }
  if (type === undefined || !(type in StorageType)) {
    return {
      error:
        `storage-type: '${trimmed}' is not a storage type. ` +
        `Use one of: ${ACCEPTED_STORAGE_TYPES}.`
    }
  }

  return { value: type }
}

/**
 * Parses the `storage-params` input: `key=value` lines or a JSON object with
 * string, number or boolean values. Keeps the order given.
 */
export function parseStorageParams(text: string): ParseResult<StorageParam[]> {
  const trimmed = text.trim()
  if (trimmed === '') {
    return { value: [] }
  }

  return trimmed.startsWith('{')
    ? parseJsonParams(trimmed)
    : parseLineParams(trimmed)
}

function parseJsonParams(text: string): ParseResult<StorageParam[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return {
      error:
        'storage-params: the value starts with { but is not valid JSON. ' +
        'Use a JSON object such as {"folderId": "123"} or key=value lines.'
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: 'storage-params: the JSON value must be an object.' }
  }

  const duplicate = Object.keys(parsed).find(key => countJsonKey(text, key) > 1)
  if (duplicate !== undefined) {
    return {
      error: `storage-params: the key '${duplicate}' is given more than once.`
    }
  }

  const params: StorageParam[] = []
  for (const [key, value] of Object.entries(parsed)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      return {
        error:
          `storage-params: the value of '${key}' must be a string, a number ` +
          'or a boolean.'
      }
    }
    params.push({ key: key.trim(), value: String(value) })
  }

  return { value: params }
}

/** Counts `"key":` in JSON text; JSON.parse silently keeps the last one. */
function countJsonKey(text: string, key: string): number {
  const escaped = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return text.match(new RegExp(`${escaped}\\s*:`, 'g'))?.length ?? 0
}

function parseLineParams(text: string): ParseResult<StorageParam[]> {
  const params: StorageParam[] = []
  const lines = text.split(/\r?\n/)

  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') {
      continue
    }
    const separator = line.indexOf('=')
    if (separator < 0) {
      return {
        error:
          `storage-params: line ${index + 1} has no '='. ` +
          'Write each setting as key=value on its own line.'
      }
    }
    params.push({
      key: line.slice(0, separator).trim(),
      value: line.slice(separator + 1).trim()
    })
  }

  return { value: params }
}

/**
 * Checks the params against what the server needs for the storage type.
 * Messages name keys but never values, because values can be secret.
 */
export function validateStorageParams(
  type: StorageType,
  params: StorageParam[]
): string[] {
  const errors = [...checkKeys(params)]
  const folderId = params.find(param => param.key === 'folderId')?.value

  switch (type) {
    case StorageType.Documents:
      if (folderId === undefined || !/^\d+$/.test(folderId)) {
        errors.push(
          'storage-params: Documents needs folderId=<number>, the id of the ' +
            `room or folder that receives the backup${miscasedHint(params, 'folderId')}.`
        )
      }
      break
    case StorageType.ThirdPartyDocuments:
      if (folderId === undefined || /^\d+$/.test(folderId)) {
        errors.push(
          'storage-params: ThirdPartyDocuments needs folderId=<id> of a ' +
            'connected third-party folder (not a number; a number is a ' +
            'DocSpace folder, so use storage-type Documents for it)' +
            `${miscasedHint(params, 'folderId')}.`
        )
      }
      break
    case StorageType.Local:
      errors.push(...requireKey(params, 'filePath', 'Local', '/var/backups'))
      break
    case StorageType.ThirdPartyConsumer:
      errors.push(...requireKey(params, 'module', 'ThirdPartyConsumer', 's3'))
      break
    case StorageType.DataStore:
      if (params.length > 0) {
        errors.push(
          'storage-params: DataStore takes no settings; remove ' +
            `${params.map(param => param.key).join(', ')}.`
        )
      }
      break
  }

  return errors
}

function checkKeys(params: StorageParam[]): string[] {
  const errors: string[] = []
  const seen = new Map<string, string>()

  for (const { key } of params) {
    if (key === '') {
      errors.push('storage-params: a setting has an empty key.')
      continue
    }
    const earlier = seen.get(key.toLowerCase())
    if (earlier !== undefined) {
      const spellings =
        earlier === key ? `'${key}'` : `'${earlier}' and '${key}'`
      errors.push(
        `storage-params: the key ${spellings} is given more than once ` +
          '(keys must be unique regardless of case).'
      )
    }
    seen.set(key.toLowerCase(), key)

    if (CREDENTIAL_KEYS.has(key.toLowerCase())) {
      errors.push(
        `storage-params: '${key}' is a storage credential. Sending it would ` +
          'overwrite the credentials saved in the portal. Save them in the ' +
          'portal (Settings > Integration > Third-party services) and leave ' +
          'them out of storage-params.'
      )
    }
  }

  return errors
}

function requireKey(
  params: StorageParam[],
  key: string,
  typeName: string,
  example: string
): string[] {
  if (params.some(param => param.key === key && param.value !== '')) {
    return []
  }

  return [
    `storage-params: ${typeName} needs ${key}=<value>, e.g. ` +
      `${key}=${example}${miscasedHint(params, key)}.`
  ]
}

/** Points at a key given with other letter case, which the server misses. */
function miscasedHint(params: StorageParam[], key: string): string {
  const miscased = params.find(
    param => param.key !== key && param.key.toLowerCase() === key.toLowerCase()
  )

  return miscased ? ` (found '${miscased.key}'; keys are case-sensitive)` : ''
}
