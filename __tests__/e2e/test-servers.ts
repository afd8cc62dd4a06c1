import { afterAll } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startSimulator,
  type Fault,
  type Simulator,
  type SimulatorOptions
} from '../../simulator/server.js'
import { FAST_JOB } from './helpers.js'

/** Something a test starts and must close. */
interface Closable {
  close(): Promise<void>
}

/**
 * Returns starters for the simulator, the forward proxy, the recording server
 * and the redirecting server, and closes everything they started once the file's tests are done.
 * Jest runs `it.concurrent` tests together, so an `afterEach` that closed
 * every server could close one that another test still uses.
 */
export function useServers(): {
  simulator: (options?: SimulatorOptions) => Promise<Simulator>
  proxy: (target: AddressInfo) => Promise<ForwardProxy>
  recorder: (host: string) => Promise<RecordingServer>
  redirector: (target: string) => Promise<RedirectingServer>
} {
  const started: Closable[] = []
  afterAll(async () => {
    await Promise.all(started.splice(0).map(server => server.close()))
  })
  const track = <T extends Closable>(server: T): T => {
    started.push(server)
    return server
  }

  return {
    simulator: async options =>
      track(await startSimulator({ ...FAST_JOB, ...options })),
    proxy: async target => track(await startForwardProxy(target)),
    recorder: async host => track(await startRecordingServer(host)),
    redirector: async target => track(await startRedirectingServer(target))
  }
}

/** Returns the host and port a simulator listens on. */
export function addressOf(simulator: Simulator): AddressInfo {
  const url = new URL(simulator.url)

  return { address: url.hostname, port: Number(url.port), family: 'IPv4' }
}

type Endpoint = Fault['endpoint']

/**
 * Lets the next `count` requests to `endpoint` through unchanged, so that a
 * fault added after this call hits a later request. A zero `delay` is the
 * simulator's no-op fault.
 */
export function passRequests(
  simulator: Simulator,
  endpoint: Endpoint,
  count: number
): void {
  simulator.faults.add({ endpoint, kind: 'delay', ms: 0, times: count })
}

/** One request that reached the forward proxy. */
export interface ProxiedRequest {
  /** `CONNECT`, or the method of an absolute-URI request. */
  method: string
  /** `host:port` of a CONNECT, or the absolute URI of another request. */
  target: string
}

/** An HTTP forward proxy that sends every request to one address. */
export interface ForwardProxy extends Closable {
  /** `http://127.0.0.1:<port>`, the value for HTTP_PROXY and HTTPS_PROXY. */
  url: string
  requests: ProxiedRequest[]
}

/**
 * Starts a forward proxy on 127.0.0.1 that connects every request, whatever
 * host it names, to `target`, and records it. It serves CONNECT tunnels,
 * which @actions/http-client opens for http:// and https:// portals alike,
 * and absolute-URI requests, which plain HTTP proxy clients send.
 */
export async function startForwardProxy(
  target: AddressInfo
): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = []
  const sockets = new Set<Socket>()
  const server = createServer((incoming, outgoing) => {
    requests.push({ method: incoming.method ?? '', target: incoming.url ?? '' })
    forwardAbsoluteUri(target, incoming, outgoing)
  })

  server.on('connect', (incoming: IncomingMessage, client: Socket, head) => {
    requests.push({ method: 'CONNECT', target: incoming.url ?? '' })
    const upstream = connect(target.port, target.address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })

  const port = await listen(server, '127.0.0.1')

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      sockets.forEach(socket => socket.destroy())
      return closeServer(server)
    }
  }
}

function forwardAbsoluteUri(
  target: AddressInfo,
  incoming: IncomingMessage,
  outgoing: ServerResponse
): void {
  let url: URL
  try {
    url = new URL(incoming.url ?? '')
  } catch {
    outgoing.writeHead(400).end()
    return
  }

  const upstream = httpRequest(
    {
      host: target.address,
      port: target.port,
      method: incoming.method,
      path: `${url.pathname}${url.search}`,
      headers: incoming.headers
    },
    response => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers)
      response.pipe(outgoing)
    }
  )
  upstream.on('error', () => outgoing.destroy())
  incoming.pipe(upstream)
}

