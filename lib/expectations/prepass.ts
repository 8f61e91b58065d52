/**
 * The prepass: whole-column statistics some expectations need before they can
 * judge the first row. Today that is expect_column_value_z_scores_to_be_less_than,
 * which needs the column's mean and sample standard deviation (GE computes
 * z = (x - mean) / stdev with the statistics of the whole column).
 *
 *     const columns = prepassColumns(suite)                        // [] for most suites
 *     const stats = columns.length
 *       ? await columnStatsFromPg(client, { table: 'prostate' }, columns)   // one aggregate query
 *       : {}
 *     source -> validate({ suite, stats }) -> ...                  // then the one streaming pass
 *
 * - From PostgreSQL: one `SELECT count(c), avg(c), stddev_samp(c) ...` over the
 *   source query, which is exactly what GE's SQL backend computes (exact
 *   numeric arithmetic for integer and numeric columns, float8 for floats).
 * - From batches (a stage CSV read twice, or any Batch iterable): exact sums
 *   (exact.ts), so mean and stdev are the correctly rounded exact values.
 * A column whose statistics cannot be computed (not numeric) is left out; the
 * z-score expectation then reports the error.
 */
import type { SourceSpec } from '../extract/relation.ts'
import { quoteIdent, sourceSql } from '../extract/relation.ts'
import { EtlError } from '../errors.ts'
import type { Batch } from '../types.ts'
import { meanOf, stdevOf, sumAdd, sumAddSquare } from './exact.ts'
import type { ColumnStats, Suite } from './types.ts'
import { isNumericKind, kindOf, toNumber } from './values.ts'

/** Expectation types that need whole-column statistics before the rows. */
export const PREPASS_TYPES: readonly string[] = ['expect_column_value_z_scores_to_be_less_than']

/** Names of the columns the suite needs statistics for (deduplicated, in suite order). */
export function prepassColumns(suite: Suite): string[] {
  const out: string[] = []
  for (const e of suite.expectations) {
    const col = e.config.kwargs['column']
    if (PREPASS_TYPES.includes(e.config.expectation_type) && typeof col === 'string' && !out.includes(col)) out.push(col)
  }
  return out
}

/** What a pg Client or Pool offers (so that either can be passed). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

function statsOf(row: Record<string, unknown>, i: number): ColumnStats {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
  return { count: Number(row[`n${i}`] ?? 0), mean: num(row[`m${i}`]), stdev: num(row[`s${i}`]) }
}

async function aggregate(db: Queryable, text: string, values: unknown[], columns: readonly string[]): Promise<Record<string, unknown>> {
  const parts = columns.map((c, i) => {
    const q = quoteIdent(c)
    return `count(${q})::text AS n${i}, avg(${q})::float8 AS m${i}, stddev_samp(${q})::float8 AS s${i}`
  })
  const { rows } = await db.query(`SELECT ${parts.join(', ')} FROM (${text}) AS etl_source`, values)
  return rows[0] ?? {}
}

/**
 * Mean and sample standard deviation of `columns`, computed by PostgreSQL
 * over the source in one query (falls back to one query per column when a
 * column cannot be averaged: a missing or non-numeric column is left out).
 * Throws ETL_DB_QUERY only when the source itself fails.
 */
export async function columnStatsFromPg(db: Queryable, source: SourceSpec, columns: readonly string[]): Promise<Record<string, ColumnStats>> {
  const out: Record<string, ColumnStats> = {}
  if (!columns.length) return out
  const { text, values } = sourceSql(source)
  try {
    const row = await aggregate(db, text, values, columns)
    columns.forEach((c, i) => (out[c] = statsOf(row, i)))
    return out
  } catch {
    // One column may not be numeric (avg(text) does not exist): compute the others one by one.
  }
  let lastError: unknown
  for (const c of columns) {
    try {
      out[c] = statsOf(await aggregate(db, text, values, [c]), 0)
    } catch (err) {
      lastError = err
    }
  }
  if (!Object.keys(out).length && lastError) {
    // Every column failed: if the source itself reads, the columns are missing or not numeric, and their
    // z-score expectations fail with that (a failed expectation, the gate), as for any other column check.
    const sourceReads = await db.query(`SELECT 1 FROM (${text}) AS etl_source LIMIT 0`, values).then(() => true, () => false)
    if (!sourceReads) throw new EtlError('ETL_DB_QUERY', `the prepass query failed: ${(lastError as Error).message}`, { cause: lastError })
  }
  return out
}

/** Exact mean and sample standard deviation of `columns` from a pass over batches (numeric columns only). */
export async function columnStatsFromBatches(batches: AsyncIterable<Batch> | Iterable<Batch>, columns: readonly string[]): Promise<Record<string, ColumnStats>> {
  const acc = new Map<string, { index: number; count: number; sum: number[]; sq: number[]; bad: boolean }>()
  for await (const batch of batches) {
    if (acc.size === 0)
      for (const name of columns) {
        const index = batch.columns.findIndex((c) => c.name === name)
        if (index >= 0 && isNumericKind(kindOf(batch.columns[index]!.type))) acc.set(name, { index, count: 0, sum: [], sq: [], bad: false })
      }
    for (const a of acc.values()) {
      for (const row of batch.rows) {
        const v = row[a.index] ?? null
        if (v === null) continue
        const x = toNumber(v)
        a.count++
        if (!Number.isFinite(x)) a.bad = true
        else {
          sumAdd(a.sum, x)
          sumAddSquare(a.sq, x)
        }
      }
    }
  }
  const out: Record<string, ColumnStats> = {}
  for (const [name, a] of acc) {
    out[name] = a.bad ? { count: a.count, mean: NaN, stdev: NaN } : { count: a.count, mean: meanOf(a.sum, a.count), stdev: stdevOf(a.sum, a.sq, a.count) }
  }
  return out
}
