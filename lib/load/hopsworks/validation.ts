/**
 * The expectation suite and the validation report attached to a feature
 * group, in the shapes the Hopsworks Python client sends (hopsworks-api
 * `hsfs/expectation_suite.py`, `ge_expectation.py`, `validation_report.py`,
 * `ge_validation_result.py`: their `to_dict`): nested JSON values travel as
 * JSON *strings* (`kwargs`, `meta`, `statistics`, `evaluationParameters`,
 * `result`, `exceptionInfo`, `expectationConfig`).
 *
 * - suite: `POST …/featuregroups/{id}/expectationsuite` (201); when one is
 *   attached already (409 / 270208) it is replaced with
 *   `PUT …/expectationsuite/{suiteId}` (200). Hopsworks 3.0 has no POST there
 *   (JAX-RS answers 405): it stores and replaces with `PUT …/expectationsuite`
 *   (HW branch-3.0 api/featurestore/datavalidationv2/suites/ExpectationSuiteResource.java).
 *   The answer carries each stored expectation's id in its `meta`
 *   (`expectationId`, ExpectationController.addExpectationIdToMetaField).
 * - report: `PUT …/featuregroups/{id}/validationreport` (201). Every result's
 *   `expectationConfig.meta.expectationId` must name a stored expectation
 *   (else 400 / 270194, or 404 / 270190: common/featurestore/datavalidationv2/
 *   results/ValidationResultController.parseExpectationIdFromResultDTO), so a
 *   report is sent only after its suite was stored, with our ids mapped to the
 *   server's. `meta.validation_time` is parsed as `yyyyMMdd'T'HHmmss.SSS`
 *   after dropping its last 4 characters (ValidationReportController.
 *   convertReportDTOToPersistent); anything else is silently replaced by "now",
 *   so it is always sent in GE's own format.
 * - limits (common/featurestore/FeaturestoreConstants.java, checked by
 *   ExpectationSuiteController / ExpectationController / ValidationReportController,
 *   400 / 270200 when exceeded): checked here before anything is sent.
 *
 * Input is Great Expectations' JSON (0.x snake_case; 1.x `type`/`name` are
 * accepted too), as lib/validate writes it.
 */
import type { Project, FeatureStore, FeatureGroup } from './api.ts'
import { createThenRead } from './api.ts'
import { EtlError } from '../../errors.ts'
import { isHopsworksError, type HopsworksHttp } from './http.ts'

type Json = Record<string, unknown>

export interface GeExpectationConfig {
  readonly expectation_type?: string
  /** GE 1.x */
  readonly type?: string
  readonly kwargs?: Readonly<Json>
  readonly meta?: Readonly<Json>
}

export interface GeExpectationSuite {
  readonly expectation_suite_name?: string
  /** GE 1.x */
  readonly name?: string
  readonly expectations: readonly GeExpectationConfig[]
  readonly meta?: Readonly<Json>
  readonly data_asset_type?: string | null
  readonly ge_cloud_id?: string | null
}

export interface GeExpectationResult {
  readonly success: boolean
  readonly expectation_config: GeExpectationConfig
  readonly result?: Readonly<Json>
  readonly meta?: Readonly<Json>
  readonly exception_info?: Readonly<Json>
}

export interface GeValidationResult {
  readonly success: boolean
  readonly results: readonly GeExpectationResult[]
  readonly statistics?: Readonly<Json>
  readonly meta?: Readonly<Json>
  readonly evaluation_parameters?: Readonly<Json>
  /** GE 1.x */
  readonly suite_parameters?: Readonly<Json>
}

/** What a load attaches to its feature group; both parts optional. */
export interface ValidationAttachment {
  readonly suite?: GeExpectationSuite
  readonly report?: GeValidationResult
  /** Report field `ingestionResult`. Default 'INGESTED' (the data was loaded). */
  readonly ingestionResult?: 'INGESTED' | 'REJECTED' | 'UNKNOWN' | 'EXPERIMENT' | 'FG_DATA'
  /** Suite field `runValidation`: whether Hopsworks' own clients validate inserts with it. Default false (this tool validates). */
  readonly runValidation?: boolean
}

