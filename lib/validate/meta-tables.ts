/**
 * The two tables a meta suite runs over, built the same way whether the
 * validation results come from memory (resultRows) or from
 * extract_validation_results.csv (csvSource with its sidecar):
 *
 * - `results`: one row per expectation result (RESULTS_COLUMNS);
 * - `counts`: one row of stage counts (COUNT_COLUMNS), NULL where a stage has
 *   not reported yet.
 *
 * And the evaluation parameters a meta suite can use. Pure: no I/O.
 */
import type { Suite } from '../expectations/types.ts'
import type { StageCountsSummary } from '../pipelines/summary.ts'
import type { Batch, Column, Row } from '../types.ts'

/** The stage counts, in counts-table column order. */
export const COUNT_NAMES = Object.freeze(['extracted', 'validated', 'quarantined', 'transformed', 'dropped', 'loaded'] as const)

/** A stage count's name. */
export type CountName = (typeof COUNT_NAMES)[number]

/** The columns of the counts table (all int8). */
export const COUNT_COLUMNS: readonly Column[] = Object.freeze(COUNT_NAMES.map((name) => Object.freeze({ name, type: 'int8' })))

/** The tables of a meta-validation, by the name `meta.table` gives (default `results`). */
export interface MetaTables {
  readonly results: Batch
  readonly counts: Batch
}

/** The results table: the given columns (frozen) and rows (the whole table: one row per expectation, small). */
export function resultsTable(columns: readonly Column[], rows: Row[]): Batch {
  return { columns: Object.isFrozen(columns) ? columns : Object.freeze([...columns]), rows }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The known counts only (a count that is not a finite number is unknown). */
export function knownCounts(counts: StageCountsSummary): Partial<Record<CountName, number>> {
  const out: Partial<Record<CountName, number>> = {}
  for (const name of COUNT_NAMES) {
    const v = counts[name]
    if (isCount(v)) out[name] = v
  }
  return out
}

/** The counts table: one row, NULL for each unknown count. */
export function countsTable(counts: StageCountsSummary): Batch {
  const known = knownCounts(counts)
  return { columns: COUNT_COLUMNS, rows: [COUNT_NAMES.map((n) => known[n] ?? null)] }
}

/**
 * The evaluation parameters of a meta suite: `declared_expectations` (how many
 * expectations the validated suite declares), `declared_ids` (their ids), each
 * known stage count by name, then `extra` (which cannot replace those).
 */
export function metaParameters(declared: Suite, counts: StageCountsSummary, extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    ...extra,
    declared_expectations: declared.expectations.length,
    declared_ids: declared.expectations.map((e) => e.id),
    ...knownCounts(counts),
  }
}

const NAME = /[A-Za-z_][\w.]*/g

/** Names in a kwarg's `{"$PARAMETER": "expr"}` expressions (top-level kwargs, as the engine resolves them). */
function parameterNames(kwargs: Readonly<Record<string, unknown>>): string[] {
  const names: string[] = []
  for (const v of Object.values(kwargs)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !('$PARAMETER' in v)) continue
    const expr = (v as { $PARAMETER: unknown }).$PARAMETER
    if (typeof expr === 'string') names.push(...(expr.match(NAME) ?? []))
  }
  return names
}

/** Column names an expectation reads (column, column_A/B, column_list). */
function columnNames(kwargs: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = []
  for (const k of ['column', 'column_A', 'column_B']) if (typeof kwargs[k] === 'string') out.push(kwargs[k])
  const list = kwargs['column_list']
  if (Array.isArray(list)) for (const c of list) if (typeof c === 'string') out.push(c)
  return out
}

/**
 * The stage counts an expectation needs that are not known: the counts-table
 * columns it reads and the counts its $PARAMETER expressions name. Empty when
 * it can run.
 */
export function missingCounts(table: string, kwargs: Readonly<Record<string, unknown>>, counts: StageCountsSummary): CountName[] {
  const known = knownCounts(counts)
  const needed = new Set(parameterNames(kwargs))
  if (table === 'counts') for (const c of columnNames(kwargs)) needed.add(c)
  return COUNT_NAMES.filter((n) => needed.has(n) && known[n] === undefined)
}
