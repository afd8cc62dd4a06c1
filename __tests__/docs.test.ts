import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  parseYaml,
  YamlSubsetError,
  type YamlMapping,
  type YamlValue
} from './helpers/yaml.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EXAMPLES_DIR = join(ROOT, 'docs', 'examples')

/** A `uses:` value that runs this action: published, pinned or local. */
const ACTION_REF = /^(?:[\w.-]+\/docspace-backup-action@\S+|\.\/?)$/
const STEP_OUTPUT_REF = /\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g
const JOB_OUTPUT_REF = /\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g
const FROM_SECRETS = /^\$\{\{\s*secrets[.[]/
const INPUT_READ =
  /\b(?:getInput|getBooleanInput|getMultilineInput)\(\s*['"]([^'"]+)['"]/g
const OUTPUT_SET = /\bsetOutput\(\s*['"]([^'"]+)['"]/g

interface InputSpec {
  required: boolean
  /** The default, or undefined for a required input without one. */
  defaultValue: string | undefined
}

interface ActionSpec {
  inputs: Map<string, InputSpec>
  outputs: Set<string>
}

/** A document to check, named for failure messages. */
interface WorkflowSource {
  name: string
  text: string
  /** Whether the api-key must come from `secrets`, as docs should show. */
  keyFromSecrets: boolean
}

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8')
}

function asMapping(value: YamlValue | undefined, subject: string): YamlMapping {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${subject} is not a mapping`)
  }

  return value
}

function readActionSpec(text: string): ActionSpec {
  const action = asMapping(parseYaml(text), 'action.yml')
  const inputs = new Map<string, InputSpec>()

  for (const [name, value] of Object.entries(
    asMapping(action.inputs, 'inputs')
  )) {
    const input = asMapping(value, `input ${name}`)
    const defaultValue = input.default
    if (defaultValue !== undefined && typeof defaultValue !== 'string') {
      throw new Error(`input ${name}: default is not a scalar`)
    }
    inputs.set(name, {
      required: input.required === 'true',
      defaultValue: defaultValue ?? (input.required === 'true' ? undefined : '')
    })
  }

  const outputs = new Set(Object.keys(asMapping(action.outputs, 'outputs')))
  return { inputs, outputs }
}

/** Returns the rows of the first table under `## heading`, header excluded. */
function readTable(markdown: string, heading: string): string[][] {
  const section = markdown
    .split(/^## /m)
    .find(part => part.startsWith(`${heading}\n`))
  if (section === undefined) {
    throw new Error(`README has no '## ${heading}' section`)
  }

  const lines = section.split('\n')
  const start = lines.findIndex(line => line.startsWith('|'))
  const end = lines.findIndex(
    (line, index) => index > start && !line.startsWith('|')
  )
  const rows = lines
    .slice(start, end < 0 ? undefined : end)
    .map(line => line.trim().replace(/^\||\|$/g, ''))
    .map(line => line.split(/(?<!\\)\|/).map(cell => cell.trim()))

  // Drop the header row and the |---| separator.
  return start < 0 ? [] : rows.slice(2)
}

function codeName(cell: string | undefined, table: string): string {
  const match = /^`([^`]+)`$/.exec(cell ?? '')
  if (!match) {
    throw new Error(`${table}: '${cell}' is not a name in backticks`)
  }

  return match[1]!
}

/** Reads a Default cell: `required`, or a value in backticks (`''` is empty). */
function parseDefaultCell(cell: string | undefined, name: string): InputSpec {
  if (cell === 'required') {
    return { required: true, defaultValue: undefined }
  }
  const match = /^`(.*)`$/.exec(cell ?? '')
  if (!match) {
    throw new Error(
      `input ${name}: default '${cell}' is neither 'required' nor a value in backticks`
    )
  }

  const value = match[1] === "''" ? '' : match[1]!
  return { required: false, defaultValue: value }
}

function readReadmeInputs(markdown: string): [string, InputSpec][] {
  return readTable(markdown, 'Inputs').map(cells => {
    const name = codeName(cells[0], 'Inputs table')
    return [name, parseDefaultCell(cells[2], name)]
  })
}

function readReadmeOutputs(markdown: string): string[] {
  return readTable(markdown, 'Outputs').map(cells =>
    codeName(cells[0], 'Outputs table')
  )
}

function duplicates(names: string[]): string[] {
  return names.filter((name, index) => names.indexOf(name) !== index)
}

/** Lists how the README's tables differ from action.yml; empty when equal. */
function compareReadme(spec: ActionSpec, markdown: string): string[] {
  const problems: string[] = []
  const inputs = readReadmeInputs(markdown)
  const inputNames = inputs.map(([name]) => name)
  const outputNames = readReadmeOutputs(markdown)

  for (const name of duplicates(inputNames)) {
    problems.push(`README lists input ${name} more than once`)
  }
  for (const name of spec.inputs.keys()) {
    if (!inputNames.includes(name)) {
      problems.push(`README does not list input ${name}`)
    }
  }
  for (const [name, documented] of inputs) {
    const declared = spec.inputs.get(name)
    if (!declared) {
      problems.push(
        `README lists input ${name}, which action.yml does not declare`
      )
    } else if (declared.defaultValue !== documented.defaultValue) {
      problems.push(
        `input ${name}: README gives default ${JSON.stringify(documented.defaultValue ?? 'required')}, ` +
          `action.yml ${JSON.stringify(declared.defaultValue ?? 'required')}`
      )
    }
  }

  for (const name of duplicates(outputNames)) {
    problems.push(`README lists output ${name} more than once`)
  }
  for (const name of spec.outputs) {
    if (!outputNames.includes(name)) {
      problems.push(`README does not list output ${name}`)
    }
  }
  for (const name of outputNames) {
    if (!spec.outputs.has(name)) {
      problems.push(
        `README lists output ${name}, which action.yml does not declare`
      )
    }
  }

  return problems
}

/** Returns every mapping in `value` that has a `uses` running this action. */
function findActionSteps(value: YamlValue): YamlMapping[] {
  if (value === null || typeof value === 'string') {
    return []
  }
  if (Array.isArray(value)) {
    return value.flatMap(findActionSteps)
  }

  const own =
    typeof value.uses === 'string' && ACTION_REF.test(value.uses) ? [value] : []
  return [...own, ...Object.values(value).flatMap(findActionSteps)]
}

/** Returns the ids of all steps in `value`, with or without this action. */
function findStepIds(value: YamlValue): string[] {
  if (value === null || typeof value === 'string') {
    return []
  }
  if (Array.isArray(value)) {
    return value.flatMap(findStepIds)
  }

  const isStep = 'uses' in value || 'run' in value
  const own = isStep && typeof value.id === 'string' ? [value.id] : []
  return [...own, ...Object.values(value).flatMap(findStepIds)]
}

/** Lists the problems of one workflow or fragment; empty when it is right. */
function checkWorkflow(spec: ActionSpec, source: WorkflowSource): string[] {
  const problems: string[] = []
  const document = parseYaml(source.text)
  const steps = findActionSteps(document)
  const actionStepIds = new Set<string>()

  for (const step of steps) {
    const label = `${source.name}: step ${step.id ?? step.name ?? step.uses}`
    const inputs =
      step.with === undefined ? {} : asMapping(step.with, `${label} with`)
    if (typeof step.id === 'string') {
      actionStepIds.add(step.id)
    }

    for (const name of Object.keys(inputs)) {
      if (!spec.inputs.has(name)) {
        problems.push(
          `${label} passes input ${name}, which action.yml does not declare`
        )
      }
    }
    for (const [name, input] of spec.inputs) {
      if (input.required && !(name in inputs)) {
        problems.push(`${label} does not pass required input ${name}`)
      }
    }
    const apiKey = inputs['api-key']
    if (
      source.keyFromSecrets &&
      (typeof apiKey !== 'string' || !FROM_SECRETS.test(apiKey))
    ) {
      problems.push(`${label} does not take api-key from secrets`)
    }
  }

  const stepIds = new Set(findStepIds(document))
  for (const [, id, output] of source.text.matchAll(STEP_OUTPUT_REF)) {
    if (!stepIds.has(id!)) {
      problems.push(
        `${source.name}: steps.${id} is not a step id in this document`
      )
    } else if (actionStepIds.has(id!) && !spec.outputs.has(output!)) {
      problems.push(
        `${source.name}: steps.${id}.outputs.${output} is not an output of the action`
      )
    }
  }
  problems.push(...checkJobOutputRefs(document, source))

  return problems
}

/** Checks `needs.<job>.outputs.<name>` against the jobs' `outputs:`. */
function checkJobOutputRefs(
  document: YamlValue,
  source: WorkflowSource
): string[] {
  const problems: string[] = []
  const jobs =
    document !== null &&
    typeof document === 'object' &&
    !Array.isArray(document)
      ? document.jobs
      : undefined

  for (const [, job, output] of source.text.matchAll(JOB_OUTPUT_REF)) {
    const jobSpec = jobs && asMapping(jobs, 'jobs')[job!]
    const declared =
      jobSpec && typeof jobSpec === 'object' && !Array.isArray(jobSpec)
        ? jobSpec.outputs
        : undefined
    if (!declared || !(output! in asMapping(declared, `job ${job} outputs`))) {
      problems.push(
        `${source.name}: needs.${job}.outputs.${output} is not declared by job ${job}`
      )
    }
  }

  return problems
}

function readmeYamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map(
    match => match[1]!
  )
}

function exampleFiles(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter(name => /\.ya?ml$/.test(name))
    .sort()
}

function workflowSources(): WorkflowSource[] {
  const examples = exampleFiles().map(name => ({
    name: `docs/examples/${name}`,
    text: readFileSync(join(EXAMPLES_DIR, name), 'utf8'),
    keyFromSecrets: true
  }))
  const readmeBlocks = readmeYamlBlocks(read('README.md'))
    .filter(text => findActionSteps(parseYaml(text)).length > 0)
    .map((text, index) => ({
      name: `README.md yaml block ${index + 1} (${text.split('\n')[0]})`,
      text,
      keyFromSecrets: true
    }))
  const ci = {
    name: '.github/workflows/ci.yml',
    text: read('.github/workflows/ci.yml'),
    keyFromSecrets: false
  }

  return [...examples, ...readmeBlocks, ci]
}

/** Returns the names matched by `pattern` in every .ts file under src/. */
function namesInSource(pattern: RegExp): Set<string> {
  const files = readdirSync(join(ROOT, 'src'), { recursive: true })
    .map(String)
    .filter(path => path.endsWith('.ts'))

  return new Set(
    files.flatMap(file => {
      const text = readFileSync(join(ROOT, 'src', file), 'utf8')
      return [...text.matchAll(pattern)].map(match => match[1]!)
    })
  )
}

/** Returns `markdown` with the Default cell of input `name` replaced. */
function withDefaultCell(markdown: string, name: string, cell: string): string {
  const row = new RegExp(`^(\\| \`${name}\` +\\|[^|]*\\| )[^|]*?( *\\|)$`, 'm')
  const changed = markdown.replace(row, `$1${cell}$2`)
  if (changed === markdown) {
    throw new Error(`README has no Inputs row for ${name}`)
  }

  return changed
}

const spec = readActionSpec(read('action.yml'))
const readme = read('README.md')

describe('action.yml', () => {
  it('declares inputs and outputs', () => {
    expect(spec.inputs.size).toBeGreaterThan(0)
    expect(spec.outputs.size).toBeGreaterThan(0)
  })

  it('declares every input the code reads', () => {
    const readNames = namesInSource(INPUT_READ)
    const undeclared = [...readNames].filter(name => !spec.inputs.has(name))

    expect(readNames.size).toBeGreaterThan(0)
    expect(undeclared).toEqual([])
  })

  it('declares only inputs the code reads', () => {
    const readNames = namesInSource(INPUT_READ)
    const unread = [...spec.inputs.keys()].filter(name => !readNames.has(name))

    expect(unread).toEqual([])
  })

  it('declares every output the code sets', () => {
    const set = namesInSource(OUTPUT_SET)
    const undeclared = [...set].filter(name => !spec.outputs.has(name))

    expect(set.size).toBeGreaterThan(0)
    expect(undeclared).toEqual([])
  })

  it('declares only outputs the code sets', () => {
    const set = namesInSource(OUTPUT_SET)
    const unset = [...spec.outputs].filter(name => !set.has(name))

    expect(unset).toEqual([])
  })
})

describe('README tables', () => {
  it('match action.yml', () => {
    expect(compareReadme(spec, readme)).toEqual([])
  })

  it('list every input and output', () => {
    expect(readReadmeInputs(readme)).toHaveLength(spec.inputs.size)
    expect(readReadmeOutputs(readme)).toHaveLength(spec.outputs.size)
  })

  it('catch a renamed input', () => {
    const renamed = readme.replace('| `poll-interval` ', '| `poll-intervals` ')

    expect(renamed).not.toBe(readme)
    expect(compareReadme(spec, renamed)).toEqual([
      'README does not list input poll-interval',
      'README lists input poll-intervals, which action.yml does not declare'
    ])
  })

  it('catch a changed default', () => {
    const declared = spec.inputs.get('timeout')?.defaultValue
    const changed = withDefaultCell(readme, 'timeout', '`99h`')

    expect(compareReadme(spec, changed)).toEqual([
      `input timeout: README gives default "99h", action.yml "${declared}"`
    ])
  })

  it('catch an optional input shown as required', () => {
    const declared = spec.inputs.get('dump')?.defaultValue
    const changed = withDefaultCell(readme, 'dump', 'required')

    expect(compareReadme(spec, changed)).toEqual([
      `input dump: README gives default "required", action.yml "${declared}"`
    ])
  })

  it('catch a missing output', () => {
    const removed = readme.replace(/^\| `warning` .*\n/m, '')

    expect(removed).not.toBe(readme)
    expect(compareReadme(spec, removed)).toEqual([
      'README does not list output warning'
    ])
  })

  it('catch an output action.yml lacks', () => {
    const reduced: ActionSpec = {
      inputs: spec.inputs,
      outputs: new Set([...spec.outputs].filter(name => name !== 'link'))
    }

    expect(compareReadme(reduced, readme)).toEqual([
      'README lists output link, which action.yml does not declare'
    ])
  })
})

/** Returns the anchor GitHub gives a heading: lower case, no punctuation. */
function headingAnchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

describe('README links', () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(match => match[1]!)

  it('point at headings that exist', () => {
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6} (.+)$/gm)].map(match =>
        headingAnchor(match[1]!)
      )
    )
    const broken = links
      .filter(link => link.startsWith('#'))
      .filter(link => !anchors.has(link.slice(1)))

    expect(broken).toEqual([])
  })

  it('point at files that exist', () => {
    const missing = links
      .filter(link => !/^(?:#|[a-z]+:)/.test(link))
      .filter(link => !existsSync(join(ROOT, link)))

    expect(missing).toEqual([])
  })
})

describe('workflow examples', () => {
  const sources = workflowSources()

  it('include every example file', () => {
    expect(exampleFiles()).toEqual([
      'before-deploy.yml',
      'download-artifact.yml',
      'manual.yml',
      'matrix.yml',
      'nightly.yml',
      's3.yml'
    ])
  })

  it('use the action', () => {
    for (const source of sources) {
      expect([
        source.name,
        findActionSteps(parseYaml(source.text)).length > 0
      ]).toEqual([source.name, true])
    }
  })

  it('use only declared inputs and outputs', () => {
    const problems = sources.flatMap(source => checkWorkflow(spec, source))

    expect(problems).toEqual([])
  })

  it('are linked from the README', () => {
    const unlinked = exampleFiles().filter(
      name => !readme.includes(`docs/examples/${name}`)
    )

    expect(unlinked).toEqual([])
  })

  it('match their copies in the README', () => {
    const copies = readmeYamlBlocks(readme).filter(block =>
      block.startsWith('# docs/examples/')
    )

    expect(copies.length).toBeGreaterThan(0)
    for (const copy of copies) {
      const [header, ...body] = copy.split('\n')
      const path = header!.slice(2)
      expect([path, body.join('\n')]).toEqual([path, read(path)])
    }
  })

  it('parse every README yaml block', () => {
    for (const block of readmeYamlBlocks(readme)) {
      expect(() => parseYaml(block)).not.toThrow()
    }
  })

  it('catch an undeclared input', () => {
    const source = sourceFromExample('nightly.yml', text =>
      text.replace('timeout: 75m', 'timeout-seconds: 4500')
    )

    expect(checkWorkflow(spec, source)).toEqual([
      'nightly.yml: step Back up DocSpace passes input timeout-seconds, which action.yml does not declare'
    ])
  })

  it('catch a missing required input', () => {
    const source = sourceFromExample('nightly.yml', text =>
      text.replace(/^ *portal-url: .*\n/m, '')
    )

    expect(checkWorkflow(spec, source)).toEqual([
      'nightly.yml: step Back up DocSpace does not pass required input portal-url'
    ])
  })

  it('catch an api-key in clear text', () => {
    const source = sourceFromExample('nightly.yml', text =>
      text.replace('${{ secrets.DOCSPACE_API_KEY }}', 'sk-in-clear-text')
    )

    expect(checkWorkflow(spec, source)).toEqual([
      'nightly.yml: step Back up DocSpace does not take api-key from secrets'
    ])
  })

  it('catch an undeclared output', () => {
    const source = sourceFromExample('before-deploy.yml', text =>
      text.replace(
        'steps.backup.outputs.file-name',
        'steps.backup.outputs.filename'
      )
    )

    expect(checkWorkflow(spec, source)).toEqual([
      'before-deploy.yml: steps.backup.outputs.filename is not an output of the action'
    ])
  })

  it('catch an undeclared job output', () => {
    const source = sourceFromExample('before-deploy.yml', text =>
      text.replace(
        'needs.backup.outputs.task-id',
        'needs.backup.outputs.status'
      )
    )

    expect(checkWorkflow(spec, source)).toEqual([
      'before-deploy.yml: needs.backup.outputs.status is not declared by job backup'
    ])
  })
})

function sourceFromExample(
  name: string,
  change: (text: string) => string
): WorkflowSource {
  const original = readFileSync(join(EXAMPLES_DIR, name), 'utf8')
  const text = change(original)
  if (text === original) {
    throw new Error(`the change to ${name} did not apply`)
  }

  return { name, text, keyFromSecrets: true }
}

describe('parseYaml', () => {
  it('reads the subset', () => {
    const text = [
      'on:',
      '  push:',
      '    branches: [main, "release/*"]',
      '  workflow_dispatch:',
      'steps:',
      '  - name: first # a comment',
      "    run: 'it''s'",
      '  - run: |',
      '      echo one',
      '',
      '      echo two',
      '    with:',
      '      text: >-',
      '        folded',
      '        line',
      'list:',
      '- a',
      '- "b: c"'
    ].join('\n')

    expect(parseYaml(text)).toEqual({
      on: {
        push: { branches: ['main', 'release/*'] },
        workflow_dispatch: null
      },
      steps: [
        { name: 'first', run: "it's" },
        { run: 'echo one\n\necho two\n', with: { text: 'folded line' } }
      ],
      list: ['a', 'b: c']
    })
  })

  it.each([
    ['an anchor', 'key: &anchor value', /unsupported value/],
    ['a flow mapping', 'key: {a: b}', /unsupported value/],
    ['a tab', 'key:\n\tother: value', /tab in indentation/],
    ['a duplicate key', 'key: a\nkey: b', /duplicate key 'key'/],
    ['a multi-line plain scalar', 'key: one\n  two', /continues on this line/],
    ['a colon in a plain scalar', 'key: a: b', /contains ': '/],
    ['an unterminated quote', "key: 'open", /unterminated/],
    ['a document marker', '---\nkey: value', /document markers/]
  ])('rejects %s', (_, text, message) => {
    expect(() => parseYaml(text)).toThrow(YamlSubsetError)
    expect(() => parseYaml(text)).toThrow(message)
  })
})
