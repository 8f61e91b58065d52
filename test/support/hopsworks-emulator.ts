/**
 * A Hopsworks emulator for tests: a real HTTP server on 127.0.0.1 (port 0)
 * that keeps state and answers as ../shared/hopsworks/API.md says (its rules
 * come from there and from the Hopsworks sources it cites, not from our
 * client). Routes live in ./hopsworks/*; this file is the server, the
 * request pipeline and the test-facing API.
 *
 *     request -> route match (404 120004 when none) -> fault injection
 *             -> API key check (401/403) -> project check (404 150004 / 403 160000)
 *             -> route -> JSON (NON_NULL) or the error envelope
 *
 * Faults on demand: an HTTP status on the n-th call of a route, a slow
 * answer, a dropped connection (before the server acts, or after it acted:
 * the answer is lost), executions forced to end FAILED or KILLED, and a held
 * call (`hold`): the server waits before acting, so a test can kill the
 * client at a known point; a held call whose client has gone is never acted on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiKeys, ALL_SCOPES } from './hopsworks/auth.ts'
import { matchDatasets } from './hopsworks/dataset-routes.ts'
import { matchFeatureStore, type Route } from './hopsworks/featurestore-routes.ts'
import { matchJobs, type JobBehaviour } from './hopsworks/job-routes.ts'
import { EmulatorState, type FeatureGroupState, type ProjectState } from './hopsworks/state.ts'
import { CODES, HwError, type Reply, type Req } from './hopsworks/wire.ts'

export interface Fault {
  /** Route name: getProjectInfo, getFeatureStore, getFeatureGroup, createFeatureGroup, ingestion, upload, uploadProbe, deleteDataset, startExecution, getExecution, listExecutions, getJob, deleteJob, createFeatureView, getFeatureView, expectationSuite, validationReport ... */
  readonly route: string
  /** The first call (1-based, counted per route from now on) it hits. Default 1. */
  readonly nth?: number
  /** Calls in a row it hits. Default 1. */
  readonly times?: number
  /** Answer with this status: 500 as Hopsworks' generic envelope (120000), others as a proxy's plain text. */
  readonly status?: number
  /** Destroy the connection: 'before' the server acts, or 'after' it acted (the answer is lost). */
  readonly drop?: 'before' | 'after'
  /** Answer this much later. */
  readonly delayMs?: number
}

export interface EmulatorOptions {
  /** Default one project `demo` (id 119). */
  readonly projects?: readonly ProjectState[]
  /** Polls of an execution before its final state. Default 3. */
  readonly executionSteps?: number
  /** The clock of ingestion job names (default now). A fixed time makes every job reuse one name, as the server does for jobs made in the same second. */
  readonly jobClock?: () => Date
  /** The release emulated where releases differ (expectation suite verbs, the report's expectation ids). Default '3.1+'. */
  readonly serverVersion?: '3.0' | '3.1+'
}

export interface CallRecord { readonly method: string; readonly route: string; readonly path: string; readonly status: number | 'dropped' }

interface ActiveFault { readonly fault: Fault; readonly from: number; left: number }

/** A call held before the server acts on it (see `HopsworksEmulator.hold`). */
export interface Hold {
  /** Resolves when the held call has arrived (the server has not acted on it). */
  readonly arrived: Promise<void>
  /** Lets the held call go on: the server acts on it, unless its client has gone (then it is dropped, never acted on). */
  release(): void
}

interface ActiveHold { readonly route: string; readonly arrive: () => void; readonly release: () => void; readonly released: Promise<void> }

export class HopsworksEmulator {
  readonly state = new EmulatorState()
  readonly keys = new ApiKeys()
  /** A key with every scope. */
  readonly apiKey: string
  readonly calls: CallRecord[] = []
  readonly #server: Server
  readonly #faults: ActiveFault[] = []
  readonly #holds: ActiveHold[] = []
  readonly #allHolds = new Set<ActiveHold>()
  readonly #counts = new Map<string, number>()
  readonly #active = new Map<string, number>()
  readonly #peak = new Map<string, number>()
  readonly #jobs: JobBehaviour
  #url = ''

