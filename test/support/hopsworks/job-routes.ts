/**
 * Emulated routes: the ingestion job (API.md 6a step 1: dataPath and job-name
 * formats, the job not started; HW hopsworks-api/.../featurestore/featuregroup/
 * FeaturegroupService.java `ingestion`, IngestionJobBuilder.java, common/
 * featurestore/app/FsJobManagerController.java), jobs (api/jobs/JobsResource.java)
 * and their executions (api/jobs/executions/ExecutionsResource.java; 6a step 3,
 * section 8: states moving on at each poll as persistence/.../history/JobState.java
 * and JobFinalStatus.java name them, then the CSV ingested).
 */
import { featureStoreOf, fgById, type Route } from './featurestore-routes.ts'
import { ingest, materialize } from './ingest.ts'
import type { EmulatorState, ExecutionState, JobState } from './state.ts'
import { fail, jsonBody, nonNull, ok, type Reply, type Req } from './wire.ts'

export interface JobBehaviour {
  /** Polls of an execution before it reaches its final state. */
  readonly steps: number
  /** Final outcomes forced on the next executions started (fault injection), consumed in order. */
  readonly planned: { state: string; finalStatus: string }[]
  /** The clock of job names (`ddMMyyyyHHmmss`); a fixed one makes every ingestion job reuse one name, as jobs made in the same second do. */
  readonly clock?: () => Date
}

const DATA_FORMATS = new Set(['ORC', 'PARQUET', 'AVRO', 'CSV'])
const pad = (n: number): string => String(n).padStart(2, '0')

