// Runs the bundled action once, as the GitHub runner would, and prints its
// log, outputs and job summary. Against the DocSpace simulator on 127.0.0.1
// by default; against a real portal when DOCSPACE_URL and DOCSPACE_API_KEY
// are set. Other inputs can be given as INPUT_<NAME> variables with `_` or
// `-` between words, e.g. `INPUT_STORAGE_TYPE=Documents` (shells do not
// accept `-` in variable names, but `env` does).
import { startSimulator, type Simulator } from '../simulator/server.js'
import { renderLog, runAction } from './lib/run-action.js'

const DEFAULT_INPUTS = {
  'storage-type': 'DataStore',
  'poll-interval': '1s',
  timeout: '10m'
}

async function main(): Promise<void> {
  const portalUrl = process.env.DOCSPACE_URL
  const apiKey = process.env.DOCSPACE_API_KEY
  let simulator: Simulator | undefined

  if (!portalUrl || !apiKey) {
    simulator = await startSimulator({ queuedMs: 1000, jobMs: 6000 })
    console.log(`DocSpace simulator listening on ${simulator.url}`)
  } else {
    console.log(`Running against ${new URL(portalUrl).origin}`)
  }

  try {
    const run = await runAction({
      env: passThrough(process.env),
      // Ctrl-C reaches the action as a cancelled run's SIGINT would, and
      // this script still prints what the action left behind.
      onSpawn: child => {
        process.on('SIGINT', () => child.kill('SIGINT'))
      },
      inputs: {
        ...DEFAULT_INPUTS,
        ...inputsFromEnvironment(),
        'portal-url': simulator?.url ?? portalUrl!,
        'api-key': simulator?.apiKey ?? apiKey!
      }
    })
    printRun(run.stdout, run.outputs, run.summary)
    console.log(`\nExit code: ${run.exitCode}`)
    process.exitCode = run.exitCode ?? 1
  } finally {
    await simulator?.close()
  }
}

/** Variables that reach the action as they do on a runner. */
const PASSED_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'RUNNER_DEBUG'
]

function passThrough(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    PASSED_VARIABLES.flatMap(name =>
      env[name] === undefined ? [] : [[name, env[name]]]
    )
  )
}

/** Inputs given as INPUT_<NAME> variables, by their action.yml names. */
function inputsFromEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env)
      .filter(([name]) => name.startsWith('INPUT_'))
      .map(([name, value]) => [
        name.slice('INPUT_'.length).toLowerCase().replace(/_/g, '-'),
        value ?? ''
      ])
  )
}

function printRun(
  stdout: string,
  outputs: Record<string, string>,
  summary: string
): void {
  console.log('\n--- Log ---')
  console.log(renderLog(stdout).trimEnd())

  console.log('\n--- Outputs ---')
  for (const [name, value] of Object.entries(outputs)) {
    // The link is a signed URL: the runner masks it, and so does this.
    console.log(`${name}: ${name === 'link' && value ? '***' : value}`)
  }

  console.log('\n--- Job summary ---')
  console.log(summary.trim())
}

await main()
