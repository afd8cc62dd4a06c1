// Measures the bundled action on this machine against the DocSpace simulator
// on 127.0.0.1, writes docs/benchmarks.md and exits with 1 when a budget is
// broken. Usage: npm run bench [-- --quick] [-- --rounds N].
// --quick skips the two-minute job and downloads 256 MiB instead of 1 GiB.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import {
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile
} from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import {
  startSimulator,
  type RecordedRequest,
  type Simulator
} from '../simulator/server.js'
import {
  ACTION_ENTRY,
  inputVariables,
  parseOutputFile,
  REPO_ROOT
} from './lib/run-action.js'

const MIB = 1024 * 1024
const GNU_TIME = '/usr/bin/time'
const NCC = join(REPO_ROOT, 'node_modules', '.bin', 'ncc')
const PRETTIER = join(REPO_ROOT, 'node_modules', '.bin', 'prettier')
const REPORT_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md')

const BUDGETS = {
  /** Action wall time over the minimal node:http script's, medians. */
  overheadRatio: 1.3,
  /** Completion lag allowed beyond one poll interval. */
  lagSlackMs: 500,
  peakRssMiB: 100,
  /** Action download throughput over curl's, medians. */
  downloadRatio: 0.9,
  /** Peak RSS of a larger download over a smaller one's. */
  rssGrowth: 1.1
}

/** The action's default poll interval, used for the completion lag. */
const POLL_INTERVAL_MS = 5000

/** Milliseconds since the epoch with sub-millisecond precision. */
const now = (): number => performance.timeOrigin + performance.now()

interface Settings {
  quick: boolean
  /** Rounds of each side-by-side comparison. */
  rounds: number
}

function parseArguments(args: string[]): Settings {
  const settings: Settings = { quick: false, rounds: 15 }
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]
    if (arg === '--quick') {
      settings.quick = true
    } else if (arg === '--rounds') {
      settings.rounds = Number(args[++index])
      if (!Number.isInteger(settings.rounds) || settings.rounds < 3) {
        throw new Error('--rounds: expected an integer of at least 3.')
      }
    } else {
      throw new Error(
        `Unknown argument '${arg}'. Use --quick or --rounds N (N >= 3).`
      )
    }
  }

  return settings
}

// ---------------------------------------------------------------------------
// Running and measuring one process

interface ProcessRun {
  exitCode: number | null
  stdout: string
  stderr: string
  /** Epoch milliseconds at spawn and at exit, on the simulators' clock. */
  startedAt: number
  endedAt: number
  wallMs: number
  /** Peak resident set size; undefined when it could not be read. */
  peakRssMiB: number | undefined
}

/**
 * Source of peak RSS figures. GNU time reports the child's ru_maxrss from
 * wait4, which covers the whole run. Without GNU time, /proc/<pid>/status
 * VmHWM is polled every 5 ms, which can miss growth in the last milliseconds.
 */
const RSS_METHOD = hasGnuTime() ? 'gnu-time' : 'proc-polling'

function hasGnuTime(): boolean {
  if (!existsSync(GNU_TIME)) {
    return false
  }
  const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'pipe' })

  return probe.status === 0
}

async function runMeasured(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv
): Promise<ProcessRun> {
  const rssFile = join(scratch, `rss-${process.hrtime.bigint()}`)
  const [file, fileArgs] =
    RSS_METHOD === 'gnu-time'
      ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]]
      : [command, args]

  const startedAt = now()
  const child = spawn(file, fileArgs, {
    env,
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const poller =
    RSS_METHOD === 'proc-polling' ? pollPeakRss(child.pid) : undefined

  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => resolve(code))
  })
  const endedAt = now()

  return {
    exitCode,
    stdout,
    stderr,
    startedAt,
    endedAt,
    wallMs: endedAt - startedAt,
    peakRssMiB: poller ? poller.stop() : await readGnuTimeRss(rssFile)
  }
}

async function readGnuTimeRss(path: string): Promise<number | undefined> {
  // GNU time writes "Command exited with non-zero status N" first when the
  // command fails, so the figure is on the last line.
  const text = await readFile(path, 'utf8').catch(() => '')
  await rm(path, { force: true })
  const kibibytes = Number(text.trim().split('\n').at(-1))

  return Number.isFinite(kibibytes) && kibibytes > 0
    ? kibibytes / 1024
    : undefined
}

function pollPeakRss(pid: number | undefined): { stop(): number | undefined } {
  let peakKiB: number | undefined
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const value = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1])
      if (Number.isFinite(value)) {
        peakKiB = Math.max(peakKiB ?? 0, value)
      }
    } catch {
      // The process has exited.
    }
  }, 5)

  return {
    stop: () => {
      clearInterval(timer)
      return peakKiB === undefined ? undefined : peakKiB / 1024
    }
  }
}

// ---------------------------------------------------------------------------
// The commands under test

let scratch = ''

function baseEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME }
}

interface ActionResult {
  run: ProcessRun
  outputs: Record<string, string>
}

/** Runs a bundle of the action with inputs, as the runner would. */
async function runActionBundle(
  entry: string,
  simulator: Simulator,
  inputs: Record<string, string>,
  nodeArgs: string[] = []
): Promise<ActionResult> {
  const outputFile = join(scratch, 'github-output')
  const summaryFile = join(scratch, 'github-step-summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')

  const run = await runMeasured(process.execPath, [...nodeArgs, entry], {
    ...baseEnvironment(),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: scratch,
    ...inputVariables({
      'portal-url': simulator.url,
      'api-key': simulator.apiKey,
      ...inputs
    })
  })
  const outputs = parseOutputFile(await readFile(outputFile, 'utf8'))

  return { run, outputs }
}