function stamp(d: Date): string {
  return `${pad(d.getUTCDate())}${pad(d.getUTCMonth() + 1)}${d.getUTCFullYear()}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
}

function jobView(j: JobState): unknown {
  return nonNull({
    id: j.id, name: j.name, creationTime: j.creationTime, jobType: 'PYSPARK', creator: { email: 'meb10000@example.com' },
    config: { type: 'sparkJobConfiguration', appName: j.name, defaultArgs: j.kind === 'materialization' ? String(j.conf['defaultArgs']) : `-op insert_fg -path /Projects/${j.dataPath.split('/')[2]}/Resources/insert_fg_config` },
    href: `/jobs/${j.name}`,
  })
}

function executionView(e: ExecutionState, j: JobState): unknown {
  return nonNull({
    id: e.id, submissionTime: e.submissionTime, state: e.state, finalStatus: e.finalStatus, progress: e.progress,
    duration: 0, args: '', user: 'meb10000', hdfsUser: 'demo__meb10000', appId: `application_${j.id}_${e.id}`,
    stdoutPath: `/Projects/logs/${j.name}/${e.id}/stdout.log`, stderrPath: `/Projects/logs/${j.name}/${e.id}/stderr.log`,
  })
}

function createIngestionJob(s: EmulatorState, pid: number, fsIdOrName: string, fgId: string, req: Req, clock: () => Date = () => new Date()): Reply {
  const p = s.project(pid) ?? fail('projectNotFound')
  const g = fgById(s, featureStoreOf(s, p, fsIdOrName), fgId)
  const b = jsonBody(req)
  const format = String(b['dataFormat'] ?? 'CSV')
  if (!DATA_FORMATS.has(format)) fail('illegalArgument', `dataFormat ${format}`)
  if (b['dataOptions'] !== undefined && b['dataOptions'] !== null && !Array.isArray(b['dataOptions'])) fail('illegalArgument', 'dataOptions must be a list')
  const ingestion = `/Projects/${p.name}/Ingestion`
  s.dirs.add(`/Projects/${p.name}`)
  s.dirs.add(ingestion)
  let millis = Date.now()
  while (s.dirs.has(`${ingestion}/${g.name}_${g.version}${millis}`)) millis++
  const dataPath = `${ingestion}/${g.name}_${g.version}${millis}`
  s.dirs.add(dataPath)
  const name = `${g.name}_${g.version}_insert_fg_${stamp(clock())}`
  const previous = s.jobs.get(name) // same second: the server updates the job of that name (FsJobManagerController.configureJob)
  const job: JobState = {
    id: previous?.id ?? s.nextId(), name, projectId: p.id, featureGroupId: g.id, dataPath,
    conf: { ...b, dataFormat: format }, creationTime: new Date().toISOString(), executions: previous?.executions ?? [],
  }
  s.jobs.set(name, job)
  return ok({ href: `/featuregroups/${g.id}/ingestion`, dataPath, job: jobView(job) })
}

function jobOf(s: EmulatorState, pid: number, name: string): JobState {
  const j = s.jobs.get(name)
  return j && j.projectId === pid ? j : fail('jobNotFound', name)
}

/** One poll: the execution moves on; at its last step the job runs (ingests). */
function advance(s: EmulatorState, j: JobState, e: ExecutionState, behaviour: JobBehaviour): void {
  if (e.finalStatus !== 'UNDEFINED') return
  e.polls++
  const flow = ['INITIALIZING', 'SUBMITTED', 'RUNNING']
  if (e.polls < behaviour.steps) {
    e.state = flow[Math.min(e.polls, flow.length - 1)]!
    e.progress = Math.min(0.9, e.polls / behaviour.steps)
    return
  }
  if (e.planned && e.planned.finalStatus !== 'SUCCEEDED') {
    e.state = e.planned.state
    e.finalStatus = e.planned.finalStatus
    e.error = `fault injected: ${e.planned.state}/${e.planned.finalStatus}`
    return
  }
  const g = s.featureGroups.find((x) => x.id === j.featureGroupId)
  try {
    if (!g) throw new Error('the feature group was deleted')
    if (j.kind === 'materialization') {
      materialize(g)
    } else {
      const files = s.filesIn(e.dataPath ?? j.dataPath)
      ingest(j, g, files)
      e.filesRead = files.length
    }
    e.state = 'FINISHED'
    e.finalStatus = 'SUCCEEDED'
    e.progress = 1
  } catch (err) {
    e.state = 'FAILED'
    e.finalStatus = 'FAILED'
    e.error = (err as Error).message
  }
}

export function matchJobs(s: EmulatorState, req: Req, behaviour: JobBehaviour): Route | undefined {
  const [a, b, c, d, e, f, g1, h] = req.segs
  const m = req.method
  if (a !== 'project' || b === undefined || !/^\d+$/.test(b)) return undefined
  const pid = Number(b)
  if (c === 'featurestores' && e === 'featuregroups' && g1 === 'ingestion' && h === undefined && m === 'POST')
    return { name: 'ingestion', scope: 'FEATURESTORE', projectId: pid, run: (r) => createIngestionJob(s, pid, d!, f!, r, behaviour.clock) }
  // HW hopsworks-api/.../api/jobs/JobsResource.java getAll (scope JOB): {count, items}.
  if (c === 'jobs' && d === undefined && m === 'GET')
    return {
      name: 'listJobs', scope: 'JOB', projectId: pid,
      run: (r) => {
        const all = [...s.jobs.values()].filter((j) => j.projectId === pid)
        const offset = Number(r.query.get('offset') ?? 0)
        const limit = Number(r.query.get('limit') ?? all.length)
        return ok({ count: all.length, items: all.slice(offset, offset + limit).map(jobView) })
      },
    }
  if (c !== 'jobs' || d === undefined) return undefined
  const base = { scope: 'JOB', projectId: pid }
  if (e === undefined && m === 'GET') return { ...base, name: 'getJob', run: () => ok(jobView(jobOf(s, pid, d))) }
  if (e === undefined && m === 'DELETE')
    return { ...base, name: 'deleteJob', run: () => { s.deletedJobs.push(jobOf(s, pid, d)); s.jobs.delete(d); return { status: 204 } } }
  if (e !== 'executions') return undefined
  if (f === undefined && m === 'POST')
    return {
      ...base, name: 'startExecution',
      run: (r) => {
        const j = jobOf(s, pid, d)
        const type = String(r.headers['content-type'] ?? '').split(';')[0]!.trim()
        if (type !== 'text/plain' && type !== 'application/json') fail('webApplication', `Content-Type ${type || 'missing'}`)
        const planned = behaviour.planned.shift()
        const ex: ExecutionState = { id: s.nextId(), submissionTime: new Date().toISOString(), state: 'INITIALIZING', finalStatus: 'UNDEFINED', progress: 0, polls: 0, planned, dataPath: j.dataPath }
        j.executions.push(ex)
        return ok(executionView(ex, j), 201, { location: `/project/${pid}/jobs/${d}/executions/${ex.id}` })
      },
    }
  if (f === undefined && m === 'GET')
    return {
      ...base, name: 'listExecutions',
      run: (r) => {
        const j = jobOf(s, pid, d)
        const desc = (r.query.get('sort_by') ?? '').toLowerCase().endsWith(':desc')
        const all = [...j.executions].sort((x, y) => (desc ? -1 : 1) * (x.id - y.id))
        const offset = Number(r.query.get('offset') ?? 0)
        const limit = Number(r.query.get('limit') ?? all.length)
        return ok({ count: all.length, items: all.slice(offset, offset + limit).map((x) => executionView(x, j)), href: `/jobs/${d}/executions` })
      },
    }
  if (f !== undefined && g1 === undefined && m === 'GET')
    return {
      ...base, name: 'getExecution',
      run: () => {
        const j = jobOf(s, pid, d)
        const ex = j.executions.find((x) => String(x.id) === f) ?? fail('executionNotFound', f)
        advance(s, j, ex, behaviour)
        return ok(executionView(ex, j))
      },
    }
  return undefined
}
