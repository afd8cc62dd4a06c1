import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, from scripts/lib or its compiled copy in build/. */
export const REPO_ROOT = findRepoRoot()

/** The bundled action, as the runner starts it. */
export const ACTION_ENTRY = join(REPO_ROOT, 'dist', 'index.js')

/** The result of one action run: exit, streams, outputs and summary. */
export interface ActionRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Everything written to stdout, workflow commands included. */
  stdout: string
  stderr: string
  /** Outputs parsed from the GITHUB_OUTPUT file. */
  outputs: Record<string, string>
  /** The GITHUB_STEP_SUMMARY file's content. */
  summary: string
  /** Wall time from spawn to exit, in milliseconds. */
  durationMs: number
}

export interface RunOptions {
  /** Inputs by their action.yml names, e.g. `{ 'portal-url': '…' }`. */
  inputs: Record<string, string>
  /** More environment variables, e.g. HTTPS_PROXY. */
  env?: Record<string, string>
  /** Called with the child once it is spawned, e.g. to send SIGINT. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void
  /** Called with each stdout chunk as it arrives. */
  onStdout?: (chunk: string) => void
  /** The Node binary; defaults to the one running this code. */
  nodePath?: string
  entry?: string
}

/**
 * Runs the bundled action the way the GitHub runner does: inputs as
 * `INPUT_<NAME>` variables (upper-cased, hyphens kept), outputs and the job
 * summary in files named by GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
 */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  const directory = await mkdtemp(join(tmpdir(), 'docspace-action-'))
  const outputFile = join(directory, 'output')
  const summaryFile = join(directory, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')

  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: directory,
      ...inputVariables(options.inputs),
      ...options.env
    }
    const result = await spawnAction(options, env)
    return {
      ...result,
      outputs: parseOutputFile(await readFile(outputFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8')
    }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

/** Turns inputs into the variables the runner sets. */
export function inputVariables(
  inputs: Record<string, string>
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [
      `INPUT_${name.replace(/ /g, '_').toUpperCase()}`,
      value
    ])
  )
}

function spawnAction(
  options: RunOptions,
  env: NodeJS.ProcessEnv
): Promise<Omit<ActionRun, 'outputs' | 'summary'>> {
  const startedAt = performance.now()
  const child = spawn(
    options.nodePath ?? process.execPath,
    [options.entry ?? ACTION_ENTRY],
    {
      env,
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    options.onStdout?.(chunk)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  options.onSpawn?.(child)

  return new Promise((resolvePromise, reject) => {
    child.on('error', reject)
    child.on('close', (exitCode, signal) => {
      resolvePromise({
        exitCode,
        signal,
        stdout,
        stderr,
        durationMs: performance.now() - startedAt
      })
    })
  })
}

/**
 * Parses the `name<<delimiter` blocks that @actions/core appends to the
 * GITHUB_OUTPUT file.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split(/\r?\n/)

  for (let index = 0; index < lines.length; index++) {
    const header = /^([^<]+)<<(.+)$/.exec(lines[index] ?? '')
    if (!header) {
      continue
    }
    const [, name, delimiter] = header
    const value: string[] = []
    for (index++; index < lines.length && lines[index] !== delimiter; index++) {
      value.push(lines[index] ?? '')
    }
    outputs[name!] = value.join('\n')
  }

  return outputs
}

/**
 * Renders the action's stdout as the runner's log shows it: masked values
 * replaced with `***`, groups and annotations as plain lines, and debug lines
 * only when RUNNER_DEBUG is set.
 */
export function renderLog(
  stdout: string,
  showDebug = Boolean(process.env.RUNNER_DEBUG)
): string {
  const masks: string[] = []
  const lines: string[] = []

  for (const line of stdout.split(/\r?\n/)) {
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line)
    if (!command) {
      lines.push(line)
      continue
    }
    const [, name, escaped = ''] = command
    const value = unescapeCommandValue(escaped)
    switch (name) {
      case 'add-mask':
        masks.push(value)
        break
      case 'group':
        lines.push(`▼ ${value}`)
        break
      case 'endgroup':
        break
      case 'debug':
        // The runner shows debug lines only when step debug logging is on.
        if (showDebug) {
          lines.push(`Debug: ${value}`)
        }
        break
      default:
        lines.push(`${name![0]!.toUpperCase()}${name!.slice(1)}: ${value}`)
    }
  }

  return masks
    .filter(mask => mask !== '')
    .sort((a, b) => b.length - a.length)
    .reduce((text, mask) => text.split(mask).join('***'), lines.join('\n'))
}

/** Reverses the escaping that @actions/core applies to command values. */
function unescapeCommandValue(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

function findRepoRoot(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
  return basename(root) === 'build' ? dirname(root) : root
}