/**
 * The floor for any Node action: the same two requests as the action with
 * `wait: false`, sent with node:http and nothing else.
 */
const FLOOR_SCRIPT = `import { request } from 'node:http'

const base = process.env.PORTAL_URL
const authorization = 'Bearer ' + process.env.API_KEY

function send(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: authorization, Accept: 'application/json' }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      headers['Content-Length'] = Buffer.byteLength(body)
    }
    const outgoing = request(base + path, { method, headers }, response => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', chunk => (text += chunk))
      response.on('end', () => resolve(JSON.parse(text)))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

await send('GET', '/api/2.0/backup/getbackupprogress?dump=false')
const body = JSON.stringify({ storageType: 4, storageParams: [], dump: false })
const started = await send('POST', '/api/2.0/backup/startbackup', body)
console.log(started.response.taskId)
`

function floorCommand(simulator: Simulator): Command {
  return {
    file: process.execPath,
    args: [join(scratch, 'floor.mjs')],
    env: {
      ...baseEnvironment(),
      PORTAL_URL: simulator.url,
      API_KEY: simulator.apiKey
    }
  }
}

function curlStartCommand(simulator: Simulator): Command {
  const authorization = `Authorization: Bearer ${simulator.apiKey}`
  const body = JSON.stringify({
    storageType: 4,
    storageParams: [],
    dump: false
  })

  return {
    file: 'curl',
    args: [
      '-sS',
      '-o',
      '/dev/null',
      '-H',
      authorization,
      `${simulator.url}/api/2.0/backup/getbackupprogress?dump=false`,
      '--next',
      '-sS',
      '-o',
      '/dev/null',
      '-H',
      authorization,
      '-H',
      'Content-Type: application/json',
      '--data',
      body,
      `${simulator.url}/api/2.0/backup/startbackup`
    ],
    env: baseEnvironment()
  }
}

interface Command {
  file: string
  args: string[]
  env: NodeJS.ProcessEnv
}

function curlVersion(): string | undefined {
  const result = spawnSync('curl', ['--version'], { encoding: 'utf8' })

  return result.status === 0 ? result.stdout.split('\n')[0] : undefined
}

// ---------------------------------------------------------------------------
// Statistics and formatting

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)

  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function fixed(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value)
    ? 'n/a'
    : value.toFixed(digits)
}

function definedValues(values: Array<number | undefined>): number[] {
  return values.filter((value): value is number => value !== undefined)
}

function requestsBetween(
  simulator: Simulator,
  startedAt: number,
  endedAt: number
): RecordedRequest[] {
  return simulator.requests.filter(
    request => request.at >= startedAt && request.at <= endedAt
  )
}

/** Runs `variants` once per round, rotating their order every round. */
async function alternate<T>(
  rounds: number,
  variants: Array<() => Promise<T>>
): Promise<T[][]> {
  const results: T[][] = variants.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (let step = 0; step < variants.length; step++) {
      const index = (round + step) % variants.length
      results[index]!.push(await variants[index]!())
    }
  }

  return results
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

// ---------------------------------------------------------------------------
// Budgets

interface BudgetResult {
  name: string
  measured: string
  limit: string
  passed: boolean
}

const budgetResults: BudgetResult[] = []

function checkBudget(
  name: string,
  measured: string,
  limit: string,
  passed: boolean
): void {
  budgetResults.push({ name, measured, limit, passed })
}

// ---------------------------------------------------------------------------
// Start-up: bundle variants built with ncc in a scratch project

interface Bundle {
  name: string
  entry: string
  note: string
  /** Seconds ncc took; undefined for the committed dist/. */
  buildSeconds?: number
}

/** Copies src/ into a project whose tsconfig covers only src/. */
async function createScratchProject(
  name: string,
  nodeModules: (directory: string) => Promise<void>
): Promise<string> {
  const project = join(scratch, name)
  await mkdir(project, { recursive: true })
  await cp(join(REPO_ROOT, 'src'), join(project, 'src'), { recursive: true })
  await cp(join(REPO_ROOT, 'package.json'), join(project, 'package.json'))

  const tsconfig = JSON.parse(
    await readFile(join(REPO_ROOT, 'tsconfig.json'), 'utf8')
  ) as { include: string[]; compilerOptions: Record<string, unknown> }
  tsconfig.include = ['src']
  tsconfig.compilerOptions.types = ['node']
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig))
  await nodeModules(join(project, 'node_modules'))

  return project
}

/**
 * Builds node_modules from links to the repository's packages, with real
 * copies of @actions/* so that their `undici` import finds a stub. The
 * stub throws if ProxyAgent is ever constructed; @actions/http-client only
 * constructs it in getAgentDispatcher, which this action never calls.
 */
async function linkModulesWithoutUndici(directory: string): Promise<void> {
  const source = join(REPO_ROOT, 'node_modules')
  await mkdir(join(directory, '@actions'), { recursive: true })
  for (const name of await readdir(source)) {
    if (name !== 'undici' && name !== '@actions') {
      await symlink(join(source, name), join(directory, name))
    }
  }
  await cp(join(source, '@actions'), join(directory, '@actions'), {
    recursive: true,
    dereference: true
  })

  const stub = join(directory, 'undici')
  await mkdir(stub)
  await writeFile(
    join(stub, 'package.json'),
    JSON.stringify({ name: 'undici', version: '0.0.0', main: 'index.js' })
  )
  await writeFile(
    join(stub, 'index.js'),
    "'use strict'\n" +
      'class ProxyAgent {\n' +
      '  constructor() {\n' +
      "    throw new Error('undici is left out of this bundle')\n" +
      '  }\n' +
      '}\n' +
      'module.exports = { ProxyAgent }\n'
  )
}

