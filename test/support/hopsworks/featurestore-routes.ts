/**
 * Emulated routes: projects, feature stores, feature groups, feature views,
 * expectation suites, validation reports, commits, variables, the user profile
 * (API.md sections 3, 4, 5, 7). The server sources each follows (HW =
 * logicalclocks/hopsworks, hopsworks-api/src/main/java/io/hops/hopsworks/api/…):
 *
 * | route | HW source |
 * | --- | --- |
 * | getProjectInfo, listProjects | project/ProjectService.java |
 * | getFeatureStore, listFeatureStores | featurestore/FeaturestoreService.java |
 * | createFeatureGroup, getFeatureGroup(ById), listFeatureGroups, deleteFeatureGroup | featurestore/featuregroup/FeaturegroupService.java (codes: hopsworks-rest-utils/…/RESTCodes.java) |
 * | commits | featurestore/commit/CommitResource.java, CommitDTO.java |
 * | createFeatureView, getFeatureView | featurestore/featureview/FeatureViewService.java |
 * | expectationSuite | featurestore/datavalidationv2/suites/ExpectationSuiteResource.java (+ common/…/ExpectationSuiteController, ExpectationController) |
 * | validationReport | featurestore/datavalidationv2/reports/ValidationReportResource.java (+ common/…/ValidationReportController, ValidationResultController) |
 * | getVariable | util/VariablesService.java |
 * | userProfile | user/UsersResource.java |
 */
import type { EmulatorState, Feature, FeatureGroupState, ProjectState } from './state.ts'
import { fail, isJsonObjectText, jsonBody, nonNull, ok, type Reply, type Req } from './wire.ts'

export interface Route {
  readonly name: string
  readonly scope: string
  /** The project the route is under (checked: exists, caller is a member). */
  readonly projectId?: number
  run(req: Req, user: string): Reply | Promise<Reply>
}

const ENTITY_NAME = /^(?=.{1,63}$)([a-z]{1}[a-z0-9_]*)$/
const FS_NAME_PATH = /^[a-z0-9_]*(?=[a-z])[a-z0-9_]+$/
const FG_NAME_PATH = /^[a-zA-Z0-9_]*(?=[a-zA-Z])[a-zA-Z0-9_]+$/
const FG_TYPES = new Set(['cachedFeaturegroupDTO', 'streamFeatureGroupDTO', 'onDemandFeaturegroupDTO'])
const EVENT_TIME_TYPES = new Set(['TIMESTAMP', 'DATE', 'BIGINT'])
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, '.000Z')

export function featureStoreOf(s: EmulatorState, p: ProjectState, idOrName: string): number {
  const id = s.featureStoreId(p)
  if (idOrName === String(id) || idOrName === s.featureStoreName(p)) return id
  if (!/^\d+$/.test(idOrName) && !FS_NAME_PATH.test(idOrName)) fail('notFoundRoute')
  return fail('featureStoreNotFound')
}

function onlineType(type: string): string {
  const t = type.toUpperCase()
  if (['INT', 'TINYINT', 'SMALLINT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DATE', 'TIMESTAMP'].includes(t) || t.startsWith('DECIMAL')) return type.toLowerCase()
  if (t === 'BOOLEAN') return 'tinyint'
  if (t === 'STRING') return 'varchar(100)'
  return 'varbinary(100)'
}

function fgView(s: EmulatorState, p: ProjectState, g: FeatureGroupState): unknown {
  return nonNull({ ...g.dto, featurestoreName: s.featureStoreName(p) })
}