  private constructor(options: EmulatorOptions) {
    for (const p of options.projects ?? [{ id: 119, name: 'demo' }]) {
      this.state.projects.push(p)
      // the datasets every project is made with (HW ProjectController: Resources, Logs, Jupyter, ...)
      this.state.dirs.add(`/Projects/${p.name}`)
      this.state.dirs.add(`/Projects/${p.name}/Resources`)
    }
    this.apiKey = this.keys.create(ALL_SCOPES)
    if (options.serverVersion) this.state.serverVersion = options.serverVersion
    this.#jobs = { steps: options.executionSteps ?? 3, planned: [], ...(options.jobClock ? { clock: options.jobClock } : {}) }
    this.#server = createServer((req, res) => void this.#handle(req, res))
  }

  static async start(options: EmulatorOptions = {}): Promise<HopsworksEmulator> {
    const emu = new HopsworksEmulator(options)
    await new Promise<void>((resolve) => emu.#server.listen(0, '127.0.0.1', resolve))
    emu.#url = `http://127.0.0.1:${(emu.#server.address() as AddressInfo).port}`
    return emu
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.#url
  }

  /** HOPSWORKS_* variables pointing at this emulator (first project, full key). */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return { HOPSWORKS_HOST: this.#url, HOPSWORKS_API_KEY: this.apiKey, HOPSWORKS_PROJECT: this.state.projects[0]!.name, ...overrides }
  }

  inject(fault: Fault): void {
    this.#faults.push({ fault, from: this.count(fault.route) + (fault.nth ?? 1), left: fault.times ?? 1 })
  }

  /**
   * Holds the next call of a route before the server acts on it (after it
   * was counted and read in full). `release()` lets it go on; when its client
   * closed the connection in the meantime (a killed process), the call is
   * recorded as 'dropped' and the server does nothing, as if it never came.
   */
  hold(route: string): Hold {
    let arrive!: () => void
    let release!: () => void
    const arrived = new Promise<void>((resolve) => (arrive = resolve))
    const released = new Promise<void>((resolve) => (release = resolve))
    const h: ActiveHold = { route, arrive, release, released }
    this.#holds.push(h)
    this.#allHolds.add(h)
    return { arrived, release }
  }

  /**
   * The next execution started ends with this state and final status instead of running. An UNDEFINED
   * final status stays so at every later poll (a driver killed before YARN reported, a FINISHED whose
   * status never arrives: JobState.java / JobFinalStatus.java allow both).
   */
  failNextJob(finalStatus: 'FAILED' | 'KILLED' | 'UNDEFINED' = 'FAILED', state: string = finalStatus): void {
    this.#jobs.planned.push({ state, finalStatus })
  }

  /** Every execution ever started, of live and deleted jobs, in start order. */
  executions(): { job: string; dataPath: string; state: string; finalStatus: string; filesRead?: number }[] {
    return [...this.state.jobs.values(), ...this.state.deletedJobs]
      .flatMap((j) => j.executions.map((e) => ({ id: e.id, job: j.name, dataPath: e.dataPath ?? j.dataPath, state: e.state, finalStatus: e.finalStatus, ...(e.filesRead !== undefined ? { filesRead: e.filesRead } : {}) })))
      .sort((a, b) => a.id - b.id)
      .map(({ id: _id, ...e }) => e)
  }

  /** The next execution started runs as usual (so that a later `failNextJob` hits the one after it). */
  runNextJob(): void {
    this.#jobs.planned.push({ state: 'FINISHED', finalStatus: 'SUCCEEDED' })
  }

  /** Calls of a route so far. */
  count(route: string): number {
    return this.#counts.get(route) ?? 0
  }

  /** The most calls of a route in progress at once so far. */
  peak(route: string): number {
    return this.#peak.get(route) ?? 0
  }

  featureGroup(name: string, version: number): FeatureGroupState | undefined {
    return this.state.featureGroups.find((g) => g.name === name && g.version === version)
  }

  /** The rows a feature group holds (what a reader of the offline store sees). */
  rows(name: string, version: number): Record<string, unknown>[] {
    return [...(this.featureGroup(name, version)?.rows.values() ?? [])]
  }

  async close(): Promise<void> {
    for (const h of this.#allHolds) h.release()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #route(req: Req): Route | undefined {
    return matchFeatureStore(this.state, req) ?? matchJobs(this.state, req, this.#jobs) ?? matchDatasets(this.state, req)
  }

  #fault(route: string, n: number): Fault | undefined {
    const f = this.#faults.find((x) => x.fault.route === route && n >= x.from && x.left > 0)
    if (f) f.left--
    return f?.fault
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://emulator')
    const prefix = '/hopsworks-api/api/'
    const r: Req = {
      method: req.method ?? 'GET',
      segs: url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).split('/').filter((x) => x !== '').map(decodeURIComponent) : [],
      query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks),
    }
    const route = this.#route(r)
    const name = route?.name ?? 'unknown'
    const n = (this.#counts.get(name) ?? 0) + 1
    this.#counts.set(name, n)
    const active = (this.#active.get(name) ?? 0) + 1
    this.#active.set(name, active)
    this.#peak.set(name, Math.max(active, this.#peak.get(name) ?? 0))
    const record = (status: number | 'dropped'): void => {
      this.#active.set(name, (this.#active.get(name) ?? 1) - 1)
      this.calls.push({ method: r.method, route: name, path: url.pathname, status })
    }
    const held = this.#holds.findIndex((h) => h.route === name)
    if (held >= 0) {
      const h = this.#holds.splice(held, 1)[0]!
      let gone = false
      res.once('close', () => (gone = true))
      h.arrive()
      await h.released
      if (gone || req.socket.destroyed) {
        record('dropped')
        req.socket.destroy()
        return
      }
    }
    const fault = this.#fault(name, n)
    if (fault?.delayMs) await sleep(fault.delayMs)
    if (fault?.drop === 'before') {
      record('dropped')
      req.socket.destroy()
      return
    }
    if (fault?.status) {
      record(fault.status)
      if (fault.status === 500) return this.#send(res, { status: 500, body: { errorCode: 120000, errorMsg: 'A generic error occurred.' } })
      return this.#send(res, { status: fault.status, body: `<html><body><h1>${fault.status}</h1>upstream unavailable</body></html>`, headers: { 'content-type': 'text/html' } })
    }
    let reply: Reply
    try {
      if (!route) throw new HwError(...CODES.notFoundRoute)
      const user = this.keys.check(req.headers.authorization, route.scope)
      if (route.projectId !== undefined) {
        const p = this.state.project(route.projectId)
        if (!p) throw new HwError(...CODES.projectNotFound)
        if (p.members && !p.members.includes(user)) throw new HwError(...CODES.notMember)
      }
      reply = await route.run(r, user)
    } catch (err) {
      if (!(err instanceof HwError)) {
        reply = { status: 500, body: { errorCode: 120000, errorMsg: 'A generic error occurred.', usrMsg: String((err as Error)?.message ?? err) } }
      } else {
        reply = { status: err.status, body: { errorCode: err.errorCode, errorMsg: err.message, ...(err.usrMsg ? { usrMsg: err.usrMsg } : {}) }, ...(err.headers ? { headers: err.headers } : {}) }
      }
    }
    if (fault?.drop === 'after') {
      record('dropped')
      req.socket.destroy()
      return
    }
    record(reply.status)
    this.#send(res, reply)
  }

  #send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers }
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status, headers).end()
      return
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
    headers['content-type'] ??= typeof reply.body === 'string' ? 'text/plain' : 'application/json'
    res.writeHead(reply.status, headers).end(text)
  }
}