/** Returns the flags of the `bundle` script in package.json, less `-o dist`. */
function bundleFlags(): string[] {
  const scripts = JSON.parse(
    readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')
  ) as { scripts: Record<string, string> }
  const words = (scripts.scripts.bundle ?? '').split(/\s+/)
  const flags: string[] = []
  for (let index = 3; index < words.length; index++) {
    if (words[index] === '-o') {
      index++
    } else {
      flags.push(words[index]!)
    }
  }

  return flags
}

async function buildBundle(
  project: string,
  entry: string,
  name: string,
  flags: string[],
  note: string
): Promise<Bundle | undefined> {
  const output = join(scratch, 'bundles', name)
  const started = now()
  const result = spawnSync(NCC, ['build', entry, '-o', output, ...flags], {
    cwd: project,
    encoding: 'utf8'
  })
  if (result.status !== 0) {
    progress(`ncc failed for ${name}: ${result.stderr.slice(0, 400)}`)
    return undefined
  }

  return {
    name,
    entry: join(output, 'index.js'),
    note,
    buildSeconds: (now() - started) / 1000
  }
}

/** A bundle that only a change to the bundle script would give. */
const NO_REGISTER = 'no source-map register'

/** A bundle that also needs undici replaced in node_modules. */
const EXPERIMENT = 'undici stubbed, no register'

const PROBES: Record<string, string> = {
  'probe: empty module': 'process.exitCode = 0\n',
  'probe: @actions/core':
    "import * as core from '@actions/core'\ncore.getInput('portal-url')\n",
  'probe: @actions/http-client':
    "import { HttpClient } from '@actions/http-client'\nnew HttpClient('probe').dispose()\n",
  'probe: zod':
    "import { z } from 'zod'\nz.object({ taskId: z.string() }).safeParse({})\n"
}

async function buildVariants(): Promise<Bundle[]> {
  const flags = bundleFlags()
  const linkModules = (directory: string) =>
    symlink(join(REPO_ROOT, 'node_modules'), directory)
  const project = await createScratchProject('project', linkModules)
  const withoutUndici = await createScratchProject(
    'project-without-undici',
    linkModulesWithoutUndici
  )
  const withoutRegister = [...flags, '--no-source-map-register']
  const variants: Array<[string, string, string[], string]> = [
    [project, 'bundle script', flags, 'as npm run bundle'],
    [project, 'minified', [...flags, '-m'], 'ncc -m'],
    [project, NO_REGISTER, withoutRegister, '--no-source-map-register'],
    [withoutUndici, 'undici stubbed', flags, 'undici replaced by a stub'],
    [withoutUndici, EXPERIMENT, withoutRegister, 'both changes above']
  ]

  const bundles: Array<Bundle | undefined> = []
  for (const [root, name, extra, note] of variants) {
    progress(`building ${name}`)
    bundles.push(await buildBundle(root, 'src/index.ts', name, extra, note))
  }
  for (const [name, source] of Object.entries(PROBES)) {
    const entry = `src/${name.replace(/\W+/g, '-')}.ts`
    await writeFile(join(project, entry), source)
    progress(`building ${name}`)
    bundles.push(await buildBundle(project, entry, name, [], 'one import only'))
  }

  return bundles.filter((bundle): bundle is Bundle => bundle !== undefined)
}

async function bundleBytes(entry: string): Promise<number> {
  return (await stat(entry)).size
}

interface StartupRow {
  name: string
  note: string
  medianMs: number
  bytes: number | undefined
  buildSeconds: number | undefined
}

/** Starts each bundle with no inputs, next to `node -e ''`. */
async function measureStartup(
  bundles: Bundle[],
  rounds: number
): Promise<StartupRow[]> {
  const targets = [
    { name: "node -e ''", note: 'Node alone', args: ['-e', ''] },
    ...bundles.map(bundle => ({
      name: bundle.name,
      note: bundle.note,
      args: [bundle.entry]
    }))
  ]
  const results = await alternate(
    rounds,
    targets.map(
      target => () =>
        runMeasured(process.execPath, target.args, baseEnvironment())
    )
  )

  const rows: StartupRow[] = []
  for (const [index, target] of targets.entries()) {
    const bundle = bundles.find(entry => entry.name === target.name)
    rows.push({
      name: target.name,
      note: target.note,
      medianMs: median(results[index]!.map(run => run.wallMs)),
      bytes: bundle ? await bundleBytes(bundle.entry) : undefined,
      buildSeconds: bundle?.buildSeconds
    })
  }

  return rows
}

// ---------------------------------------------------------------------------
// 1. Overhead of a start without waiting

interface OverheadRow {
  name: string
  medianMs: number
  /** Spawn to the first request reaching the simulator. */
  firstRequestMs: number
  medianRssMiB: number | undefined
  maxRssMiB: number | undefined
  runs: number
}

/**
 * Compares dist/ with the floor, curl and the `bundles` built for the
 * start-up section (run in the given order).
 */
