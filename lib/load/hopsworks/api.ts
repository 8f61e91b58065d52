/**
 * The Hopsworks endpoints a load uses (../../shared/hopsworks/API.md), typed
 * as narrowly as the load needs and tolerant of everything else a server
 * sends (unknown fields, upper/lower case types, dates as strings or
 * numbers, arrays where an object was expected and the reverse).
 *
 * Creates are never repeated blindly: a create that fails is followed by a
 * read, and only when the read shows nothing was created (and the failure was
 * transient) is the create sent again.
 */
import { EtlError } from '../../errors.ts'
import type { FeatureGroupDto } from '../feature-group.ts'
import { callDetails, isHopsworksError, type HopsworksHttp } from './http.ts'

type Json = Record<string, unknown>

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v)
  return undefined
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
/** A list answer may be an array, `{items: [...]}`, or a single object. */
function list(v: unknown): Json[] {
  if (Array.isArray(v)) return v.map(obj)
  const o = obj(v)
  if (Array.isArray(o['items'])) return (o['items'] as unknown[]).map(obj)
  return Object.keys(o).length && !('count' in o) ? [o] : []
}
function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new EtlError('ETL_HOPSWORKS', `Hopsworks answered without ${what}`)
  return v
}

const FG_EXPAND = { expand: 'features' } as const

export interface Project { readonly id: number; readonly name: string }
export interface FeatureStore { readonly id: number; readonly name: string }
export interface FeatureGroup { readonly id: number; readonly name: string; readonly version: number; readonly raw: Json }
export interface IngestionJob { readonly dataPath: string; readonly jobName: string; readonly jobId?: number }
export interface Execution {
  readonly id: number
  readonly state: string
  readonly finalStatus: string
  readonly progress?: number
  readonly stdoutPath?: string
  readonly stderrPath?: string
}

export function execution(v: unknown): Execution {
  const o = obj(v)
  const progress = num(o['progress'])
  const stdoutPath = str(o['stdoutPath'])
  const stderrPath = str(o['stderrPath'])
  return {
    id: need(num(o['id']), 'an execution id'),
    state: String(o['state'] ?? 'UNKNOWN').toUpperCase(),
    finalStatus: String(o['finalStatus'] ?? 'UNDEFINED').toUpperCase(),
    ...(progress !== undefined ? { progress } : {}),
    ...(stdoutPath ? { stdoutPath } : {}),
    ...(stderrPath ? { stderrPath } : {}),
  }
}

/** `GET project/getProjectInfo/{name}`. A 404 (150004) becomes a clear ETL_HOPSWORKS. */
export async function getProject(http: HopsworksHttp, name: string): Promise<Project> {
  try {
    const { body } = await http.call({ method: 'GET', path: ['project', 'getProjectInfo', name], retry: true })
    const o = obj(body)
    return { id: need(num(o['projectId']), 'a projectId'), name: str(o['projectName']) ?? name }
  } catch (err) {
    if (isHopsworksError(err, [404])) throw new EtlError('ETL_HOPSWORKS', `Hopsworks project ${JSON.stringify(name)} was not found at ${http.config.origin} (HOPSWORKS_PROJECT), or this API key's user is not a member`, { details: callDetails(err) as unknown as Json })
    throw err
  }
}

/** `GET project/{pid}/featurestores/{project lowercased}_featurestore`. */
export async function getFeatureStore(http: HopsworksHttp, project: Project): Promise<FeatureStore> {
  const name = `${project.name.toLowerCase()}_featurestore`
  try {
    const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'featurestores', name], retry: true })
    const o = list(body)[0] ?? {}
    return { id: need(num(o['featurestoreId']), 'a featurestoreId'), name: str(o['featurestoreName']) ?? name }
  } catch (err) {
    if (isHopsworksError(err, [404], [270008])) throw new EtlError('ETL_HOPSWORKS', `project ${project.name} has no feature store ${name}`, { details: callDetails(err) as unknown as Json })
    throw err
  }
}