export function expectationType(e: GeExpectationConfig): string {
  return e.expectation_type ?? e.type ?? 'unknown'
}

/** The server's limits on the stored suite and report (FeaturestoreConstants.MAX_CHARACTERS_IN_*). */
export const LIMITS = {
  suiteName: 63,
  suiteMeta: 1000,
  geCloudId: 200,
  dataAssetType: 50,
  expectationType: 150,
  expectationKwargs: 5000,
  expectationMeta: 1000,
  reportMeta: 2000,
  reportStatistics: 1000,
  reportEvaluationParameters: 1000,
} as const

function tooLong(what: string, text: string, limit: number): EtlError {
  return new EtlError('ETL_HOPSWORKS', `Hopsworks stores at most ${limit} characters in ${what}; this one has ${text.length}: shorten it (nothing was sent)`, { details: { limit, length: text.length, field: what } })
}

/** The columns an expectation's kwargs name (the keys the server checks: ExpectationController.verifyKwargsColumnExistence). */
function kwargsColumns(kwargs: Readonly<Json>): string[] {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
  if (kwargs['column'] !== undefined) return [String(kwargs['column'])]
  if (kwargs['columnA'] !== undefined && kwargs['columnB'] !== undefined) return [String(kwargs['columnA']), String(kwargs['columnB'])]
  if (kwargs['column_list'] !== undefined) return strings(kwargs['column_list'])
  if (kwargs['column_set'] !== undefined) return strings(kwargs['column_set'])
  return []
}

/** The suite as Hopsworks stores it. */
export function suiteDto(suite: GeExpectationSuite, fs: FeatureStore, fg: FeatureGroup, runValidation = false): Json {
  return {
    featureStoreId: fs.id,
    featureGroupId: fg.id,
    expectationSuiteName: suite.expectation_suite_name ?? suite.name ?? `${fg.name}_suite`,
    expectations: suite.expectations.map((e) => ({ expectationType: expectationType(e), kwargs: JSON.stringify(e.kwargs ?? {}), meta: JSON.stringify(e.meta ?? {}) })),
    meta: JSON.stringify(suite.meta ?? {}),
    geCloudId: suite.ge_cloud_id ?? null,
    dataAssetType: suite.data_asset_type ?? null,
    runValidation,
    validationIngestionPolicy: 'ALWAYS',
  }
}

/**
 * Checks a suite against the server's limits and the feature group's features
 * before it is sent. Throws ETL_HOPSWORKS naming the limit.
 */
export function checkSuite(dto: Json, features: readonly string[]): void {
  const name = String(dto['expectationSuiteName'])
  if (name.length > LIMITS.suiteName) throw tooLong(`an expectation suite name (${JSON.stringify(name.slice(0, 40))}...)`, name, LIMITS.suiteName)
  if (String(dto['meta']).length > LIMITS.suiteMeta) throw tooLong('the expectation suite meta', String(dto['meta']), LIMITS.suiteMeta)
  if (typeof dto['geCloudId'] === 'string' && dto['geCloudId'].length > LIMITS.geCloudId) throw tooLong('ge_cloud_id', dto['geCloudId'], LIMITS.geCloudId)
  if (typeof dto['dataAssetType'] === 'string' && dto['dataAssetType'].length > LIMITS.dataAssetType) throw tooLong('data_asset_type', dto['dataAssetType'], LIMITS.dataAssetType)
  const known = new Set(features)
  ;(dto['expectations'] as Json[]).forEach((e, i) => {
    const type = String(e['expectationType'])
    const what = `expectation #${i} (${type})`
    if (type.length > LIMITS.expectationType) throw tooLong(`the type of ${what}`, type, LIMITS.expectationType)
    if (String(e['kwargs']).length > LIMITS.expectationKwargs) throw tooLong(`the kwargs of ${what}`, String(e['kwargs']), LIMITS.expectationKwargs)
    if (String(e['meta']).length > LIMITS.expectationMeta) throw tooLong(`the meta of ${what}`, String(e['meta']), LIMITS.expectationMeta)
    for (const c of kwargsColumns(JSON.parse(String(e['kwargs'])) as Json))
      if (!known.has(c)) throw new EtlError('ETL_HOPSWORKS', `${what} names column ${JSON.stringify(c)}, which is not a feature of the feature group (${features.join(', ')}); Hopsworks refuses such a suite (400 / 270210)`, { details: { column: c, expectation: i } })
  })
}