async function measureOverhead(
  settings: Settings,
  bundles: Bundle[]
): Promise<OverheadRow[]> {
  const simulator = await startSimulator({ queuedMs: 0, jobMs: 0, clock: now })
  try {
    await writeFile(join(scratch, 'floor.mjs'), FLOOR_SCRIPT)
    const variants: Array<{ name: string; start: () => Promise<ProcessRun> }> =
      [
        {
          name: 'action (dist/index.js)',
          start: () => startOnly(ACTION_ENTRY, simulator)
        },
        {
          name: 'minimal node:http script',
          start: () => runCommand(floorCommand(simulator))
        }
      ]
    for (const bundle of bundles) {
      variants.push({
        name: `action, ${bundle.name}`,
        start: () => startOnly(bundle.entry, simulator)
      })
    }
    if (curlVersion()) {
      variants.push({
        name: 'curl (one process, two requests)',
        start: () => runCommand(curlStartCommand(simulator))
      })
    }

    // Two rounds first warm the page cache and the simulator.
    await alternate(
      2,
      variants.map(variant => variant.start)
    )
    const results = await alternate(
      settings.rounds,
      variants.map(variant => variant.start)
    )

    return variants.map((variant, index) => {
      const runs = results[index]!
      for (const run of runs) {
        expectTwoRequests(simulator, run, variant.name)
      }
      const rss = definedValues(runs.map(run => run.peakRssMiB))

      return {
        name: variant.name,
        medianMs: median(runs.map(run => run.wallMs)),
        firstRequestMs: median(
          runs.map(run => firstRequestDelay(simulator, run))
        ),
        medianRssMiB: rss.length > 0 ? median(rss) : undefined,
        maxRssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
        runs: runs.length
      }
    })
  } finally {
    await simulator.close()
  }
}

async function startOnly(
  entry: string,
  simulator: Simulator
): Promise<ProcessRun> {
  const { run } = await runActionBundle(entry, simulator, { wait: 'false' })

  return run
}

function runCommand(command: Command): Promise<ProcessRun> {
  return runMeasured(command.file, command.args, command.env)
}

function expectTwoRequests(
  simulator: Simulator,
  run: ProcessRun,
  name: string
): void {
  const endpoints = requestsBetween(simulator, run.startedAt, run.endedAt).map(
    request => request.endpoint
  )
  if (
    run.exitCode !== 0 ||
    endpoints.join(',') !== 'getbackupprogress,startbackup'
  ) {
    throw new Error(
      `${name} did not send getbackupprogress then startbackup ` +
        `(exit code ${run.exitCode}, requests: ${endpoints.join(', ')}): ` +
        run.stderr.slice(0, 400)
    )
  }
}

function firstRequestDelay(simulator: Simulator, run: ProcessRun): number {
  const first = requestsBetween(simulator, run.startedAt, run.endedAt)[0]

  return first ? first.at - run.startedAt : Number.NaN
}

// ---------------------------------------------------------------------------
// 2. Completion lag and request rate with wait: true

interface LagRow {
  /** Job lengths, e.g. `2.5-6.5 s`. */
  jobs: string
  runs: number
  lagsMs: number[]
  requestsPerMinute: number
  /** Mean time between two getbackupprogress requests of the wait loop. */
  meanPollGapMs: number
  maxRssMiB: number | undefined
}

/**
 * Runs one job of each length. Lengths spread over a poll interval put the
 * completion at different points between two polls.
 */
async function measureLag(jobLengthsMs: number[]): Promise<LagRow> {
  const simulator = await startSimulator({ queuedMs: 200, clock: now })
  try {
    const lagsMs: number[] = []
    const rates: number[] = []
    const gaps: number[] = []
    const rss: number[] = []

    for (const jobMs of jobLengthsMs) {
      // The simulator reads the job length when a job is created.
      simulator.options.jobMs = jobMs
      const { run, outputs } = await runActionBundle(ACTION_ENTRY, simulator, {
        wait: 'true',
        'poll-interval': `${POLL_INTERVAL_MS / 1000}s`,
        timeout: '10m'
      })
      const taskId = outputs['task-id'] ?? ''
      const completedAt = simulator.completedAt(taskId)
      if (run.exitCode !== 0 || completedAt === undefined) {
        throw new Error(
          `The ${jobMs / 1000} s job did not complete (exit code ` +
            `${run.exitCode}): ${run.stderr.slice(0, 400)}`
        )
      }
      lagsMs.push(run.endedAt - completedAt)

      const requests = requestsBetween(simulator, run.startedAt, run.endedAt)
      rates.push(requests.length / ((run.endedAt - run.startedAt) / 60_000))
      gaps.push(meanPollGap(requests))
      if (run.peakRssMiB !== undefined) {
        rss.push(run.peakRssMiB)
      }
    }

    return {
      jobs: describeLengths(jobLengthsMs),
      runs: jobLengthsMs.length,
      lagsMs,
      requestsPerMinute: median(rates),
      meanPollGapMs: median(gaps),
      maxRssMiB: rss.length > 0 ? Math.max(...rss) : undefined
    }
  } finally {
    await simulator.close()
  }
}

function describeLengths(lengthsMs: number[]): string {
  const first = lengthsMs[0]! / 1000
  const last = lengthsMs.at(-1)! / 1000

  return first === last ? `${first} s` : `${first}-${last} s`
}

/** Mean gap between the progress requests that follow startbackup. */
function meanPollGap(requests: RecordedRequest[]): number {
  const startIndex = requests.findIndex(
    request => request.endpoint === 'startbackup'
  )
  const polls = requests
    .slice(startIndex + 1)
    .filter(request => request.endpoint === 'getbackupprogress')
  if (polls.length < 2) {
    return Number.NaN
  }

  return (polls.at(-1)!.at - polls[0]!.at) / (polls.length - 1)
}

// ---------------------------------------------------------------------------
// 4. Download throughput and memory

/**
 * The action run with V8's optimizing compilers off, a diagnostic that
 * separates their one-time memory from the download's. dist/ runs with them
 * on.
 */
const COMPILERS_OFF = 'action, optimizing compilers off'