/**
 * Refuses a load the cluster's upload policy will not accept, before anything
 * is created, as the Python client does (hopsworks-api python/hopsworks_common/
 * core/dataset_api.py `_assert_upload_allowed`): `GET variables/upload_policy`
 * (HW hopsworks-api/.../api/util/VariablesService.java: `{successMessage: value}`,
 * 404 when the cluster has none) is `disabled`, or `admins_only` and the key's
 * user (`GET users/profile`, its `role` groups) is no HOPS_ADMIN. A policy that
 * cannot be read leaves the decision to the upload itself (403 / 110056).
 */
export async function assertUploadAllowed(http: HopsworksHttp): Promise<void> {
  let policy: string
  try {
    const { body } = await http.call({ method: 'GET', path: ['variables', 'upload_policy'], retry: true })
    policy = String(obj(body)['successMessage'] ?? '').trim().toLowerCase()
  } catch (err) {
    if (callDetails(err)) return
    throw err
  }
  const refuse = (who: string): never => {
    throw new EtlError('ETL_HOPSWORKS', `uploading files is ${who} on Hopsworks at ${http.config.origin} (its upload_policy is ${policy}), and a load uploads its data: ask the cluster's administrator. This is not a missing API-key scope. Nothing was created.`, { details: { uploadPolicy: policy } })
  }
  if (policy === 'disabled') refuse('disabled')
  if (policy !== 'admins_only') return
  let admin: boolean
  try {
    const { body } = await http.call({ method: 'GET', path: ['users', 'profile'], retry: true })
    const role = obj(body)['role']
    admin = Array.isArray(role) && role.some((g) => ['HOPS_ADMIN'].includes(String(obj(g)['groupName'] ?? obj(g)['group_name'])))
  } catch (err) {
    if (callDetails(err)) return
    throw err
  }
  if (!admin) refuse('restricted to cluster administrators')
}

function featureGroup(o: Json): FeatureGroup {
  return { id: need(num(o['id']), 'a feature group id'), name: String(o['name']), version: need(num(o['version']), 'a feature group version'), raw: o }
}

/**
 * `GET …/featuregroups/{name}?version=v`; undefined when it does not exist:
 * only the server's own answer (404, or 400 on old releases, with 270009
 * FEATURE_GROUP_NOT_FOUND, HW RESTCodes.java) says so. A bare 404 (a proxy,
 * a wrong base path) is an error: taking it for "absent" would create the
 * group again.
 */
export async function findFeatureGroup(http: HopsworksHttp, project: Project, fs: FeatureStore, name: string, version: number): Promise<FeatureGroup | undefined> {
  try {
    const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups', name], searchParams: { version, ...FG_EXPAND }, retry: true })
    const found = list(body).find((g) => num(g['version']) === version) ?? list(body)[0]
    return found ? featureGroup(found) : undefined
  } catch (err) {
    if (isHopsworksError(err, [404, 400], [270009])) return undefined
    throw err
  }
}

/**
 * Gets the feature group, or creates it. Returns it with `created`. A create
 * that fails (already exists 270089, or no answer) is followed by a read.
 */
