import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import {
  chmod,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { renderLog, type ActionRun } from '../../scripts/lib/run-action.js'
import {
  generateArchive,
  type Simulator,
  type SimulatorOptions
} from '../../simulator/server.js'
import {
  commandMessages,
  requestsTo,
  runStep,
  useSimulators
} from './helpers.js'

const startSimulator = useSimulators()

/** A little over 1 MiB: many 64 KiB chunks, and not a round number. */
const ARCHIVE_BYTES = 1024 * 1024 + 13

let directory: string

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'download-e2e-'))
})

afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

function startPortal(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ archiveBytes: ARCHIVE_BYTES, ...options })
}

/** Runs the step with download-path set to the test directory. */
function runDownload(
  simulator: Simulator,
  inputs: Record<string, string> = {}
): Promise<ActionRun> {
  return runStep(simulator, { 'download-path': directory, ...inputs })
}

/** Returns the archive that the simulator serves for the run's file name. */
function servedArchive(run: ActionRun): Buffer {
  return generateArchive(run.outputs['file-name'] ?? '', ARCHIVE_BYTES)
}

/** Reads the file that the run's archive-path output names. */
function savedArchive(run: ActionRun): Promise<Buffer> {
  return readFile(run.outputs['archive-path'] ?? '')
}

/** Fails when the rendered log shows the signature of the run's link. */
function expectLinkHidden(run: ActionRun): void {
  const signature = new URL(run.outputs.link ?? '').searchParams.get(
    'signature'
  )
  expect(signature).toBeTruthy()
  expect(renderLog(run.stdout)).not.toContain(signature)
}

/**
 * Whether this machine lets a process make a user and mount namespace of its
 * own, where it may mount a tmpfs without touching the host's mounts.
 */
const CAN_MOUNT_PRIVATELY =
  spawnSync('unshare', ['--mount', '--map-root-user', 'true']).status === 0

/**
 * Writes a stand-in for the node binary that runs the action with a 256 KiB
 * tmpfs mounted on the test directory, in namespaces of its own, and then
 * writes what the directory contains to `listing`. It is a Node script, not
 * a shell one, because sh drops the INPUT_ variables with hyphens.
 */
async function writeFullDiskNode(listing: string): Promise<string> {
  const script = join(await mkdtemp(join(tmpdir(), 'full-disk-')), 'node.mjs')
  const settings = JSON.stringify({ directory, listing })
  await writeFile(
    script,
    [
      `#!${process.execPath}`,
      "import { execFileSync, spawnSync } from 'node:child_process'",
      "import { readdirSync, writeFileSync } from 'node:fs'",
      `const { directory, listing } = ${settings}`,
      'const [first, second] = process.argv.slice(2)',
      "if (first !== '--inside') {",
      '  const run = spawnSync(',
      "    'unshare',",
      "    ['--mount', '--map-root-user', process.execPath, process.argv[1], '--inside', first],",
      "    { stdio: 'inherit' }",
      '  )',
      '  process.exit(run.status ?? 1)',
      '}',
      "execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', directory])",
      "const run = spawnSync(process.execPath, [second], { stdio: 'inherit' })",
      "writeFileSync(listing, readdirSync(directory).join('\\n'))",
      'process.exit(run.status ?? 1)',
      ''
    ].join('\n')
  )
  await chmod(script, 0o755)

  return script
}

