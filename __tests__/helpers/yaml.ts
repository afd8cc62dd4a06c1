/**
 * A small, strict YAML reader for the subset that action.yml and the example
 * workflows use: block mappings and sequences, plain and quoted scalars,
 * literal (|) and folded (>) block scalars, one-line flow sequences and
 * comments. It throws on anything else (anchors, tags, flow mappings,
 * multi-line plain or quoted scalars, tabs, duplicate keys), so a document
 * it cannot read fully fails the test instead of passing on a partial read.
 *
 * Scalars stay strings, as the runner passes inputs to an action; a key with
 * no value is null.
 */
export type YamlValue = string | null | YamlValue[] | YamlMapping

export interface YamlMapping {
  [key: string]: YamlValue
}

/** A line of the document without its indentation. */
interface Line {
  /** 1-based line number, for error messages. */
  number: number
  indent: number
  text: string
  /** Whether the indentation contains a tab, which YAML forbids. */
  tabIndent: boolean
}

/** The document's structure was not valid or is outside the subset. */
export class YamlSubsetError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.name = 'YamlSubsetError'
  }
}

const MAPPING_ENTRY = /^([^\s'"#{}[\],&*!|>%@`?-][^#]*?|-[^\s][^#]*?):(?:\s+|$)/
const QUOTED_SCALAR = /^(?:'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")/
const BLOCK_SCALAR_HEADER = /^([|>])([+-]?)(?:\s+#.*)?$/
const FORBIDDEN_PLAIN_START = /^[&*!%@`{}\],|>#]|^[?:-](?:\s|$)/

/** Parses a YAML document of the supported subset. */
export function parseYaml(text: string): YamlValue {
  const reader = new Reader(text)
  const value = reader.parseBlock(0)
  reader.expectEnd()

  return value
}

class Reader {
  private readonly rawLines: string[]
  private readonly lines: (Line | undefined)[]
  private index = 0

  constructor(text: string) {
    this.rawLines = text.replace(/\r\n/g, '\n').split('\n')
    this.lines = this.rawLines.map((raw, index) => toLine(raw, index + 1))
  }

  /** Parses the node that starts at the next content line. */
  parseBlock(minIndent: number): YamlValue {
    const line = this.peek()
    if (!line || line.indent < minIndent) {
      return null
    }

    return isSequenceItem(line.text)
      ? this.parseSequence(line.indent)
      : this.parseMapping(line.indent)
  }

  expectEnd(): void {
    const line = this.peek()
    if (line) {
      throw new YamlSubsetError(line.number, 'unexpected content at the end')
    }
  }

  private parseMapping(indent: number): YamlMapping {
    const mapping: YamlMapping = {}

    for (let line = this.peek(); line; line = this.peek()) {
      if (line.indent < indent) {
        break
      }
      if (line.indent > indent) {
        throw new YamlSubsetError(line.number, 'unexpected indentation')
      }
      if (isSequenceItem(line.text)) {
        break
      }

      const entry = MAPPING_ENTRY.exec(line.text)
      if (!entry) {
        throw new YamlSubsetError(line.number, `not a 'key: value' entry`)
      }
      const key = entry[1]!.trim()
      if (Object.hasOwn(mapping, key)) {
        throw new YamlSubsetError(line.number, `duplicate key '${key}'`)
      }
      this.index++
      mapping[key] = this.parseValue(
        line,
        indent,
        line.text.slice(entry[0].length)
      )
    }

    return mapping
  }

  private parseSequence(indent: number): YamlValue[] {
    const items: YamlValue[] = []

    for (let line = this.peek(); line; line = this.peek()) {
      if (line.indent < indent) {
        break
      }
      if (line.indent > indent) {
        throw new YamlSubsetError(line.number, 'unexpected indentation')
      }
      if (!isSequenceItem(line.text)) {
        break
      }

      const rest = line.text.slice(1).trimStart()
      if (rest === '' || rest.startsWith('#')) {
        this.index++
        items.push(this.parseBlock(indent + 1))
        continue
      }

      // Read `- key: value` and `- - item` as a node that starts where the
      // text after the dash starts.
      const itemIndent = line.indent + line.text.length - rest.length
      if (MAPPING_ENTRY.test(rest) || isSequenceItem(rest)) {
        this.lines[this.index] = { ...line, indent: itemIndent, text: rest }
        items.push(this.parseBlock(itemIndent))
        continue
      }

      this.index++
      items.push(this.parseValue(line, indent, rest))
    }

    return items
  }

  /** Parses what follows `key:` or `- `; `parentIndent` is the line's. */
  private parseValue(
    line: Line,
    parentIndent: number,
    text: string
  ): YamlValue {
    const value = stripComment(text)
    if (value === '') {
      const next = this.peek()
      // A sequence may sit at the same indentation as its key.
      if (next && next.indent === parentIndent && isSequenceItem(next.text)) {
        return this.parseSequence(parentIndent)
      }
      return this.parseBlock(parentIndent + 1)
    }

    const header = BLOCK_SCALAR_HEADER.exec(value)
    if (header) {
      return this.readBlockScalar(
        line,
        parentIndent,
        header[1] as '|' | '>',
        header[2]!
      )
    }

    const scalar = parseInlineValue(value, line.number)
    const next = this.peek()
    if (next && next.indent > parentIndent && !isSequenceItem(next.text)) {
      throw new YamlSubsetError(
        next.number,
        'a plain or quoted scalar continues on this line, which the subset ' +
          'does not allow'
      )
    }

    return scalar
  }

  private readBlockScalar(
    line: Line,
    parentIndent: number,
    style: '|' | '>',
    chomping: string
  ): string {
    const content: string[] = []
    let contentIndent: number | undefined
    let position = this.index

    for (; position < this.rawLines.length; position++) {
      const raw = this.rawLines[position]!
      if (raw.trim() === '') {
        content.push('')
        continue
      }
      const indent = raw.length - raw.trimStart().length
      if (raw.slice(0, indent).includes('\t')) {
        throw new YamlSubsetError(position + 1, 'tab in indentation')
      }
      contentIndent ??= indent
      if (indent <= parentIndent || indent < contentIndent) {
        break
      }
      content.push(raw.slice(contentIndent))
    }
    this.index = position

    let trailingBlank = 0
    while (content.length > 0 && content[content.length - 1] === '') {
      content.pop()
      trailingBlank++
    }
    const body = style === '|' ? content.join('\n') : fold(content)

    if (body === '' || chomping === '-') {
      return body
    }
    return chomping === '+'
      ? `${body}\n${'\n'.repeat(trailingBlank)}`
      : `${body}\n`
  }

  /**
   * Returns the next line with content, skipping blank and comment lines.
   * Lines are checked here, not when split, because the content of a block
   * scalar may hold anything.
   */
  private peek(): Line | undefined {
    while (this.index < this.lines.length) {
      const line = this.lines[this.index]
      if (line?.tabIndent) {
        throw new YamlSubsetError(line.number, 'tab in indentation')
      }
      if (line && line.indent === 0 && /^(---|\.\.\.)(\s|$)/.test(line.text)) {
        throw new YamlSubsetError(
          line.number,
          'document markers are not supported'
        )
      }
      if (line) {
        return line
      }
      this.index++
    }

    return undefined
  }
}

/** Returns the line, or undefined for a blank or comment-only line. */
function toLine(raw: string, number: number): Line | undefined {
  const text = raw.trimStart()
  if (text === '' || text.startsWith('#')) {
    return undefined
  }
  const indent = raw.length - text.length
  const tabIndent = raw.slice(0, indent).includes('\t')

  return { number, indent, text: text.trimEnd(), tabIndent }
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ')
}

/**
 * Removes a trailing comment, which in a plain scalar starts at the first ` #`.
 * Quoted scalars and flow sequences are scanned, so a `#` in quotes stays.
 */
function stripComment(text: string): string {
  const quoted = QUOTED_SCALAR.exec(text)
  if (quoted) {
    const rest = text.slice(quoted[0].length)
    // Anything but a comment after the quote is left for parseScalar to reject.
    return /^\s*(?:#.*)?$/.test(rest) ? quoted[0] : text
  }

  let quote: string | undefined
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!
    const previous = index === 0 ? ' ' : text[index - 1]!
    if (quote) {
      quote = char === quote ? undefined : quote
    } else if (
      text.startsWith('[') &&
      `'"`.includes(char) &&
      /[\s[,]/.test(previous)
    ) {
      quote = char
    } else if (char === '#' && /\s/.test(previous)) {
      return text.slice(0, index).trimEnd()
    }
  }

  return text.trimEnd()
}

function parseInlineValue(text: string, line: number): YamlValue {
  if (text.startsWith('[')) {
    return parseFlowSequence(text, line)
  }

  return parseScalar(text, line)
}

function parseFlowSequence(text: string, line: number): string[] {
  if (!text.endsWith(']')) {
    throw new YamlSubsetError(line, 'a flow sequence must end on its line')
  }
  const inner = text.slice(1, -1).trim()
  if (inner === '') {
    return []
  }

  const items: string[] = []
  let current = ''
  let quote: string | undefined
  for (const char of inner) {
    if (quote) {
      quote = char === quote ? undefined : quote
    } else if (char === '"' || char === "'") {
      quote = char
    } else if (char === ',') {
      items.push(current)
      current = ''
      continue
    } else if ('[]{}'.includes(char)) {
      throw new YamlSubsetError(
        line,
        'nested flow collections are not supported'
      )
    }
    current += char
  }
  items.push(current)

  return items.map(item => parseScalar(item.trim(), line))
}

function parseScalar(text: string, line: number): string {
  if (text.startsWith("'")) {
    return parseSingleQuoted(text, line)
  }
  if (text.startsWith('"')) {
    return parseDoubleQuoted(text, line)
  }
  if (FORBIDDEN_PLAIN_START.test(text) || text === '') {
    throw new YamlSubsetError(line, `unsupported value '${text}'`)
  }
  if (/:\s/.test(text) || text.endsWith(':')) {
    throw new YamlSubsetError(
      line,
      `'${text}' contains ': ', which YAML does not allow in a plain scalar; quote it`
    )
  }

  return text
}

function parseSingleQuoted(text: string, line: number): string {
  const match = /^'((?:[^']|'')*)'$/.exec(text)
  if (!match) {
    throw new YamlSubsetError(line, `unterminated or malformed quote: ${text}`)
  }

  return match[1]!.replace(/''/g, "'")
}

const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0'
}

function parseDoubleQuoted(text: string, line: number): string {
  const match = /^"((?:[^"\\]|\\.)*)"$/.exec(text)
  if (!match) {
    throw new YamlSubsetError(line, `unterminated or malformed quote: ${text}`)
  }

  return match[1]!.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escape: string) => {
    if (escape.startsWith('u') && escape.length === 5) {
      return String.fromCharCode(parseInt(escape.slice(1), 16))
    }
    const replacement = DOUBLE_QUOTE_ESCAPES[escape]
    if (replacement === undefined) {
      throw new YamlSubsetError(line, `unsupported escape \\${escape}`)
    }
    return replacement
  })
}

/**
 * Folds the lines of a `>` scalar: a single line break between two lines at
 * the base indentation becomes a space, and every blank line a line break.
 * Breaks next to more-indented lines are kept.
 */
function fold(lines: string[]): string {
  let result = ''
  let blanks = 0
  let previousMoreIndented = false
  let first = true

  for (const line of lines) {
    if (line === '') {
      blanks++
      continue
    }
    const moreIndented = /^\s/.test(line)
    if (first) {
      result = '\n'.repeat(blanks) + line
    } else if (previousMoreIndented || moreIndented) {
      result += '\n' + '\n'.repeat(blanks) + line
    } else {
      result += (blanks > 0 ? '\n'.repeat(blanks) : ' ') + line
    }
    first = false
    blanks = 0
    previousMoreIndented = moreIndented
  }

  return result
}