/** A download script with node:http alone: the floor for a Node client. */
const DOWNLOAD_SCRIPT = `import { createWriteStream } from 'node:fs'
import { get } from 'node:http'
import { pipeline } from 'node:stream/promises'

const [link, target, bufferBytes] = process.argv.slice(2)
const options = bufferBytes ? { highWaterMark: Number(bufferBytes) } : {}
const response = await new Promise((resolve, reject) => {
  get(link, resolve).on('error', reject)
})
await pipeline(response, createWriteStream(target, options))
`

interface DownloadVariant {
  name: string
  mibPerSecond: number
  /** The slowest and the fastest run, to show the machine's noise. */
  rangeMiBPerSecond: [number, number]
  rssMiB: number | undefined
}

interface DownloadRow {
  sizeMiB: number
  runs: number
  /** The action first, then the references that exist on this machine. */
  variants: DownloadVariant[]
}

interface TimedRun {
  run: ProcessRun
  /** Server-side time of the download request. */
  seconds: number
}

async function measureDownload(
  sizeBytes: number,
  rounds: number
): Promise<DownloadRow> {
  const closedAt = new Map<RecordedRequest, number>()
  const simulator = await startSimulator({
    queuedMs: 0,
    jobMs: 0,
    archiveBytes: sizeBytes,
    clock: now,
    onRequest: request => closedAt.set(request, now())
  })
  const directory = join(scratch, 'downloads')
  await mkdir(directory, { recursive: true })
  await writeFile(join(scratch, 'download.mjs'), DOWNLOAD_SCRIPT)

  /** Times the run's one download request from arrival to closed response. */
  const timed = (run: ProcessRun): TimedRun => {
    const download = requestsBetween(
      simulator,
      run.startedAt,
      run.endedAt
    ).find(request => request.endpoint === 'download')
    const end = download ? closedAt.get(download) : undefined
    if (!download || end === undefined || download.status !== 200) {
      throw new Error(`No complete download in this run: ${run.stderr}`)
    }

    return { run, seconds: (end - download.at) / 1000 }
  }
  const target = join(directory, 'reference.tar.gz')
  const toFile = async (run: ProcessRun): Promise<TimedRun> => {
    await expectFile(target, sizeBytes, run)
    return timed(run)
  }

  try {
    const link = await startedBackupLink(simulator)
    const script = join(scratch, 'download.mjs')
    const action = (nodeArgs: string[]) => async () => {
      const { run, outputs } = await runActionBundle(
        ACTION_ENTRY,
        simulator,
        { 'download-path': `${directory}/`, 'poll-interval': '1s' },
        nodeArgs
      )
      await expectFile(outputs['archive-path'], sizeBytes, run)
      return timed(run)
    }
    const variants: Array<[string, () => Promise<TimedRun>]> = [
      ['action', action([])],
      [COMPILERS_OFF, action(['--no-opt', '--no-maglev'])],
      [
        'node:http to file',
        async () =>
          toFile(
            await runMeasured(
              process.execPath,
              [script, link, target],
              baseEnvironment()
            )
          )
      ],
      [
        'node:http to file, 1 MiB write buffer',
        async () =>
          toFile(
            await runMeasured(
              process.execPath,
              [script, link, target, String(MIB)],
              baseEnvironment()
            )
          )
      ]
    ]
    if (curlVersion()) {
      const curl = (output: string) =>
        runMeasured('curl', ['-sS', '-o', output, link], baseEnvironment())
      variants.push(['curl to file', async () => toFile(await curl(target))])
      variants.push([
        'curl to /dev/null',
        async () => timed(await curl('/dev/null'))
      ])
    }

    const results = await alternate(
      rounds,
      variants.map(([, start]) => start)
    )

    return {
      sizeMiB: sizeBytes / MIB,
      runs: rounds,
      variants: variants.map(([name], index) => {
        const timings = results[index]!
        const rss = definedValues(timings.map(timing => timing.run.peakRssMiB))
        const speeds = timings.map(timing => sizeBytes / MIB / timing.seconds)
        return {
          name,
          mibPerSecond: median(speeds),
          rangeMiBPerSecond: [Math.min(...speeds), Math.max(...speeds)],
          rssMiB: rss.length > 0 ? median(rss) : undefined
        }
      })
    }
  } finally {
    await rm(directory, { recursive: true, force: true })
    await simulator.close()
  }
}

/** Starts a backup outside the action and returns its absolute link. */
async function startedBackupLink(simulator: Simulator): Promise<string> {
  const response = await fetch(`${simulator.url}/api/2.0/backup/startbackup`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${simulator.apiKey}`,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({ storageType: 4, storageParams: [], dump: false })
  })
  const envelope = (await response.json()) as { response: { link: string } }

  return new URL(envelope.response.link, simulator.url).href
}

/** Checks the downloaded file's size, then deletes it to save disk. */
async function expectFile(
  path: string | undefined,
  sizeBytes: number,
  run: ProcessRun
): Promise<void> {
  const size = path
    ? (await stat(path).catch(() => undefined))?.size
    : undefined
  if (path) {
    await rm(path, { force: true })
  }
  if (run.exitCode !== 0 || size !== sizeBytes) {
    throw new Error(
      `The download saved ${size ?? 'no'} bytes of ${sizeBytes} ` +
        `(exit code ${run.exitCode}): ${run.stderr.slice(0, 400)}`
    )
  }
}

// ---------------------------------------------------------------------------
// The report

interface Results {
  settings: Settings
  startedAt: Date
  seconds: number
  loadBefore: number[]
  loadAfter: number[]
  startup: StartupRow[]
  overhead: OverheadRow[]
  lag: LagRow[]
  downloads: DownloadRow[]
  curl: string | undefined
}

function machineLines(results: Results): string[] {
  const cpus = os.cpus()
  const load = (values: number[]) =>
    values.map(value => value.toFixed(2)).join(', ')

  return [
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores`,
    `- Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Node: ${process.version}`,
    `- curl: ${results.curl ?? 'not installed; its rows are left out'}`,
    `- Load average (1, 5, 15 min): ${load(results.loadBefore)} before, ` +
      `${load(results.loadAfter)} after`,
    `- Peak RSS read with ${
      RSS_METHOD === 'gnu-time'
        ? "`/usr/bin/time -f %M` (the child's ru_maxrss from wait4)"
        : '`/proc/<pid>/status` VmHWM polled every 5 ms (a lower bound)'
    }`
  ]
}