export async function getOrCreateFeatureGroup(http: HopsworksHttp, project: Project, fs: FeatureStore, dto: FeatureGroupDto): Promise<FeatureGroup & { readonly created: boolean }> {
  const existing = await findFeatureGroup(http, project, fs, dto.name, dto.version)
  if (existing) return { ...existing, created: false }
  const body = { ...dto, featurestoreId: fs.id }
  return createThenRead<FeatureGroup & { readonly created: boolean }>(
    async () => ({ ...featureGroup(obj((await http.call({ method: 'POST', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups'], json: body, retry: 'unsent' })).body)), created: true }),
    async () => {
      const g = await findFeatureGroup(http, project, fs, dto.name, dto.version)
      return g && { ...g, created: false }
    },
    [270089],
  )
}

/**
 * The create-then-read rule: try `create`; when it fails with an "already
 * exists" code, a 5xx or no answer, `read` (told the failure). Found: return
 * it. Not found after a transient failure: create again (informed by the
 * read), up to 3 times.
 */
export async function createThenRead<T>(create: () => Promise<T>, read: (failure: unknown) => Promise<T | undefined>, existsCodes: readonly number[]): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await create()
    } catch (err) {
      const d = callDetails(err)
      const exists = d?.errorCode !== undefined && existsCodes.includes(d.errorCode)
      const unclear = d?.transient === true || (d?.status !== undefined && d.status >= 500)
      if (!exists && !unclear) throw err
      const found = await read(err)
      if (found !== undefined) return found
      if (exists || !d?.transient || round >= 3) throw err
    }
  }
}

/**
 * `POST …/featuregroups/{id}/ingestion`: a CSV ingestion job (header row) and
 * its data path. Not repeated on an unclear failure (no read can find the job
 * it may have made); repeated only when the request surely did not arrive.
 */
export async function createIngestionJob(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup): Promise<IngestionJob> {
  const conf = {
    dataFormat: 'CSV',
    // header: columns are matched to features by name. escape: RFC 4180 doubles quotes (Spark's default escape is a backslash).
    // multiLine: quoted fields may hold line breaks.
    dataOptions: [{ name: 'header', value: 'true' }, { name: 'escape', value: '"' }, { name: 'multiLine', value: 'true' }],
    writeOptions: [],
    sparkJobConfiguration: null,
  }
  const { body } = await http.call({ method: 'POST', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'ingestion'], json: conf, retry: 'unsent' })
  const o = obj(body)
  const job = obj(o['job'])
  const jobId = num(job['id'])
  return { dataPath: need(str(o['dataPath']), 'an ingestion dataPath'), jobName: need(str(job['name']), 'an ingestion job name'), ...(jobId !== undefined ? { jobId } : {}) }
}

/** `DELETE project/{pid}/dataset/{path}`; a path already gone (404, or 400 110018 / 110008) is fine. */
export async function deleteDatasetPath(http: HopsworksHttp, project: Project, path: string): Promise<void> {
  try {
    await http.call({ method: 'DELETE', path: ['project', project.id, 'dataset', path], retry: true })
  } catch (err) {
    if (isHopsworksError(err, [404]) || isHopsworksError(err, [400], [110018, 110008, 110011])) return
    throw err
  }
}

/** `DELETE project/{pid}/jobs/{name}`; a job already gone is fine. */
export async function deleteJob(http: HopsworksHttp, project: Project, jobName: string): Promise<void> {
  try {
    await http.call({ method: 'DELETE', path: ['project', project.id, 'jobs', jobName], retry: true })
  } catch (err) {
    if (isHopsworksError(err, [404])) return
    throw err
  }
}

/** The latest execution of a job, or undefined. */
export async function latestExecution(http: HopsworksHttp, project: Project, jobName: string): Promise<Execution | undefined> {
  const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'jobs', jobName, 'executions'], searchParams: { offset: 0, limit: 1, sort_by: 'submissiontime:desc' }, retry: true })
  const first = list(body)[0]
  return first && num(first['id']) !== undefined ? execution(first) : undefined
}

/**
 * `POST project/{pid}/jobs/{name}/executions` (text/plain, empty body: the
 * job's default arguments). On an unclear failure, looks for the execution it
 * may have started before starting again: a second start would run the
 * ingestion twice. When no answer came at all (a timeout, a dropped
 * connection, a gateway's 504), the server may still be working on the
 * request, so it looks up to 3 times, one call timeout apart, before
 * concluding that nothing was started. `previous` is the job's latest
 * execution before this start (the server reuses a job of the same name made
 * in the same second, executions included): it never counts as ours.
 */
