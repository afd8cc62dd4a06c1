import type { EndpointName } from './routes.js'

/**
 * What goes wrong with a request. Faults that replace the response (`status`,
 * `reset`, `hang`, `html-200`, `redirect`) act before the request is handled,
 * so the simulator's state does not change. The others act after it is
 * handled: `reset-after-create` drops the connection instead of responding,
 * `delay` delays the response, and the body faults cut the body short.
 */
export type FaultKind =
  | {
      kind: 'status'
      status: number
      body?: string
      headers?: Record<string, string>
    }
  | { kind: 'reset' }
  | { kind: 'reset-after-create' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'html-200' }
  | { kind: 'redirect'; status: 301 | 302 | 307 | 308; location: string }
  /** Rejects every current API key from this request on: 401, empty body. */
  | { kind: 'revoke-key' }
  /** Sends the headers and the first `afterBytes` body bytes, then closes. */
  | { kind: 'reset-mid-body'; afterBytes: number }
  /** Declares a Content-Length larger than the body, then closes. */
  | { kind: 'wrong-length' }

export type Fault = FaultKind & {
  /** Endpoint the fault applies to; `*` matches any request. */
  endpoint: EndpointName | '*'
  /** Number of matching requests the fault applies to; default 1. */
  times?: number
}

/** One-shot or n-times faults, applied to matching requests in order. */
export class FaultQueue {
  private readonly queue: Array<{ fault: Fault; remaining: number }> = []

  add(fault: Fault): void {
    this.queue.push({ fault, remaining: fault.times ?? 1 })
  }

  /** Takes the first fault for the endpoint and counts one use of it. */
  take(endpoint: EndpointName | undefined): Fault | undefined {
    const index = this.queue.findIndex(
      entry => entry.fault.endpoint === '*' || entry.fault.endpoint === endpoint
    )
    const entry = this.queue[index]
    if (!entry) {
      return undefined
    }

    entry.remaining -= 1
    if (entry.remaining <= 0) {
      this.queue.splice(index, 1)
    }

    return entry.fault
  }

  /** Faults not used up yet, in the order they apply. */
  pending(): Fault[] {
    return this.queue.map(entry => entry.fault)
  }

  clear(): void {
    this.queue.length = 0
  }
}
