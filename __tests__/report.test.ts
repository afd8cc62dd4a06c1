import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  absoluteLink,
  applyProgress,
  emptyReport,
  outputStatus,
  redact,
  setOutputs,
  writeSummary,
  type BackupReport
} from '../src/report.js'
import { completed, TASK_ID } from './helpers/progress.js'

const API_KEY = 'sk-REPORT-KEY-40417'
const AUTHORIZATION = `Bearer ${API_KEY}`
const LINK = 'https://portal.example.test/backup/a.tar.gz?signature=LINK-9931'

const OUTPUT_NAMES = [
  'task-id',
  'status',
  'progress',
  'is-completed',
  'error',
  'warning',
  'link',
  'file-name',
  'expires-on',
  'duration-seconds',
  'archive-path',
  'archive-size'
]

/** Builds the report of a finished DataStore backup with every field set. */
function finishedReport(overrides: Partial<BackupReport> = {}): BackupReport {
  return {
    ...emptyReport(),
    taskId: TASK_ID,
    status: 'completed',
    progress: 100,
    isCompleted: true,
    warning: 'Some files were not included in the backup.',
    link: LINK,
    fileName: 'portal_2026-03-01.tar.gz',
    expiresOn: '2026-03-02T02:15:00.000Z',
    durationSeconds: 95,
    archivePath: '/tmp/out/portal_2026-03-01.tar.gz',
    archiveSize: '5242880',
    portalHost: 'portal.example.test',
    storageTypeName: 'DataStore',
    origin: 'started',
    ...overrides
  }
}

/** Reads the `name<<delimiter` blocks that core.setOutput appends. */
function readOutputs(path: string): Record<string, string> {
  const lines = readFileSync(path, 'utf8').split('\n')
  const outputs: Record<string, string> = {}

  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) {
      continue
    }
    const [, name, delimiter] = match
    const end = lines.indexOf(delimiter!, i + 1)
    outputs[name!] = lines.slice(i + 1, end).join('\n')
    i = end
  }

  return outputs
}

// @actions/core writes outputs and the summary to the files named by these
// variables, and caches the summary path after the first write, so every
// test shares the same two files.
let directory: string
let outputPath: string
let summaryPath: string
const savedEnv = {
  GITHUB_OUTPUT: process.env.GITHUB_OUTPUT,
  GITHUB_STEP_SUMMARY: process.env.GITHUB_STEP_SUMMARY
}
let stdout: string[]

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'report-test-'))
  outputPath = join(directory, 'output')
  summaryPath = join(directory, 'summary.md')
})

beforeEach(() => {
  writeFileSync(outputPath, '')
  writeFileSync(summaryPath, '')
  process.env.GITHUB_OUTPUT = outputPath
  process.env.GITHUB_STEP_SUMMARY = summaryPath
  stdout = []
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    stdout.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) {
      delete process.env[name]
    } else {
      process.env[name] = value
    }
  }
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('setOutputs', () => {
  it('writes all 12 outputs', () => {
    setOutputs(finishedReport())

    expect(Object.keys(readOutputs(outputPath)).sort()).toEqual(
      [...OUTPUT_NAMES].sort()
    )
  })

  it('writes the report values', () => {
    setOutputs(finishedReport())

    expect(readOutputs(outputPath)).toEqual({
      'task-id': TASK_ID,
      status: 'completed',
      progress: '100',
      'is-completed': 'true',
      error: '',
      warning: 'Some files were not included in the backup.',
      link: LINK,
      'file-name': 'portal_2026-03-01.tar.gz',
      'expires-on': '2026-03-02T02:15:00.000Z',
      'duration-seconds': '95',
      'archive-path': '/tmp/out/portal_2026-03-01.tar.gz',
      'archive-size': '5242880'
    })
  })

  it('writes an empty report', () => {
    setOutputs(emptyReport())
    const outputs = readOutputs(outputPath)

    expect(Object.keys(outputs)).toHaveLength(12)
    expect(outputs.status).toBe('failed')
    expect(outputs['is-completed']).toBe('false')
  })

  it('declares every output in action.yml', () => {
    const actionYml = readFileSync(
      new URL('../action.yml', import.meta.url),
      'utf8'
    )
    const outputsBlock = actionYml.split(/^outputs:$/m)[1]?.split(/^\S/m)[0]
    const declared = [...(outputsBlock ?? '').matchAll(/^ {2}([a-z-]+):$/gm)]
      .map(match => match[1])
      .sort()

    expect(declared).toEqual([...OUTPUT_NAMES].sort())
  })

  it('masks the link', () => {
    setOutputs(finishedReport())

    expect(stdout.join('')).toContain(`::add-mask::${LINK}`)
  })

  it('masks no empty link', () => {
    setOutputs(finishedReport({ link: '' }))

    expect(stdout.join('')).not.toContain('::add-mask::')
  })
})

