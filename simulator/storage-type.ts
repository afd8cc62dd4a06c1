/** `BackupStorageType` member names by value, typo included (DocSpace 3.7.2). */
export const STORAGE_TYPE_NAMES = [
  'Documents',
  'ThridpartyDocuments',
  'CustomCloud',
  'Local',
  'DataStore',
  'ThirdPartyConsumer'
]

export const StorageType = {
  Documents: 0,
  ThridpartyDocuments: 1,
  CustomCloud: 2,
  Local: 3,
  DataStore: 4,
  ThirdPartyConsumer: 5
} as const
