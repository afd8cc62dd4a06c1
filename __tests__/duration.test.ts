import { describe, expect, it } from '@jest/globals'
import { parseDuration } from '../src/duration.js'

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h30m', 5400],
    ['1h', 3600]
  ])('parses %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds)
  })

  it.each(['', 'abc', '1.5h', '-5', '5 minutes'])('rejects %j', text => {
    expect(parseDuration(text)).toBeUndefined()
  })
})