export async function startExecution(http: HopsworksHttp, project: Project, jobName: string, previous?: number, args = ''): Promise<Execution> {
  return createThenRead(
    async () => execution((await http.call({ method: 'POST', path: ['project', project.id, 'jobs', jobName, 'executions'], body: args, headers: { 'content-type': 'text/plain' }, retry: 'unsent' })).body),
    async (failure) => {
      const d = callDetails(failure)
      const looks = d && (d.status === undefined || d.status === 504) ? 3 : 1
      for (let look = 1; ; look++) {
        const latest = await latestExecution(http, project, jobName)
        const found = latest && latest.id !== previous ? latest : undefined
        if (found || look >= looks) return found
        await http.pause(http.timeoutMs)
      }
    },
    [],
  )
}

/** `GET project/{pid}/jobs/{name}/executions/{id}`. */
export async function getExecution(http: HopsworksHttp, project: Project, jobName: string, id: number): Promise<Execution> {
  const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'jobs', jobName, 'executions', id], retry: true })
  return execution(body)
}

/**
 * The offline materialization job of a stream feature group and its default
 * arguments, as the Python client finds it (hopsworks-api python/hsfs/
 * feature_group.py `materialization_job`: `{name}_{version}_offline_fg_materialization`,
 * else `..._offline_fg_backfill`; `GET project/{pid}/jobs/{name}`, 404 / 130009 when
 * there is none). Undefined when neither exists.
 */
export async function findMaterializationJob(http: HopsworksHttp, project: Project, fg: FeatureGroup): Promise<{ name: string; args: string } | undefined> {
  for (const suffix of ['materialization', 'backfill']) {
    const name = `${fg.name}_${fg.version}_offline_fg_${suffix}`
    try {
      const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'jobs', name], retry: true })
      return { name, args: str(obj(obj(body)['config'])['defaultArgs']) ?? '' }
    } catch (err) {
      if (isHopsworksError(err, [404], [130009])) continue
      throw err
    }
  }
  return undefined
}

/** The next version for a `replace` load: one past the highest stored version of the name, or `fallback` when none exists. */
export async function nextVersion(http: HopsworksHttp, project: Project, fs: FeatureStore, name: string, fallback: number): Promise<number> {
  try {
    const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups', name], retry: true })
    const versions = list(body).map((g) => num(g['version'])).filter((v): v is number => v !== undefined)
    return versions.length ? Math.max(...versions) + 1 : fallback
  } catch (err) {
    if (isHopsworksError(err, [404, 400], [270009])) return fallback
    throw err
  }
}

/** `DELETE project/{pid}/featurestores/{fs}/featuregroups/{id}` (hopsworks-api python/hsfs/core/feature_group_api.py `delete`); gone already is fine. */
export async function deleteFeatureGroup(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup): Promise<void> {
  try {
    await http.call({ method: 'DELETE', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id], retry: true })
  } catch (err) {
    if (isHopsworksError(err, [404, 400], [270009])) return
    throw err
  }
}

/** One commit of a time-travel (HUDI) feature group, as CommitDTO carries it. */
export interface Commit { readonly id: number; readonly time?: number; readonly inserted?: number; readonly updated?: number; readonly deleted?: number }

/**
 * The group's commits, newest first (`GET …/featuregroups/{id}/commits?sort_by=committed_on:desc`,
 * HW hopsworks-api/.../featurestore/commit/CommitResource.java, CommitDTO: commitID, commitTime,
 * rowsInserted, rowsUpdated, rowsDeleted; the Python client's feature_group_api `_get_commit_details`).
 * A group without time travel has none.
 */
export async function commits(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, limit: number): Promise<Commit[]> {
  const { body } = await http.call({ method: 'GET', path: ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'commits'], searchParams: { sort_by: 'committed_on:desc', offset: 0, limit }, retry: true })
  return list(body).flatMap((c) => {
    const id = num(c['commitID'])
    if (id === undefined) return []
    const n = (k: string): number | undefined => num(c[k])
    const time = n('commitTime'), inserted = n('rowsInserted'), updated = n('rowsUpdated'), deleted = n('rowsDeleted')
    return [{ id, ...(time !== undefined ? { time } : {}), ...(inserted !== undefined ? { inserted } : {}), ...(updated !== undefined ? { updated } : {}), ...(deleted !== undefined ? { deleted } : {}) }]
  })
}