function createFeatureGroup(s: EmulatorState, p: ProjectState, fsId: number, req: Req): Reply {
  const b = jsonBody(req)
  if (!FG_TYPES.has(String(b['type']))) fail('illegalFgType')
  const name = b['name']
  if (typeof name !== 'string' || !ENTITY_NAME.test(name)) fail('illegalEntityName', `Feature group name ${JSON.stringify(name)} must match ${ENTITY_NAME.source}`)
  const same = s.featureGroups.filter((g) => g.featurestoreId === fsId && g.name === name)
  const version = typeof b['version'] === 'number' ? b['version'] : Math.max(0, ...same.map((g) => g.version)) + 1
  if (same.some((g) => g.version === version)) fail('fgExists', `project: ${p.name}, featurestoreId: ${fsId}`)
  if (typeof b['description'] === 'string' && b['description'].length > 256) fail('illegalEntityDescription')
  const raw = Array.isArray(b['features']) ? (b['features'] as Record<string, unknown>[]) : []
  const seen = new Set<string>()
  const features: Feature[] = raw.map((f) => {
    const fname = f['name']
    if (typeof fname !== 'string' || !ENTITY_NAME.test(fname)) fail('illegalFeatureName', `feature ${JSON.stringify(fname)}`)
    if (typeof f['type'] !== 'string' || !f['type']) fail('featureTypeMissing', `feature ${fname}`)
    if (seen.has(fname)) fail('duplicateFeature', fname)
    if (f['defaultValue'] !== undefined && f['defaultValue'] !== null) fail('illegalArgument', `feature ${fname}: default value must be null on create`)
    seen.add(fname)
    return { name: fname, type: f['type'], primary: f['primary'] === true }
  })
  const eventTime = b['eventTime']
  if (typeof eventTime === 'string') {
    const f = features.find((x) => x.name === eventTime)
    if (!f) fail('eventTimeNotFound', eventTime)
    if (!EVENT_TIME_TYPES.has(f.type.toUpperCase())) fail('illegalEventTimeType', `${eventTime} is ${f.type}`)
  }
  const stream = b['type'] === 'streamFeatureGroupDTO'
  const ttf = String(b['timeTravelFormat'] ?? (stream ? 'HUDI' : 'NONE')).toUpperCase()
  if ((ttf === 'HUDI' || stream) && !features.some((f) => f.primary)) fail('primaryKeyRequired')
  const id = s.nextId()
  const dto = {
    ...b, // unknown input fields are ignored by the server; echoing the known ones back
    id, name, version, featurestoreId: fsId, timeTravelFormat: ttf, created: now(),
    creator: { email: 'meb10000@example.com', firstName: 'Emu', lastName: 'Lator' },
    location: `hopsfs://namenode:8020/apps/hive/warehouse/${s.featureStoreName(p)}.db/${name}_${version}`,
    onlineEnabled: b['onlineEnabled'] === true,
    features: raw.map((f, i) => ({ ...f, primary: features[i]!.primary, partition: f['partition'] === true, onlineType: onlineType(features[i]!.type), featureGroupId: id })),
  }
  const g: FeatureGroupState = { id, featurestoreId: fsId, name, version, timeTravelFormat: ttf, features, dto, rows: new Map(), appended: 0, ...(ttf === 'HUDI' ? { commits: [] } : {}), ...(stream ? { stream, kafka: [] } : {}) }
  s.featureGroups.push(g)
  if (stream) {
    // A stream group comes with its offline materialization job (HW hopsworks-common/.../featurestore/app/
    // FsJobManagerController.setupHudiDeltaStreamerJob; the client finds it as `{name}_{version}_offline_fg_materialization`,
    // hopsworks-api python/hsfs/feature_group.py materialization_job).
    const jobName = `${name}_${version}_offline_fg_materialization`
    s.jobs.set(jobName, { id: s.nextId(), name: jobName, projectId: p.id, featureGroupId: id, dataPath: '', kind: 'materialization', conf: { defaultArgs: `-op offline_fg_materialization -path hdfs:///Projects/${p.name}/Resources/jobs/${jobName}/config.json` }, creationTime: now(), executions: [] })
  }
  return ok(fgView(s, p, g), 201, { location: `/featuregroups/${id}` })
}

export function fgById(s: EmulatorState, fsId: number, id: string): FeatureGroupState {
  const g = s.featureGroups.find((x) => x.featurestoreId === fsId && String(x.id) === id)
  return g ?? fail('featureGroupNotFound')
}

