const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/

export function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31
}

/**
 * Checks text as .NET `int.TryParse` does: digits with an optional sign and
 * surrounding spaces, within the 32-bit range.
 */
export function isInt32Text(text: string): boolean {
  return INTEGER_TEXT.test(text) && isInt32(Number(text))
}
