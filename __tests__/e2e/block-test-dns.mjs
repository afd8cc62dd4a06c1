// Preloaded into the action with NODE_OPTIONS=--import=<this file>. Fails
// every dns.lookup of a name under the reserved .test domain with ENOTFOUND.
// A test that names its portal *.test expects the proxy to reach it, and this
// keeps a DNS query from leaving the machine when the proxy is bypassed.
// Node's http and net modules read dns.lookup at connect time, so replacing
// it here covers them.
import dns from 'node:dns'
import { syncBuiltinESMExports } from 'node:module'

const lookup = dns.lookup

dns.lookup = function (hostname, ...rest) {
  if (typeof hostname === 'string' && /\.test\.?$/i.test(hostname)) {
    const callback = rest[rest.length - 1]
    const error = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
    error.code = 'ENOTFOUND'
    error.hostname = hostname
    process.nextTick(callback, error)
    return {}
  }

  return lookup.call(this, hostname, ...rest)
}

syncBuiltinESMExports()