describe('download-path', () => {
  it('saves the archive under its server name', async () => {
    const simulator = await startPortal()

    const run = await runDownload(simulator)

    expect(run.exitCode).toBe(0)
    expect(run.outputs['archive-path']).toBe(
      join(directory, run.outputs['file-name'] ?? '')
    )
    expect(run.outputs['archive-size']).toBe(String(ARCHIVE_BYTES))
    expect((await savedArchive(run)).equals(servedArchive(run))).toBe(true)
    expect(await readdir(directory)).toEqual([run.outputs['file-name']])
    expectLinkHidden(run)
  })

  it('saves an absolute link to a file path', async () => {
    const simulator = await startPortal({ linkStyle: 'absolute' })
    const destination = join(directory, 'nested', 'latest.tar.gz')

    const run = await runDownload(simulator, { 'download-path': destination })

    expect(run.exitCode).toBe(0)
    expect(run.outputs['archive-path']).toBe(destination)
    expect((await readFile(destination)).equals(servedArchive(run))).toBe(true)
  })

  it('resumes after a dropped connection', async () => {
    const simulator = await startPortal()
    simulator.faults.add({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: Math.floor(ARCHIVE_BYTES / 2)
    })

    const run = await runDownload(simulator)

    expect(run.exitCode).toBe(0)
    expect(requestsTo(simulator, 'download')).toHaveLength(2)
    expect(renderLog(run.stdout)).toMatch(/interrupted at \d+ bytes/)
    expect((await savedArchive(run)).equals(servedArchive(run))).toBe(true)
    expect(run.outputs['archive-size']).toBe(String(ARCHIVE_BYTES))
  })

  it('starts over when the server ignores Range', async () => {
    const simulator = await startPortal({ ignoreRange: true })
    simulator.faults.add({
      endpoint: 'download',
      kind: 'reset-mid-body',
      afterBytes: Math.floor(ARCHIVE_BYTES / 2)
    })

    const run = await runDownload(simulator)

    expect(run.exitCode).toBe(0)
    expect(renderLog(run.stdout)).toMatch(/ignored the Range request/)
    expect((await savedArchive(run)).equals(servedArchive(run))).toBe(true)
  })

  it('fails on a wrong length and leaves no file', async () => {
    const simulator = await startPortal()
    simulator.faults.add({ endpoint: 'download', kind: 'wrong-length' })

    const run = await runDownload(simulator)

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toMatch(/size does not match/)
    expect(run.outputs['archive-path']).toBe('')
    expect(await readdir(directory)).toEqual([])
  })

  it('reports an expired link and leaves no file', async () => {
    const simulator = await startPortal()
    simulator.faults.add({ endpoint: 'download', kind: 'status', status: 404 })

    const run = await runDownload(simulator)

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toMatch(/404: the link has expired/)
    expect(commandMessages(run.stdout, 'error')[0]).toMatch(/expired/)
    expect(run.outputs['archive-path']).toBe('')
    expect(await readdir(directory)).toEqual([])
    expectLinkHidden(run)
  })

  // Skipped where the machine forbids user namespaces. .ci/run fails on a
  // skipped test, so CI always runs it.
  const itWithTmpfs = CAN_MOUNT_PRIVATELY ? it : it.skip
  itWithTmpfs('reports a full disk and leaves no file', async () => {
    const simulator = await startPortal()
    const listing = join(await mkdtemp(join(tmpdir(), 'listing-')), 'files')
    const nodePath = await writeFullDiskNode(listing)

    try {
      const run = await runStep(
        simulator,
        { 'download-path': `${directory}/` },
        { nodePath }
      )

      expect(run.exitCode).toBe(1)
      expect(run.outputs.error).toMatch(/no space left on the device/)
      expect(run.outputs.error).toContain(
        join(directory, run.outputs['file-name'] ?? '')
      )
      expect(run.outputs.error).not.toContain('.partial')
      expect(run.outputs.status).toBe('completed')
      expect(run.outputs['archive-path']).toBe('')
      expect(await readFile(listing, 'utf8')).toBe('')
    } finally {
      await rm(dirname(nodePath), { recursive: true, force: true })
      await rm(dirname(listing), { recursive: true, force: true })
    }
  })

  it('rejects Documents storage before any request', async () => {
    const simulator = await startPortal()

    const run = await runDownload(simulator, {
      'storage-type': 'Documents',
      'storage-params': 'folderId=1'
    })

    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.error).toMatch(/^download-path: /m)
    expect(simulator.requests).toHaveLength(0)
  })
})
