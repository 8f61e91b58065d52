/**
 * Post-load meta checks: the meta suite's expectations with `meta.table: "load"` run after the commit over one
 * row of the store's figures (LoadReport), so that every load says the store adds up:
 *
 *     loaded      rows the load sent          rows_before, rows_after   the group's rows around the commit
 *     inserted, updated, unchanged, deleted   what the store did        rows_expected = rows_before + inserted - deleted
 *     accounted = inserted + updated + unchanged   (each sent row landed under a key of its own)
 *
 * A figure the store cannot tell (null: a Hopsworks server that does not report it) makes the checks that read
 * it skipped (`meta.skipped`, "the store does not tell"), never a guess. The result is GE's suite result shape.
 */
import { compile, suiteStatistics } from '../expectations/engine.ts'
import type { ExpectationResult, Suite, SuiteResult } from '../expectations/types.ts'
import type { LoadReport } from '../load/sink.ts'
import type { Column, Row } from '../types.ts'
import { skippedResult, tableOf } from './meta-run.ts'


export const LOAD_NAMES = Object.freeze(['loaded', 'inserted', 'updated', 'unchanged', 'deleted', 'rows_before', 'rows_after', 'rows_expected', 'accounted'] as const)
export const LOAD_COLUMNS: readonly Column[] = Object.freeze(LOAD_NAMES.map((name) => Object.freeze({ name, type: 'int8' })))

const sum = (...xs: (number | null)[]) => (xs.every((x) => typeof x === 'number') ? (xs as number[]).reduce((a, b) => a + b, 0) : null)

/** The one row of figures (null where unknown). */
export function loadRow(report: LoadReport, loaded: number): Record<(typeof LOAD_NAMES)[number], number | null> {
  const deleted = report.deleted
  return {
    loaded, inserted: report.inserted, updated: report.updated, unchanged: report.unchanged, deleted,
    rows_before: report.rowsBefore, rows_after: report.rowsAfter,
    rows_expected: report.rowsBefore === null || report.inserted === null || deleted === null ? null : report.rowsBefore + report.inserted - deleted,
    accounted: sum(report.inserted, report.updated, report.unchanged),
  }
}

/** The figure columns an expectation reads (kwargs column, column_A/B, column_list). */
function columnsOf(kwargs: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = []
  for (const k of ['column', 'column_A', 'column_B']) if (typeof kwargs[k] === 'string') out.push(kwargs[k] as string)
  if (Array.isArray(kwargs['column_list'])) for (const c of kwargs['column_list']) if (typeof c === 'string') out.push(c)
  return out
}

/** Runs the load-table expectations of `metaSuite` over the figures. */
export function reconcileLoad(metaSuite: Suite, report: LoadReport, loaded: number, clock: () => Date = () => new Date()): SuiteResult & { meta: { figures: ReturnType<typeof loadRow> } } {
  const row = loadRow(report, loaded)
  const mine = metaSuite.expectations.filter((e) => tableOf(e) === 'load')
  const results: ExpectationResult[] = []
  const runnable = mine.filter((e) => {
    const unknown = columnsOf(e.config.kwargs).filter((c) => c in row && row[c as keyof typeof row] === null)
    if (unknown.length) results.push({ ...skippedResult(e, unknown), meta: { ...skippedResult(e, unknown).meta, skipped: 'the store does not tell' } })
    return !unknown.length
  })
  if (runnable.length) {
    const compiled = compile({ ...metaSuite, expectations: runnable }, LOAD_COLUMNS, { now: clock })
    const state = compiled.init()
    compiled.update(state, [LOAD_NAMES.map((n) => row[n]) as Row])
    const r = compiled.finish(state)
    r.results.forEach((x, k) => results.push({ ...x, meta: { ...x.meta, expectation_id: runnable[k]!.id, label: runnable[k]!.label, table: 'load' } }))
  }
  const statistics = suiteStatistics(results)
  return {
    success: statistics.unsuccessful_expectations === 0,
    results,
    statistics,
    evaluation_parameters: {},
    meta: { expectation_suite_name: metaSuite.name, great_expectations_version: 'prostate-etl', validation_time: clock().toISOString(), row_count: 1, figures: row },
  }
}
