/**
 * After the commit nothing may turn a run into a failure that a caller would retry: what goes wrong then is a
 * warning, kept in the run record (`summary.warnings`, the run stays Completed, exit 0) and said on stderr.
 */
import { EtlError } from '../errors.ts'
import type { Suite } from '../expectations/types.ts'
import type { FlowContext } from '../flow/index.ts'
import type { LoadSummary } from '../load/sink.ts'
import { reconcileLoad } from '../validate/meta-load.ts'

export function warnAfterCommit(ctx: FlowContext, warn: ((m: string) => void) | undefined, message: string): void {
  const summary = ctx.summary as { warnings?: string[] }
  ctx.summarize('warnings', [...(summary.warnings ?? []), message])
  warn?.(`WARNING (the load is committed): ${message}`)
}

/**
 * The post-load meta checks (meta suite, `meta.table: "load"`) over the committed load's figures; recorded as
 * `summary.reconcile`. A failed check throws ETL_RECONCILE: the rows are committed (nothing to roll back), so the
 * message says what does not add up and what to do, and the error is marked not retryable.
 */
export function reconcile(ctx: FlowContext, metaSuite: Suite, load: LoadSummary, loaded: number): void {
  if (!load.report) return
  const result = reconcileLoad(metaSuite, load.report, loaded)
  const failed = result.results.filter((r) => !r.success)
  ctx.summarize('reconcile', { success: result.success, figures: result.meta.figures, checks: result.results.map((r) => ({ id: r.meta['expectation_id'], success: r.success, skipped: r.meta['skipped'] ?? null })) })
  if (!failed.length) return
  const f = result.meta.figures
  const lines = failed.map((r) => `  - ${String(r.meta['label'] ?? r.meta['expectation_id'])} [${String(r.meta['expectation_id'])}]`)
  throw new EtlError(
    'ETL_RECONCILE',
    `the load was committed, but the feature group ${load.featureGroup.name} version ${load.featureGroup.version} does not add up:\n${lines.join('\n')}\n` +
      `  figures: loaded ${f.loaded}, inserted ${f.inserted}, updated ${f.updated}, unchanged ${f.unchanged}, deleted ${f.deleted}, rows before ${f.rows_before}, after ${f.rows_after} (expected ${f.rows_expected})\n` +
      `the rows are in the store and cannot be rolled back. Check it (\`etl store verify\` for the local store), look for key columns that repeat (--key must identify a row), ` +
      'then re-run: with derived ids a re-run merges onto the same rows. Do not retry blindly with --id nanoid, which would append them again.',
    { details: { figures: f, failed: failed.map((r) => r.meta['expectation_id']), retryable: false } },
  )
}