function createFeatureView(s: EmulatorState, p: ProjectState, fsId: number, req: Req): Reply {
  const b = jsonBody(req)
  const name = b['name']
  if (typeof name !== 'string' || !ENTITY_NAME.test(name)) fail('illegalEntityName', `Feature view name ${JSON.stringify(name)}`)
  const q = (b['query'] ?? {}) as Record<string, unknown>
  const left = (q['leftFeatureGroup'] ?? {}) as Record<string, unknown>
  const g = fgById(s, fsId, String(left['id']))
  const wanted = Array.isArray(q['leftFeatures']) ? (q['leftFeatures'] as Record<string, unknown>[]).map((f) => String(f['name'])) : []
  for (const f of wanted) if (!g.features.some((x) => x.name === f)) fail('featureNotFound', `${f} in ${g.name}`)
  const versions = [...s.featureViews.values()].filter((v) => v['featurestoreId'] === fsId && v['name'] === name).map((v) => Number(v['version']))
  const version = typeof b['version'] === 'number' ? b['version'] : Math.max(0, ...versions) + 1
  if (versions.includes(version)) fail('fvExists', `${name} version ${version}`)
  const view = {
    id: s.nextId(), name, version, description: b['description'], featurestoreId: fsId, featurestoreName: s.featureStoreName(p), created: now(),
    query: q,
    features: wanted.map((f) => ({ name: f, type: g.features.find((x) => x.name === f)!.type, featuregroup: { id: g.id, name: g.name, version: g.version } })),
  }
  s.featureViews.set(`${fsId}/${name}/${version}`, view)
  return ok(nonNull(view), 201, { location: `/featureview/${name}/version/${version}` })
}

/** FeaturestoreConstants.MAX_CHARACTERS_IN_* (HW hopsworks-common/src/main/java/io/hops/hopsworks/common/featurestore/FeaturestoreConstants.java). */
const MAX = { suiteName: 63, suiteMeta: 1000, expectationType: 150, kwargs: 5000, expectationMeta: 1000, reportMeta: 2000, statistics: 1000, evaluationParameters: 1000 }

function limit(what: string, v: unknown, max: number): void {
  if (typeof v === 'string' && v.length > max) fail('exceedsMaxCharacters', `${what} exceeds the max allowed character length ${max}.`)
}

/**
 * Expectation suites: HW hopsworks-api/.../datavalidationv2/suites/ExpectationSuiteResource.java (3.1+: GET,
 * POST (409 270208 when one is attached), PUT /{id}; branch-3.0: GET and PUT (create or update), no POST: 405),
 * checks of hopsworks-common/.../datavalidationv2/suites/ExpectationSuiteController.verifyExpectationSuite and
 * expectations/ExpectationController.verifyExpectationFields (lengths: 400 270200; kwargs columns that are not
 * features: 400 270210). Each stored expectation gets an id, written into its meta as `expectationId`
 * (ExpectationController.addExpectationIdToMetaField) in every answer.
 */
