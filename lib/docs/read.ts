/**
 * Reading a run record's free-form `summary` for the docs. Records come from
 * disk and may be from a run that failed early, a single-stage pipeline, or an
 * older version: every part is checked before it is used, and a part that
 * does not have the expected shape is left out (the page then says the stage
 * did not report) rather than breaking the page.
 */
import type { ExpectationResult, SuiteResult } from '../expectations/types.ts'
import type { LoadSummary } from '../load/sink.ts'
import type {
  ExtractStageSummary, PartitionsStageSummary, GateSummary, RunSummary, StageCountsSummary, TransformStageSummary, ValidationStageSummary,
} from '../pipelines/summary.ts'

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function isExpectationResult(value: unknown): value is ExpectationResult {
  return isObject(value) && typeof value['success'] === 'boolean' && isObject(value['expectation_config'])
}

/** A suite result whose `results` entries have at least `success` and `expectation_config`; others dropped. */
export function suiteResult(value: unknown): SuiteResult | undefined {
  if (!isObject(value) || !Array.isArray(value['results'])) return undefined
  const results = value['results'].filter(isExpectationResult).map((r) => ({
    ...r,
    result: isObject(r.result) ? r.result : {},
    meta: isObject(r.meta) ? r.meta : {},
    exception_info: isObject(r.exception_info) ? r.exception_info : { raised_exception: false, exception_traceback: null, exception_message: null },
    expectation_config: { ...r.expectation_config, kwargs: isObject(r.expectation_config.kwargs) ? r.expectation_config.kwargs : {} },
  }))
  const meta = isObject(value['meta']) ? value['meta'] : {}
  return {
    success: value['success'] === true,
    results,
    statistics: isObject(value['statistics']) ? (value['statistics'] as unknown as SuiteResult['statistics']) : statisticsOf(results),
    evaluation_parameters: isObject(value['evaluation_parameters']) ? value['evaluation_parameters'] : {},
    meta: { ...meta, expectation_suite_name: str(meta['expectation_suite_name']) ?? '', great_expectations_version: str(meta['great_expectations_version']) ?? '', row_count: num(meta['row_count']) ?? 0 },
  }
}

function statisticsOf(results: readonly ExpectationResult[]): SuiteResult['statistics'] {
  const ok = results.filter((r) => r.success).length
  return { evaluated_expectations: results.length, successful_expectations: ok, unsuccessful_expectations: results.length - ok, success_percent: results.length ? (ok / results.length) * 100 : null }
}

function validation(value: unknown): ValidationStageSummary | undefined {
  if (!isObject(value)) return undefined
  const result = suiteResult(value['result'])
  if (!result) return undefined
  return { ...(value as unknown as ValidationStageSummary), success: value['success'] === true, result, statistics: isObject(value['statistics']) ? (value['statistics'] as unknown as SuiteResult['statistics']) : result.statistics }
}

function columnsOk(value: unknown): boolean {
  return Array.isArray(value) && value.every((c) => isObject(c) && typeof c['name'] === 'string')
}

/** The parts of `record.summary` that have the shape the docs need. */
export function readSummary(summary: unknown): RunSummary {
  if (!isObject(summary)) return {}
  const out: RunSummary = {}
  const { extract, transform, counts, gate, load, partitions } = summary
  if (isObject(partitions) && Array.isArray(partitions['ranges']))
    out.partitions = { ...(partitions as unknown as PartitionsStageSummary), ranges: (partitions['ranges'] as unknown[]).filter(isObject) as unknown as PartitionsStageSummary['ranges'] }
  if (isObject(extract)) out.extract = { ...(extract as unknown as ExtractStageSummary), columns: columnsOk(extract['columns']) ? (extract['columns'] as ExtractStageSummary['columns']) : [] }
  const v = validation(summary['validation'])
  if (v) out.validation = v
  const m = validation(summary['meta'])
  if (m) out.meta = m
  if (isObject(transform)) out.transform = transform as unknown as TransformStageSummary
  if (isObject(counts)) out.counts = counts as StageCountsSummary
  if (isObject(gate) && typeof gate['passed'] === 'boolean') out.gate = { ...(gate as unknown as GateSummary), failed: Array.isArray(gate['failed']) ? (gate['failed'] as string[]) : [] }
  if (isObject(load) && isObject(load['featureGroup'])) out.load = load as unknown as LoadSummary & { readonly durationMs: number }
  return out
}
