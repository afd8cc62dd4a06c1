import { run } from './main.js'

// The runner sends SIGINT when a run is cancelled, then SIGTERM about 7.5 s
// later. Stop waiting on the first, so outputs are set and, when asked, the
// portal's backup is cancelled before the runner kills the process.
// Later signals are ignored, so a repeated SIGINT cannot cut the cleanup short.
const controller = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!controller.signal.aborted) {
      controller.abort(new Error(`Received ${signal}; the run was cancelled.`))
    }
  })
}

await run(controller.signal)
// An aborted request can leave a socket open until its timeout; exit now.
process.exit()