function suiteRoutes(s: EmulatorState, g: FeatureGroupState, req: Req, rest: readonly string[]): Reply {
  const features = new Set(g.features.map((f) => f.name))
  const checkSuite = (b: Record<string, unknown>): Record<string, unknown> => {
    const name = b['expectationSuiteName']
    if (typeof name !== 'string' || !name) fail('fieldNotNullable', 'Expectation suite name cannot be null or empty.')
    limit('Expectation suite name', name, MAX.suiteName)
    limit('Expectation suite meta', b['meta'], MAX.suiteMeta)
    if (b['meta'] !== undefined && !isJsonObjectText(b['meta'])) fail('fieldNotJson', 'expectation suite meta')
    const exps = Array.isArray(b['expectations']) ? (b['expectations'] as Record<string, unknown>[]) : []
    const previous = new Map(((s.suites.get(g.id)?.['expectations'] ?? []) as Record<string, unknown>[]).map((e) => [e['id'], e]))
    const stored = exps.map((e) => {
      if (typeof e['expectationType'] !== 'string') fail('fieldNotNullable', 'expectationType')
      limit('Expectation Expectation Type', e['expectationType'], MAX.expectationType)
      limit('Expectation Kwargs', e['kwargs'], MAX.kwargs)
      if (!isJsonObjectText(e['kwargs'])) fail('fieldNotJson', 'expectation kwargs')
      limit('Expectation Meta', e['meta'], MAX.expectationMeta)
      if (!isJsonObjectText(e['meta'])) fail('fieldNotJson', 'expectation meta')
      const kwargs = JSON.parse(String(e['kwargs'])) as Record<string, unknown>
      const named = kwargs['column'] !== undefined ? [kwargs['column']] : kwargs['columnA'] !== undefined && kwargs['columnB'] !== undefined ? [kwargs['columnA'], kwargs['columnB']]
        : Array.isArray(kwargs['column_list']) ? kwargs['column_list'] : Array.isArray(kwargs['column_set']) ? kwargs['column_set'] : []
      for (const c of named as unknown[]) if (!features.has(String(c))) fail('featureNameNotFound', `${String(c)} in ${g.name} version ${g.version}`)
      // an existing expectation may be sent with its id (field or meta.expectationId): it keeps it
      const meta = JSON.parse(String(e['meta'])) as Record<string, unknown>
      const given = typeof e['id'] === 'number' ? e['id'] : typeof meta['expectationId'] === 'number' ? meta['expectationId'] : undefined
      const id = given !== undefined && previous.has(given) ? given : s.nextId()
      s.expectationIds.add(id)
      return { ...e, id, meta: JSON.stringify({ ...meta, expectationId: id }) }
    })
    const id = s.suites.get(g.id)?.['id'] ?? s.nextId()
    return { ...b, id, featureGroupId: g.id, expectations: stored }
  }
  if (req.method === 'GET' && rest.length === 0) return ok(nonNull(s.suites.get(g.id) ?? {}))
  if (s.serverVersion === '3.0') {
    if (req.method === 'PUT' && rest.length === 0) {
      const suite = checkSuite(jsonBody(req))
      s.suites.set(g.id, suite)
      return ok(nonNull(suite))
    }
    return fail(rest.length ? 'notFoundRoute' : 'methodNotAllowed')
  }
  if (req.method === 'POST' && rest.length === 0) {
    if (s.suites.has(g.id)) fail('suiteExists')
    const suite = checkSuite(jsonBody(req))
    s.suites.set(g.id, suite)
    return ok(nonNull(suite), 201)
  }
  if (req.method === 'PUT' && rest.length === 1) {
    const suite = checkSuite(jsonBody(req))
    s.suites.set(g.id, suite)
    return ok(nonNull(suite))
  }
  return fail(rest.length === 0 && req.method === 'PUT' ? 'methodNotAllowed' : 'notFoundRoute')
}

/**
 * Validation reports: HW hopsworks-api/.../datavalidationv2/reports/ValidationReportResource.java (PUT creates, 201;
 * GET lists), hopsworks-common/.../reports/ValidationReportController.convertReportDTOToPersistent (field checks and
 * lengths; `meta.validation_time` parsed as yyyyMMdd'T'HHmmss.SSS after dropping its last 4 characters, else "now")
 * and results/ValidationResultController.parseExpectationIdFromResultDTO (since 3.1: every result's
 * expectationConfig.meta.expectationId must be an integer, else 400 270194, naming a stored expectation, else 404 270190).
 */