/**
 * GE's own time stamp format, which the server parses from `meta.validation_time`:
 * `20240102T030405.123456Z` (microseconds; the server drops the last 4 characters).
 */
export function geValidationTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** A validation time as GE writes it: kept when already in GE's format, converted from ISO text, else `now`. */
function toGeTime(v: unknown, now: Date): string {
  if (typeof v === 'string' && /^\d{8}T\d{6}\.\d{6}Z$/.test(v)) return v
  const t = typeof v === 'string' ? Date.parse(v) : NaN
  return geValidationTime(Number.isNaN(t) ? now : new Date(t))
}

/** The suite as the server answered it: its id and our expectation ids mapped to the server's. */
export interface StoredSuite {
  readonly id: number | undefined
  /** The server's expectation id for each of ours (by `meta.expectation_id`, else by type and kwargs). */
  readonly expectationIds: ReadonlyMap<string, number>
}

function parseJson(v: unknown): Json {
  if (v && typeof v === 'object') return v as Json
  if (typeof v !== 'string') return {}
  try {
    const x: unknown = JSON.parse(v)
    return x && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : {}
  } catch {
    return {}
  }
}

/** The key by which a result finds its expectation: our id when the suite has one, else type and kwargs. */
function expectationKey(type: string, kwargs: unknown, meta: Json): string {
  const ours = meta['expectation_id']
  return ours !== undefined && ours !== null ? `id:${String(ours)}` : `tk:${type}:${JSON.stringify(parseJson(kwargs))}`
}

/** Reads a stored suite (the answer of POST/PUT/GET): the server's id of each expectation. */
export function storedSuite(body: unknown): StoredSuite {
  const o = body && typeof body === 'object' ? (body as Json) : {}
  const suite = Array.isArray(o['items']) ? ((o['items'] as Json[])[0] ?? {}) : o
  const ids = new Map<string, number>()
  const dup = new Set<string>()
  for (const e of Array.isArray(suite['expectations']) ? (suite['expectations'] as Json[]) : []) {
    const meta = parseJson(e['meta'])
    const id = typeof meta['expectationId'] === 'number' ? meta['expectationId'] : typeof e['id'] === 'number' ? e['id'] : undefined
    if (id === undefined) continue
    const key = expectationKey(String(e['expectationType']), e['kwargs'], meta)
    if (ids.has(key)) dup.add(key)
    ids.set(key, id)
  }
  for (const k of dup) ids.delete(k) // two expectations alike: no result can be told which it is
  return { id: typeof suite['id'] === 'number' ? suite['id'] : undefined, expectationIds: ids }
}

/**
 * The report as Hopsworks stores it, each result naming the server's id of its
 * expectation. Throws ETL_HOPSWORKS when a result's expectation is not in the
 * stored suite, or a field is over the server's limit.
 */