function renderReport(results: Results): string {
  const { settings } = results
  const command = settings.quick ? 'npm run bench -- --quick' : 'npm run bench'
  const floor = results.overhead.find(row => row.name.startsWith('minimal'))
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Written by \`${command}\` (scripts/bench.ts) on ` +
      `${results.startedAt.toISOString()}, in ${Math.round(results.seconds)} s. ` +
      'Every figure comes from that run on the machine below; the script ' +
      'rewrites this page each time. It talks only to simulators it starts ' +
      'on 127.0.0.1.',
    '',
    '## Machine',
    '',
    ...machineLines(results),
    '',
    'Other processes ran on this machine at the same time (see the load ' +
      'average), so wall times are medians of alternating runs: each round ' +
      'runs every variant once, in a rotated order.',
    '',
    '## Budgets',
    '',
    '| Budget | Measured | Limit | Result |',
    '| --- | --- | --- | --- |',
    ...budgetResults.map(
      budget =>
        `| ${budget.name} | ${budget.measured} | ${budget.limit} | ` +
        `${budget.passed ? 'pass' : '**fail**'} |`
    ),
    '',
    '## 1. Overhead of a start (`wait: false`)',
    '',
    'The action with `wait: false` sends getbackupprogress, then startbackup. ' +
      'The minimal script sends the same two requests with node:http, so it ' +
      'is the floor for any Node action; curl sends them from one process. ' +
      `Simulator jobs finish at once. ${settings.rounds} rounds after 2 ` +
      'warm-up rounds. "First request" is the time from spawn until the ' +
      'first request reached the simulator.',
    '',
    '| Variant | Wall time, median (ms) | × floor | First request (ms) | Peak RSS, median / max (MiB) |',
    '| --- | --- | --- | --- | --- |',
    ...results.overhead.map(
      row =>
        `| ${row.name} | ${fixed(row.medianMs)} | ` +
        `${floor ? fixed(row.medianMs / floor.medianMs, 2) : 'n/a'} | ` +
        `${fixed(row.firstRequestMs)} | ${fixed(row.medianRssMiB)} / ` +
        `${fixed(row.maxRssMiB)} |`
    ),
    '',
    '## 2. Completion lag and request rate (`wait: true`)',
    '',
    `Poll interval ${POLL_INTERVAL_MS / 1000} s (the default). The lag runs ` +
      "from the moment the simulator's job turns `isCompleted` " +
      '(`sim.completedAt`) to the exit of the action process. Requests per ' +
      'minute count every request of the run; the poll gap is the mean time ' +
      'between two getbackupprogress requests after startbackup.',
    '',
    '| Job | Runs | Lag, median (s) | Lags (s) | Requests per minute | Mean poll gap (s) | Peak RSS, max (MiB) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.lag.map(
      row =>
        `| ${row.jobs} | ${row.runs} | ` +
        `${fixed(median(row.lagsMs) / 1000, 2)} | ` +
        `${row.lagsMs.map(lag => fixed(lag / 1000, 2)).join(', ')} | ` +
        `${fixed(row.requestsPerMinute)} | ` +
        `${fixed(row.meanPollGapMs / 1000, 2)} | ${fixed(row.maxRssMiB)} |`
    ),
    settings.quick ? '\nThe two-minute job was skipped (--quick).' : '',
    '',
    '## 3. Memory',
    '',
    'Peak RSS of every action run is in the tables of sections 1, 2 and 4; ' +
      `the budget is ${BUDGETS.peakRssMiB} MiB for each run.`,
    '',
    '## 4. Download',
    '',
    'The action downloads the archive to a directory, once as shipped and ' +
      `once as "${COMPILERS_OFF}" (\`node --no-opt --no-maglev\`), a ` +
      "diagnostic that separates V8's one-time compiler memory from the " +
      "download's. Three references fetch the same link into that " +
      'directory. Two scripts pipe an http.get response into ' +
      'fs.createWriteStream, one with its default 16 KiB buffer and one ' +
      'with a 1 MiB buffer. curl also writes to /dev/null, which shows the ' +
      "simulator's ceiling. Throughput is the archive's size over the time " +
      'the simulator spent on the request, from its arrival to the closed ' +
      "response, so it leaves out the action's start and wait. The " +
      'simulator runs in the bench process and shares the two cores with ' +
      'the client, so one run can differ from the next by a third; the ' +
      'slowest and fastest runs show how much. Files are deleted after ' +
      'each run.',
    '',
    ...compilerNote(results.downloads),
    '| Archive | Client | Runs | Throughput, median (MiB/s) | Slowest-fastest run (MiB/s) | ÷ curl to file | Peak RSS, median (MiB) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.downloads.flatMap(downloadRows),
    '',
    '## 5. Where the start-up time goes',
    '',
    'Each bundle is started with no inputs, so the action fails at input ' +
      'validation right after its modules are evaluated; the probes import one ' +
      'package each. The variants are built with ncc from a copy of src/ in a ' +
      'scratch directory; "undici stubbed" replaces the `undici` package, ' +
      'which @actions/http-client imports for its ProxyAgent, with a stub.',
    '',
    "| Variant | What | Start, median (ms) | Over `node -e ''` (ms) | index.js (KiB) | ncc build (s) |",
    '| --- | --- | --- | --- | --- | --- |',
    ...startupRows(results.startup),
    '',
    '## Reading the figures',
    '',
    `- The "${NO_REGISTER}" rows need only a change to the bundle script. ` +
      `The "undici stubbed" rows come from bundles built in a scratch ` +
      'directory with the undici package replaced by a stub. They show what ' +
      'those changes would give; dist/ ships neither.',
    '- The node:http rows run no code of the action. A budget that they ' +
      'miss as well is set by Node on this machine, not by the action.',
    '- Each lag depends on where the completion falls between two polls, ' +
      'so the short jobs spread their lengths over one poll interval.',
    "- Download throughput is timed at the simulator, and the kernel's " +
      'socket buffers on loopback hold several MiB, so a 10 MiB download ' +
      'is over for the simulator before the client has read it all. ' +
      'That row says more about the simulator than about the client.',
    '- Each download also carries a fixed cost that curl, a compiled ' +
      "program, does not: the action's first run through its HTTP and " +
      'file code. It weighs most on the 100 MiB download, which lasts ' +
      'about a seventh of a second here. In 10 processes that each ' +
      'downloaded the same 100 MiB archive twice, the first download took ' +
      '5 to 74 ms longer than the second, 19 ms at the median. Garbage ' +
      "collection took about 6 ms of a whole run, which leaves V8's " +
      "warm-up of Node's HTTP and stream code as the likely cause; it was " +
      'not measured apart.',
    ''
  ]

  return lines.join('\n')
}