function reportRoutes(s: EmulatorState, g: FeatureGroupState, req: Req): Reply {
  const list = s.reports.get(g.id) ?? []
  if (req.method === 'GET') {
    const items = [...list].sort((a, b) => b.validationTime.localeCompare(a.validationTime)).map((r) => r.body)
    const limit = Number(req.query.get('limit') ?? items.length)
    return ok(nonNull({ count: items.length, items: items.slice(0, limit) }))
  }
  const b = jsonBody(req)
  for (const [f, max] of [['evaluationParameters', MAX.evaluationParameters], ['meta', MAX.reportMeta], ['statistics', MAX.statistics]] as const) {
    if (b[f] === undefined || b[f] === null) fail('fieldNotNullable', `Validation report ${f} field cannot be null. Pass an empty stringified JSON.`)
    limit(`Validation report ${f}`, b[f], max)
    if (!isJsonObjectText(b[f])) fail('fieldNotJson', `Validation report ${f} field is not a valid json.`)
  }
  const results = Array.isArray(b['results']) ? (b['results'] as Record<string, unknown>[]) : []
  for (const r of results) {
    for (const f of ['expectationConfig', 'result', 'meta', 'exceptionInfo'])
      if (r[f] !== undefined && !isJsonObjectText(r[f])) fail('fieldNotJson', `validation result ${f}`)
    if (s.serverVersion === '3.0') continue
    const config = JSON.parse(String(r['expectationConfig'] ?? '{}')) as Record<string, unknown>
    const meta = config['meta']
    if (!meta || typeof meta !== 'object') fail('fieldNotJson', 'Validation result expectation config meta field is not a valid json.')
    const id = (meta as Record<string, unknown>)['expectationId']
    if (typeof id !== 'number' || !Number.isInteger(id)) fail('keyNotFoundInJson', `Validation result expectation config meta ${JSON.stringify(meta)} does not contain expectationId key or the associated value does not convert to an integer`)
    if (!s.expectationIds.has(id)) fail('expectationNotFound')
  }
  const ingestion = String(b['ingestionResult'] ?? 'UNKNOWN')
  if (!['INGESTED', 'REJECTED', 'UNKNOWN', 'EXPERIMENT', 'FG_DATA'].includes(ingestion)) fail('illegalArgument', `ingestionResult ${ingestion}`)
  const meta = JSON.parse(String(b['meta'])) as Record<string, unknown>
  const vt = typeof meta['validation_time'] === 'string' ? meta['validation_time'].slice(0, -4) : ''
  const validationTime = /^\d{8}T\d{6}\.\d{3}$/.test(vt)
    ? `${vt.slice(0, 4)}-${vt.slice(4, 6)}-${vt.slice(6, 8)}T${vt.slice(9, 11)}:${vt.slice(11, 13)}:${vt.slice(13, 15)}.${vt.slice(16, 19)}Z`
    : new Date().toISOString()
  const report = { id: s.nextId(), featurestoreId: g.featurestoreId, featuregroupId: g.id, validationTime, ...b, ingestionResult: ingestion }
  list.push({ id: report.id, validationTime, body: report })
  s.reports.set(g.id, list)
  return ok(nonNull(report), 201)
}

