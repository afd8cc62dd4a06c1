import { exceptions, type ServerException } from './envelope.js'
import { isInt32Text } from './integers.js'
import type { StartBody, StorageParamItem } from './start-body.js'
import { StorageType } from './storage-type.js'

/** A start request that passed every check. */
export interface StartRequest {
  storageType: number
  storageParams: Record<string, string>
  dump: boolean
}

export interface StartCheckContext {
  hosting: 'standalone' | 'saas'
  freeBackups: number | undefined
  completedBackups: number
  folderErrors: Record<string, 'not-found' | 'access-denied'>
}

export type StartCheckResult =
  { request: StartRequest } | { exception: ServerException }

/**
 * Runs the controller's checks on a bound body, in the order that
 * `BackupController.StartBackup` of DocSpace 3.7.2 runs them. Returns the
 * request with `storageParams` as a dictionary, or the exception the server
 * would throw.
 */
export function checkStartRequest(
  body: StartBody,
  context: StartCheckContext
): StartCheckResult {
  if (body.dump && context.hosting === 'saas') {
    return { exception: exceptions.accessDenied() }
  }

  // NOTE: where the server converts storageParams among these checks is not
  // known; converting it before the folder checks is a guess.
  const storageParams = toDictionary(body.storageParams)
  if ('exception' in storageParams) {
    return storageParams
  }

  const request = { ...body, storageParams: storageParams.dictionary }
  const exception =
    checkFolder(request, context) ??
    checkFreeBackups(context) ??
    checkLocalTarget(request, context)

  return exception ? { exception } : { request }
}

/**
 * Converts the items as `ToDictionary(key.ToString(), value.ToString())`
 * does: a null item, key or value throws NullReferenceException (500), and a
 * repeated key throws ArgumentException (400).
 */
function toDictionary(
  items: StorageParamItem[]
): { dictionary: Record<string, string> } | { exception: ServerException } {
  const dictionary = new Map<string, string>()

  for (const item of items) {
    if (!item || isNullish(item.key) || isNullish(item.value)) {
      return { exception: exceptions.nullReference() }
    }

    const key = dotNetToString(item.key)
    if (dictionary.has(key)) {
      return {
        exception: exceptions.argument(
          `An item with the same key has already been added. Key: ${key}`
        )
      }
    }

    dictionary.set(key, dotNetToString(item.value))
  }

  return { dictionary: Object.fromEntries(dictionary) }
}

function checkFolder(
  request: StartRequest,
  context: StartCheckContext
): ServerException | undefined {
  const folderId = request.storageParams.folderId
  const wrongType = exceptions.argument('wrong folder type')

  if (request.storageType === StorageType.Documents) {
    if (folderId === undefined || !isInt32Text(folderId)) {
      return wrongType
    }
  } else if (request.storageType === StorageType.ThridpartyDocuments) {
    if (folderId === undefined) {
      return exceptions.keyNotFound('folderId')
    }
    if (isInt32Text(folderId)) {
      return wrongType
    }
  } else {
    return undefined
  }

  return folderException(context.folderErrors[folderId])
}

function folderException(
  error: 'not-found' | 'access-denied' | undefined
): ServerException | undefined {
  if (error === 'not-found') {
    return exceptions.directoryNotFound('The required folder was not found')
  }

  return error === 'access-denied' ? exceptions.accessDenied() : undefined
}

function checkFreeBackups(
  context: StartCheckContext
): ServerException | undefined {
  const limit = context.freeBackups
  if (limit === undefined || context.completedBackups < limit) {
    return undefined
  }

  return exceptions.quota(
    `The number of free backups should not exceed ${limit} within a month`
  )
}

function checkLocalTarget(
  request: StartRequest,
  context: StartCheckContext
): ServerException | undefined {
  if (request.storageType !== StorageType.Local) {
    return undefined
  }

  // The server throws a plain System.Exception here, hence 500, not 403.
  if (context.hosting === 'saas') {
    return exceptions.general('Access denied')
  }

  return request.storageParams.filePath === undefined
    ? exceptions.keyNotFound('filePath')
    : undefined
}

/** Formats a JSON value as .NET's `ToString()` on a JsonElement would. */
function dotNetToString(value: unknown): string {
  if (typeof value === 'string') {
    return value
  }

  if (typeof value === 'boolean') {
    return value ? 'True' : 'False'
  }

  return typeof value === 'number' ? String(value) : JSON.stringify(value)
}

function isNullish(value: unknown): boolean {
  return value === null || value === undefined
}