export function reportDto(report: GeValidationResult, ingestionResult: string, stored: StoredSuite, now = new Date()): Json {
  const meta: Json = { ...report.meta }
  meta['validation_time'] = toGeTime(meta['validation_time'], now)
  const results = report.results.map((r, i) => {
    const config = r.expectation_config
    const type = expectationType(config)
    const id = stored.expectationIds.get(expectationKey(type, config.kwargs ?? {}, config.meta ?? {}))
    if (id === undefined) throw new EtlError('ETL_HOPSWORKS', `result #${i} (${type}) has no expectation in the suite Hopsworks stored, so the server would refuse the report (400 / 270194)`, { details: { result: i } })
    return {
      success: r.success,
      exceptionInfo: JSON.stringify(r.exception_info ?? { raised_exception: false, exception_message: null, exception_traceback: null }),
      expectationConfig: JSON.stringify({ expectation_type: type, kwargs: config.kwargs ?? {}, meta: { ...config.meta, expectationId: id } }),
      result: JSON.stringify(r.result ?? {}),
      meta: JSON.stringify(r.meta ?? {}),
    }
  })
  const dto = {
    success: report.success,
    evaluationParameters: JSON.stringify(report.evaluation_parameters ?? report.suite_parameters ?? {}),
    statistics: JSON.stringify(report.statistics ?? {}),
    results,
    meta: JSON.stringify(meta),
    ingestionResult,
  }
  if (dto.meta.length > LIMITS.reportMeta) throw tooLong('the validation report meta', dto.meta, LIMITS.reportMeta)
  if (dto.statistics.length > LIMITS.reportStatistics) throw tooLong('the validation report statistics', dto.statistics, LIMITS.reportStatistics)
  if (dto.evaluationParameters.length > LIMITS.reportEvaluationParameters) throw tooLong('the validation report evaluation parameters', dto.evaluationParameters, LIMITS.reportEvaluationParameters)
  return dto
}

/** Checks a report against the server's limits before anything is sent (ids are filled in after the suite is stored). */
export function checkReport(report: GeValidationResult): void {
  const any: StoredSuite = { id: undefined, expectationIds: { get: () => 0 } as unknown as ReadonlyMap<string, number> }
  reportDto(report, 'INGESTED', any)
}

function idOf(body: unknown): number | undefined {
  const o = body && typeof body === 'object' ? (body as Json) : {}
  const items = Array.isArray(o['items']) ? (o['items'] as Json[]) : undefined
  const id = (items ? items[0]?.['id'] : o['id'])
  return typeof id === 'number' ? id : undefined
}

/**
 * Attaches (or replaces) the expectation suite. Resolves to what the server
 * stored (its id and the ids of its expectations). `dto` from suiteDto,
 * checked with checkSuite.
 */
export async function attachSuite(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, dto: Json): Promise<StoredSuite> {
  const path = ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'expectationsuite']
  // Hopsworks 3.0: PUT on the suite path stores or replaces (no POST: 405).
  const put30 = async (): Promise<StoredSuite> => storedSuite((await http.call({ method: 'PUT', path, json: dto, retry: true })).body)
  const stored = await createThenRead<StoredSuite | 'v3.0'>(
    async () => {
      try {
        return storedSuite((await http.call({ method: 'POST', path, json: dto, retry: 'unsent' })).body)
      } catch (err) {
        if (isHopsworksError(err, [405])) return 'v3.0'
        throw err
      }
    },
    async () => {
      const current = idOf((await http.call({ method: 'GET', path, retry: true })).body)
      if (current === undefined) return undefined
      return storedSuite((await http.call({ method: 'PUT', path: [...path, current], json: { ...dto, id: current }, retry: true })).body)
    },
    [270208],
  )
  return stored === 'v3.0' ? put30() : stored
}

/**
 * Attaches a validation report (`dto` from reportDto). A PUT that got no clear
 * answer is followed by a read of the latest report: when its `meta` is ours, it arrived.
 */
export async function attachReport(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, dto: Json): Promise<number | undefined> {
  const path = ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'validationreport']
  return createThenRead(
    async () => idOf((await http.call({ method: 'PUT', path, json: dto, retry: 'unsent' })).body),
    async () => {
      const { body: latest } = await http.call({ method: 'GET', path, searchParams: { sort_by: 'validation_time:desc', offset: 0, limit: 1, fields: 'content' }, retry: true })
      const o = latest && typeof latest === 'object' ? (latest as Json) : {}
      const first = Array.isArray(o['items']) ? (o['items'] as Json[])[0] : o
      return first && first['meta'] === dto['meta'] ? idOf(first) ?? 0 : undefined
    },
    [],
  )
}
