/**
 * The quality gate: a run loads only when its data passed validation and the
 * validation itself passed meta-validation (or the policy is `warn`).
 */
import type { SuiteResult } from '../expectations/types.ts'

export interface GateDecision {
  readonly passed: boolean
  /** Ids (or labels) of the failed expectations, data first, then meta (prefixed `meta:`). */
  readonly failed: readonly string[]
}

function failedIds(result: SuiteResult, prefix = ''): string[] {
  return result.results.filter((r) => !r.success).map((r) => prefix + String(r.meta['expectation_id'] ?? r.meta['label'] ?? r.expectation_config.expectation_type))
}

export function decideGate(validation: SuiteResult, meta: SuiteResult): GateDecision {
  const failed = [...failedIds(validation), ...failedIds(meta, 'meta:')]
  return { passed: validation.success && meta.success, failed }
}

/** The failed expectations and meta checks, as lines a person reads. */
export { gateReport } from '../validate/meta.ts'