/** Matches the feature store routes; undefined when none does. */
export function matchFeatureStore(s: EmulatorState, req: Req): Route | undefined {
  const [a, b, c, d, e, f, g1, ...rest] = req.segs
  const m = req.method
  // HW hopsworks-api/.../api/util/VariablesService.java getVar: {successMessage: value}; 404 100050 when absent.
  if (a === 'variables' && b !== undefined && c === undefined && m === 'GET')
    return { name: 'getVariable', scope: 'PROJECT', run: () => ok({ successMessage: s.variables.get(b) ?? fail('variableNotFound', b) }) }
  // HW hopsworks-api/.../api/user/UsersResource.java getUserProfile (UserProfileDTO: `role` as BbcGroup objects).
  if (a === 'users' && b === 'profile' && c === undefined && m === 'GET')
    return { name: 'userProfile', scope: 'USER', run: (_r, user) => ok({ username: user, role: [{ groupName: 'HOPS_USER' }, ...(s.admins.has(user) ? [{ groupName: 'HOPS_ADMIN' }] : [])] }) }
  if (a !== 'project') return undefined
  if (b === 'getProjectInfo' && c !== undefined && d === undefined && m === 'GET')
    return {
      name: 'getProjectInfo', scope: 'PROJECT',
      run: () => {
        const p = s.projects.find((x) => x.name === c) ?? fail('projectNotFound')
        return ok(nonNull({ projectId: p.id, projectName: p.name, owner: 'meb10000', description: '', created: now(), isPreinstalledDockerImage: true, services: ['JOBS', 'FEATURESTORE'] }))
      },
    }
  if (b === undefined && m === 'GET') return { name: 'listProjects', scope: 'PROJECT', run: () => ok(s.projects.map((p) => ({ project: { id: p.id, name: p.name, owner: { uid: 10000 } }, user: { username: 'meb10000', uid: 10000 } }))) }
  if (b === undefined || !/^\d+$/.test(b) || c !== 'featurestores') return undefined
  const pid = Number(b)
  const project = (): ProjectState => s.project(pid) ?? fail('projectNotFound')
  const fs = (): number => featureStoreOf(s, project(), d!)
  const base = { scope: 'FEATURESTORE', projectId: pid }
  if (d === undefined && m === 'GET')
    return { ...base, name: 'listFeatureStores', run: () => ok([{ featurestoreId: s.featureStoreId(project()), featurestoreName: s.featureStoreName(project()), projectId: pid, projectName: project().name }]) }
  if (e === undefined && m === 'GET')
    return { ...base, name: 'getFeatureStore', run: () => ok(nonNull({ featurestoreId: fs(), featurestoreName: s.featureStoreName(project()), projectId: pid, projectName: project().name, onlineFeaturestoreName: project().name.toLowerCase(), onlineEnabled: false, created: now() })) }
  if (e === 'featuregroups') {
    if (f === undefined && m === 'POST') return { ...base, name: 'createFeatureGroup', run: (r) => createFeatureGroup(s, project(), fs(), r) }
    if (f === undefined && m === 'GET') return { ...base, name: 'listFeatureGroups', run: () => { const gs = s.featureGroups.filter((x) => x.featurestoreId === fs()).map((x) => fgView(s, project(), x)); return ok({ items: gs, count: gs.length }) } }
    if (f !== undefined && g1 === undefined && m === 'GET') {
      if (/^\d+$/.test(f)) return { ...base, name: 'getFeatureGroupById', run: () => ok(fgView(s, project(), fgById(s, fs(), f))) }
      return {
        ...base, name: 'getFeatureGroup',
        run: (r) => {
          if (!FG_NAME_PATH.test(f)) fail('notFoundRoute')
          const v = r.query.get('version')
          const gs = s.featureGroups.filter((x) => x.featurestoreId === fs() && x.name === f && (v === null || String(x.version) === v))
          if (!gs.length) fail('featureGroupNotFound', `${f} version ${v ?? 'any'}`)
          return ok(gs.map((x) => fgView(s, project(), x)))
        },
      }
    }
    // HW hopsworks-api/.../featurestore/commit/CommitResource.java getFeatureGroupCommit (CommitDTO list, sort_by committed_on).
    if (f !== undefined && g1 === 'commits' && rest.length === 0 && m === 'GET')
      return {
        ...base, name: 'commits',
        run: (r) => {
          const g = fgById(s, fs(), f)
          const all = [...(g.commits ?? [])].reverse()
          const offset = Number(r.query.get('offset') ?? 0)
          const limit = Number(r.query.get('limit') ?? all.length)
          return ok({ count: all.length, items: all.slice(offset, offset + limit) })
        },
      }
    // hopsworks-api python/hsfs/core/feature_group_api.py delete: DELETE …/featuregroups/{id}, 200.
    if (f !== undefined && /^\d+$/.test(f) && g1 === undefined && m === 'DELETE')
      return {
        ...base, name: 'deleteFeatureGroup',
        run: () => {
          const g = fgById(s, fs(), f)
          s.featureGroups.splice(s.featureGroups.indexOf(g), 1)
          return { status: 200 }
        },
      }
    if (f !== undefined && g1 === 'expectationsuite') return { ...base, scope: 'JOB', name: 'expectationSuite', run: (r) => suiteRoutes(s, fgById(s, fs(), f), r, rest) }
    if (f !== undefined && g1 === 'validationreport' && rest.length === 0 && (m === 'PUT' || m === 'GET')) return { ...base, scope: 'JOB', name: 'validationReport', run: (r) => reportRoutes(s, fgById(s, fs(), f), r) }
  }
  if (e === 'featureview') {
    if (f === undefined && m === 'POST') return { ...base, name: 'createFeatureView', run: (r) => createFeatureView(s, project(), fs(), r) }
    if (f !== undefined && m === 'GET' && (g1 === undefined || (g1 === 'version' && rest.length === 1)))
      return {
        ...base, name: 'getFeatureView',
        run: () => {
          const views = [...s.featureViews.values()].filter((v) => v['featurestoreId'] === fs() && v['name'] === f && (g1 === undefined || String(v['version']) === rest[0]))
          if (!views.length) fail('fvNotFound', `${f}`)
          return ok(nonNull(g1 === undefined ? { items: views, count: views.length } : views[0]))
        },
      }
  }
  return undefined
}
