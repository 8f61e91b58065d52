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
 *   `PUT …/expectationsuite/{suiteId}` (200).
 * - report: `PUT …/featuregroups/{id}/validationreport` (200).
 *
 * Input is Great Expectations' JSON (0.x snake_case; 1.x `type`/`name` are
 * accepted too), as lib/validate writes it.
 */
import type { Project, FeatureStore, FeatureGroup } from './api.ts'
import { createThenRead } from './api.ts'
import type { HopsworksHttp } from './http.ts'

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

function expectationType(e: GeExpectationConfig): string {
  return e.expectation_type ?? e.type ?? 'unknown'
}

function legacyConfig(e: GeExpectationConfig): Json {
  return { expectation_type: expectationType(e), kwargs: e.kwargs ?? {}, meta: e.meta ?? {} }
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

/** GE's own time stamp format, which the server parses from `meta.validation_time`: `20240102T030405.123456Z`. */
export function geValidationTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** The report as Hopsworks stores it. */
export function reportDto(report: GeValidationResult, ingestionResult: string, now = new Date()): Json {
  const meta: Json = { ...report.meta }
  if (typeof meta['validation_time'] !== 'string') meta['validation_time'] = geValidationTime(now)
  return {
    success: report.success,
    evaluationParameters: JSON.stringify(report.evaluation_parameters ?? report.suite_parameters ?? {}),
    statistics: JSON.stringify(report.statistics ?? {}),
    results: report.results.map((r) => ({
      success: r.success,
      exceptionInfo: JSON.stringify(r.exception_info ?? { raised_exception: false, exception_message: null, exception_traceback: null }),
      expectationConfig: JSON.stringify(legacyConfig(r.expectation_config)),
      result: JSON.stringify(r.result ?? {}),
      meta: JSON.stringify(r.meta ?? {}),
    })),
    meta: JSON.stringify(meta),
    ingestionResult,
  }
}

function idOf(body: unknown): number | undefined {
  const o = body && typeof body === 'object' ? (body as Json) : {}
  const items = Array.isArray(o['items']) ? (o['items'] as Json[]) : undefined
  const id = (items ? items[0]?.['id'] : o['id'])
  return typeof id === 'number' ? id : undefined
}

/** Attaches (or replaces) the expectation suite. Resolves to its id when the server tells it. */
export async function attachSuite(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, suite: GeExpectationSuite, runValidation = false): Promise<number | undefined> {
  const path = ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'expectationsuite']
  const body = suiteDto(suite, fs, fg, runValidation)
  return createThenRead(
    async () => idOf((await http.call({ method: 'POST', path, json: body, retry: 'unsent' })).body),
    async () => {
      const current = idOf((await http.call({ method: 'GET', path, retry: true })).body)
      if (current === undefined) return undefined
      const { body: updated } = await http.call({ method: 'PUT', path: [...path, current], json: { ...body, id: current }, retry: true })
      return idOf(updated) ?? current
    },
    [270208],
  )
}

/**
 * Attaches a validation report. A PUT that got no clear answer is followed by
 * a read of the latest report: when its `meta` is ours, it arrived.
 */
export async function attachReport(http: HopsworksHttp, project: Project, fs: FeatureStore, fg: FeatureGroup, report: GeValidationResult, ingestionResult = 'INGESTED'): Promise<number | undefined> {
  const path = ['project', project.id, 'featurestores', fs.id, 'featuregroups', fg.id, 'validationreport']
  const body = reportDto(report, ingestionResult)
  return createThenRead(
    async () => idOf((await http.call({ method: 'PUT', path, json: body, retry: 'unsent' })).body),
    async () => {
      const { body: latest } = await http.call({ method: 'GET', path, searchParams: { sort_by: 'validation_time:desc', offset: 0, limit: 1, fields: 'content' }, retry: true })
      const o = latest && typeof latest === 'object' ? (latest as Json) : {}
      const first = Array.isArray(o['items']) ? (o['items'] as Json[])[0] : o
      return first && first['meta'] === body['meta'] ? idOf(first) ?? 0 : undefined
    },
    [],
  )
}
