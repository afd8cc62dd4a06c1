/** A logger that keeps every message, for assertions. */
export interface RecordingLog {
  info(message: string): void
  warning(message: string): void
  infos: string[]
  warnings: string[]
}

export function createRecordingLog(): RecordingLog {
  const infos: string[] = []
  const warnings: string[] = []

  return {
    info: message => {
      infos.push(message)
    },
    warning: message => {
      warnings.push(message)
    },
    infos,
    warnings
  }
}

/** Counts the messages that contain `text`. */
export function countContaining(messages: string[], text: string): number {
  return messages.filter(message => message.includes(text)).length
}