/**
 * Explains the growth of the shipped action's peak RSS from the smallest
 * download to the largest: the optimizing compilers start on the hot path
 * only once a download lasts long enough.
 */
function compilerNote(downloads: DownloadRow[]): string[] {
  const smallest = downloads[0]
  const largest = downloads.at(-1)
  const shipped = rssGrowth('action', smallest, largest)
  const off = rssGrowth(COMPILERS_OFF, smallest, largest)
  if (!smallest || !largest || !shipped || !off) {
    return []
  }

  return [
    `As shipped, peak RSS is ${fixed(shipped.smaller)} MiB at ` +
      `${smallest.sizeMiB} MiB and ${fixed(shipped.larger)} MiB at ` +
      `${largest.sizeMiB} MiB (${fixed(shipped.ratio, 2)}x). With the ` +
      `optimizing compilers off the same sizes give ${fixed(off.smaller)} and ` +
      `${fixed(off.larger)} MiB (${fixed(off.ratio, 2)}x). The difference ` +
      'is the memory V8 takes once to optimize the hot download path: ' +
      'machine code, and the pages of the compilers in the node binary. A ' +
      'short download ends before that happens, and a longer one pays it ' +
      "once, whatever its size. The download's own memory is the figure " +
      'with the compilers off, so one flatness budget checks that figure ' +
      'from the smallest size to the largest. A second budget checks the ' +
      'shipped action from the middle size, where the compilers have ' +
      'started, to the largest.',
    ''
  ]
}

function downloadRows(row: DownloadRow): string[] {
  const curl = findVariant(row, 'curl to file')

  return row.variants.map(
    variant =>
      `| ${row.sizeMiB} MiB | ${variant.name} | ${row.runs} | ` +
      `${fixed(variant.mibPerSecond)} | ` +
      `${fixed(variant.rangeMiBPerSecond[0], 0)}-` +
      `${fixed(variant.rangeMiBPerSecond[1], 0)} | ` +
      `${curl ? fixed(variant.mibPerSecond / curl.mibPerSecond, 2) : 'n/a'} | ` +
      `${fixed(variant.rssMiB)} |`
  )
}

function findVariant(
  row: DownloadRow | undefined,
  name: string
): DownloadVariant | undefined {
  return row?.variants.find(variant => variant.name === name)
}

function startupRows(rows: StartupRow[]): string[] {
  const bare = rows[0]?.medianMs ?? 0

  return rows.map(
    row =>
      `| ${row.name} | ${row.note} | ${fixed(row.medianMs)} | ` +
      `${fixed(row.medianMs - bare)} | ` +
      `${row.bytes === undefined ? 'n/a' : fixed(row.bytes / 1024, 0)} | ` +
      `${fixed(row.buildSeconds)} |`
  )
}

// ---------------------------------------------------------------------------