/** A server that returns 404 for every request and records each one. */
export interface RecordingServer extends Closable {
  /** `http://<host>:<port>`, without a trailing slash. */
  url: string
  /** Whether each received request carried an Authorization header. */
  authorizationSeen: boolean[]
}

/**
 * Starts a server on `host` (a loopback address such as 127.0.0.2) to stand
 * for another host that a redirect points to.
 */
export async function startRecordingServer(
  host: string
): Promise<RecordingServer> {
  const authorizationSeen: boolean[] = []
  const server = createServer((incoming, outgoing) => {
    authorizationSeen.push(incoming.headers.authorization !== undefined)
    incoming.resume()
    outgoing.writeHead(404).end()
  })
  const port = await listen(server, host)

  return {
    url: `http://${host}:${port}`,
    authorizationSeen,
    close: () => closeServer(server)
  }
}

/** A server that moves every request elsewhere with a 308. */
export interface RedirectingServer extends Closable {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string
}

/**
 * Starts a server on 127.0.0.1 that answers each request with a 308 to the
 * same path under `target`, as an HTTP front of an HTTPS portal does.
 */
export async function startRedirectingServer(
  target: string
): Promise<RedirectingServer> {
  const server = createServer((incoming, outgoing) => {
    incoming.resume()
    outgoing.writeHead(308, { Location: `${target}${incoming.url}` }).end()
  })
  const port = await listen(server, '127.0.0.1')

  return {
    url: `http://127.0.0.1:${port}`,
    close: () => closeServer(server)
  }
}

/**
 * Returns a name that /etc/hosts maps to 127.0.0.1 and that
 * @actions/http-client does not treat as loopback, or undefined when there is
 * none. Its loopback check, which bypasses the proxy, matches only
 * `localhost`, `127.*` and `[::1]`. A name from /etc/hosts resolves without a
 * DNS query.
 */
export function hostsFileAlias(): string | undefined {
  let hosts: string
  try {
    hosts = readFileSync('/etc/hosts', 'utf8')
  } catch {
    return undefined
  }

  for (const line of hosts.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (address !== '127.0.0.1') {
      continue
    }
    const alias = names.find(name => !/localhost/i.test(name))
    if (alias) {
      return alias
    }
  }

  return undefined
}

/** A certificate for 127.0.0.1 issued by a private CA, all in PEM. */
export interface CaSignedCertificate {
  /** The CA's certificate, the file to name in NODE_EXTRA_CA_CERTS. */
  ca: string
  key: string
  cert: string
}

/**
 * Creates a throwaway CA and a certificate for 127.0.0.1 that it signs, both
 * valid one day, with the `openssl` command. Unlike a self-signed
 * certificate, Node rejects this one with UNABLE_TO_VERIFY_LEAF_SIGNATURE,
 * which is what a portal behind a company CA gives.
 */
export function createCaSignedCertificate(): CaSignedCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'docspace-e2e-ca-'))
  const path = (name: string) => join(directory, name)
  const openssl = (args: string[]) =>
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']

  try {
    openssl([
      ...['req', '-x509', ...newKey, '-nodes', '-days', '1'],
      ...['-subj', '/CN=DocSpace e2e CA'],
      ...['-keyout', path('ca-key.pem'), '-out', path('ca.pem')]
    ])
    openssl([
      ...['req', ...newKey, '-nodes', '-subj', '/CN=127.0.0.1'],
      ...['-keyout', path('key.pem'), '-out', path('request.pem')]
    ])
    writeFileSync(path('extensions'), 'subjectAltName=IP:127.0.0.1\n')
    openssl([
      ...['x509', '-req', '-days', '1', '-in', path('request.pem')],
      ...['-CA', path('ca.pem'), '-CAkey', path('ca-key.pem')],
      ...['-CAcreateserial', '-extfile', path('extensions')],
      ...['-out', path('cert.pem')]
    ])

    return {
      ca: readFileSync(path('ca.pem'), 'utf8'),
      key: readFileSync(path('key.pem'), 'utf8'),
      cert: readFileSync(path('cert.pem'), 'utf8')
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close(error => (error ? reject(error) : resolve()))
    server.closeAllConnections()
  })
}