describe('writeSummary', () => {
  const secrets = [API_KEY, AUTHORIZATION, LINK]

  it('writes a table of the report', async () => {
    await writeSummary(finishedReport(), secrets)
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).toContain('DocSpace backup')
    expect(summary).toContain('portal.example.test')
    expect(summary).toContain(TASK_ID)
    expect(summary).toContain('portal_2026-03-01.tar.gz')
    expect(summary).toContain('2026-03-02T02:15:00.000Z')
    expect(summary).toContain('5242880 bytes')
  })

  it('never contains the link', async () => {
    await writeSummary(finishedReport(), secrets)

    expect(readFileSync(summaryPath, 'utf8')).not.toContain('LINK-9931')
  })

  it('hides secrets in an error message', async () => {
    const report = finishedReport({
      status: 'failed',
      error: `POST failed: header ${AUTHORIZATION} rejected; link ${LINK}`
    })

    await writeSummary(report, secrets)
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).not.toContain(API_KEY)
    expect(summary).not.toContain('LINK-9931')
    expect(summary).toContain('link ***')
  })

  it('escapes HTML from the server', async () => {
    const report = finishedReport({ error: '<img src=x onerror=alert(1)>' })

    await writeSummary(report, secrets)

    expect(readFileSync(summaryPath, 'utf8')).toContain(
      '&lt;img src=x onerror=alert(1)&gt;'
    )
  })

  it('leaves out the inputs when they were invalid', async () => {
    await writeSummary(
      { ...emptyReport(), error: 'portal-url: missing.' },
      secrets
    )
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).not.toContain('Portal')
    expect(summary).not.toContain('Storage type')
    expect(summary).not.toContain('Dump')
    expect(summary).toContain('portal-url: missing.')
  })

  it('keeps the lines of a message apart', async () => {
    const report = finishedReport({
      status: 'failed',
      error: 'portal-url: missing.\napi-key: missing.'
    })

    await writeSummary(report, secrets)

    expect(readFileSync(summaryPath, 'utf8')).toContain(
      'portal-url: missing.<br>api-key: missing.'
    )
  })

  it('shows no progress or file without a task', async () => {
    await writeSummary(emptyReport(), secrets)
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).toContain('(none: no backup started)')
    expect(summary).not.toContain('Progress')
    expect(summary).not.toContain('File')
  })

  it('writes no empty cell', async () => {
    await writeSummary(emptyReport(), secrets)
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).not.toContain('Expires')
    expect(summary).not.toMatch(/<td><\/tr>/)
    expect(summary.match(/<td>/g)?.length).toBe(
      summary.match(/<\/td>/g)?.length
    )
  })

  it('marks a failed download', async () => {
    const report = finishedReport({
      archivePath: '',
      archiveSize: '',
      downloadFailed: true,
      error: 'Downloading the archive failed with 404.'
    })

    await writeSummary(report, secrets)
    const summary = readFileSync(summaryPath, 'utf8')

    expect(summary).toContain('✅ completed')
    expect(summary).toContain('❌ failed, so the step failed (see Error)')
    expect(summary).not.toContain('Downloaded to')
  })

  it('notes an attached job', async () => {
    await writeSummary(finishedReport({ origin: 'attached' }), secrets)

    expect(readFileSync(summaryPath, 'utf8')).toContain('already running')
  })

  it('is skipped without GITHUB_STEP_SUMMARY', async () => {
    delete process.env.GITHUB_STEP_SUMMARY

    await expect(writeSummary(finishedReport(), secrets)).resolves.toBe(
      undefined
    )
    expect(readFileSync(summaryPath, 'utf8')).toBe('')
  })
})

describe('outputStatus', () => {
  it.each([
    ['queued', 'queued'],
    ['running', 'running'],
    ['completed', 'completed'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['timed-out', 'timed-out'],
    ['vanished', 'failed'],
    ['replaced', 'failed'],
    ['aborted', 'running']
  ] as const)('maps %s to %s', (state, status) => {
    expect(outputStatus(state)).toBe(status)
  })
})

describe('applyProgress', () => {
  it('copies the progress fields', () => {
    const report = emptyReport()

    applyProgress(
      report,
      completed({ warning: 'w', link: '/studio/1/backup/a.tar.gz' }),
      new URL('https://portal.example.test/')
    )

    expect(report).toMatchObject({
      taskId: TASK_ID,
      progress: 100,
      isCompleted: true,
      error: '',
      warning: 'w',
      link: 'https://portal.example.test/studio/1/backup/a.tar.gz'
    })
  })

  it('keeps an empty link empty', () => {
    const report = emptyReport()

    applyProgress(report, completed(), new URL('https://portal.example.test/'))

    expect(report.link).toBe('')
  })
})

describe('absoluteLink', () => {
  const portal = new URL('https://portal.example.test/')

  it('keeps an absolute link', () => {
    const link = 'https://bucket.s3.example.test/backup/a.tar.gz?X-Sig=1'

    expect(absoluteLink(link, portal)).toBe(link)
  })

  it('resolves a root-relative link', () => {
    expect(absoluteLink('/studio/1/backup/a.tar.gz?s=1', portal)).toBe(
      'https://portal.example.test/studio/1/backup/a.tar.gz?s=1'
    )
  })

  it('keeps the sub-path for a relative link', () => {
    const underSubPath = new URL('https://example.test/docspace/')

    expect(absoluteLink('/studio/1/backup/a.tar.gz', underSubPath)).toBe(
      'https://example.test/docspace/studio/1/backup/a.tar.gz'
    )
  })

  it('keeps an absolute link', () => {
    expect(absoluteLink('https://bucket.example.test/a?sig=1', portal)).toBe(
      'https://bucket.example.test/a?sig=1'
    )
  })
})

describe('redact', () => {
  it('replaces every occurrence', () => {
    expect(redact('a KEY b KEY', ['KEY'])).toBe('a *** b ***')
  })

  it('ignores empty secrets', () => {
    expect(redact('text', ['', 'x'])).toBe('te***t')
  })
})