function checkBudgets(results: Results): void {
  const [action, floor] = results.overhead
  if (action && floor) {
    const ratio = action.medianMs / floor.medianMs
    checkBudget(
      'Start overhead: action ÷ minimal node:http script',
      `${fixed(ratio, 2)} (${fixed(action.medianMs)} / ${fixed(floor.medianMs)} ms)`,
      `≤ ${BUDGETS.overheadRatio}`,
      ratio <= BUDGETS.overheadRatio
    )
  }

  for (const row of results.lag) {
    const lag = median(row.lagsMs)
    checkBudget(
      `Completion lag, ${row.jobs} jobs (median)`,
      `${fixed(lag / 1000, 2)} s`,
      `≤ poll interval + ${BUDGETS.lagSlackMs / 1000} s = ` +
        `${(POLL_INTERVAL_MS + BUDGETS.lagSlackMs) / 1000} s`,
      lag <= POLL_INTERVAL_MS + BUDGETS.lagSlackMs
    )
  }
  const longest = results.lag.at(-1)
  if (longest && !results.settings.quick) {
    checkBudget(
      `Progress requests, ${longest.jobs} job (mean gap)`,
      `${fixed(longest.meanPollGapMs / 1000, 2)} s`,
      `≥ poll interval (${POLL_INTERVAL_MS / 1000} s): at most one per interval`,
      longest.meanPollGapMs >= POLL_INTERVAL_MS
    )
  }

  const peaks = [
    ...results.overhead
      .filter(row => row.name.startsWith('action'))
      .map(row => row.maxRssMiB),
    ...results.lag.map(row => row.maxRssMiB),
    ...results.downloads.map(row => findVariant(row, 'action')?.rssMiB)
  ]
  const peak = Math.max(...definedValues(peaks))
  checkBudget(
    'Peak RSS of any action run',
    `${fixed(peak)} MiB`,
    `≤ ${BUDGETS.peakRssMiB} MiB`,
    peak <= BUDGETS.peakRssMiB
  )

  for (const row of results.downloads) {
    const action = findVariant(row, 'action')
    const curl = findVariant(row, 'curl to file')
    if (action && curl) {
      const ratio = action.mibPerSecond / curl.mibPerSecond
      checkBudget(
        `Download throughput, ${row.sizeMiB} MiB: action ÷ curl`,
        `${fixed(ratio, 2)} (${fixed(action.mibPerSecond)} / ` +
          `${fixed(curl.mibPerSecond)} MiB/s)`,
        `≥ ${BUDGETS.downloadRatio}`,
        ratio >= BUDGETS.downloadRatio
      )
    }
  }

  const [smallest, middle] = results.downloads
  const largest = results.downloads.at(-1)
  checkRssGrowth(COMPILERS_OFF, smallest, largest)
  // Once a download lasts long enough for the compilers to start, the
  // shipped action must stay flat from there to the largest size.
  if (middle !== largest) {
    checkRssGrowth('action', middle, largest)
  }
}

/** Checks that the larger download's peak RSS is flat against the smaller's. */
function checkRssGrowth(
  variant: string,
  smaller: DownloadRow | undefined,
  larger: DownloadRow | undefined
): void {
  const growth = rssGrowth(variant, smaller, larger)
  if (!smaller || !larger || growth === undefined) {
    return
  }

  checkBudget(
    `Download peak RSS, ${variant}: ${larger.sizeMiB} MiB ÷ ` +
      `${smaller.sizeMiB} MiB`,
    `${fixed(growth.ratio, 2)} (${fixed(growth.larger)} / ` +
      `${fixed(growth.smaller)} MiB)`,
    `≤ ${BUDGETS.rssGrowth}`,
    growth.ratio <= BUDGETS.rssGrowth
  )
}

function rssGrowth(
  variant: string,
  smaller: DownloadRow | undefined,
  larger: DownloadRow | undefined
): { ratio: number; smaller: number; larger: number } | undefined {
  const before = findVariant(smaller, variant)?.rssMiB
  const after = findVariant(larger, variant)?.rssMiB
  return before === undefined || after === undefined
    ? undefined
    : { ratio: after / before, smaller: before, larger: after }
}

async function main(): Promise<void> {
  const settings = parseArguments(process.argv.slice(2))
  const startedAt = new Date()
  const loadBefore = os.loadavg()
  scratch = await mkdtemp(join(os.tmpdir(), 'docspace-bench-'))
  progress(`scratch directory ${scratch}; peak RSS by ${RSS_METHOD}`)

  try {
    progress('building bundle variants for the start-up section')
    const bundles = await buildVariants()
    progress('measuring start-up')
    const startup = await measureStartup(bundles, settings.rounds)

    progress('measuring the overhead of a start')
    const overhead = await measureOverhead(
      settings,
      bundles.filter(bundle => [NO_REGISTER, EXPERIMENT].includes(bundle.name))
    )

    const lag: LagRow[] = []
    progress('measuring the completion lag of 2.5-6.5 s jobs')
    const shortJobs = settings.quick
      ? [2500, 4500, 6500]
      : [2500, 3500, 4500, 5500, 6500]
    lag.push(await measureLag(shortJobs))
    if (!settings.quick) {
      progress('measuring the completion lag of a 120 s job (--quick skips it)')
      lag.push(await measureLag([120_000]))
    }

    const downloads: DownloadRow[] = []
    const sizes = [10 * MIB, 100 * MIB, settings.quick ? 256 * MIB : 1024 * MIB]
    for (const size of sizes) {
      progress(`measuring downloads of ${size / MIB} MiB`)
      // Short downloads vary most from run to run, and cost least.
      downloads.push(await measureDownload(size, size > 100 * MIB ? 5 : 15))
    }

    const results: Results = {
      settings,
      startedAt,
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      loadBefore,
      loadAfter: os.loadavg(),
      startup,
      overhead,
      lag,
      downloads,
      curl: curlVersion()
    }
    checkBudgets(results)
    await mkdir(join(REPO_ROOT, 'docs'), { recursive: true })
    await writeFile(REPORT_PATH, renderReport(results))
    // CI checks the formatting of every Markdown file, this one included.
    spawnSync(PRETTIER, ['--write', REPORT_PATH], { stdio: 'inherit' })
    progress(`wrote ${REPORT_PATH}`)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }

  for (const budget of budgetResults) {
    progress(
      `${budget.passed ? 'pass' : 'FAIL'}: ${budget.name}: ${budget.measured} ` +
        `(limit ${budget.limit})`
    )
  }
  if (budgetResults.some(budget => !budget.passed)) {
    process.exitCode = 1
  }
}

await main()
