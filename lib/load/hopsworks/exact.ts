/**
 * Values a Hopsworks feature type cannot hold exactly are refused before they are staged, never changed on the
 * way: a `numeric` with more than 15 significant digits (the row carries PostgreSQL's exact text) into a `double`
 * feature, and a date or time that Spark's date and timestamp types do not read (before year 1 or after 9999, or
 * PostgreSQL's `infinity`) into a `date` / `timestamp` feature. The local store keeps them exactly (as text).
 */
import { EtlError } from '../../errors.ts'
import type { Batch, Column } from '../../types.ts'

const DOUBLE_WORDS = new Set(['NaN', 'Infinity', '-Infinity'])
const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz'])
/** What Spark reads into a date or a timestamp: a four-digit year from 0001 to 9999. */
const SPARK_TIME = /^(?!0000)\d{4}-/

type Check = (v: unknown) => boolean

function checkOf(c: Column): Check | undefined {
  if (c.type === 'numeric') return (v) => typeof v !== 'string' || DOUBLE_WORDS.has(v)
  if (TEMPORAL.has(c.type)) return (v) => typeof v !== 'string' || SPARK_TIME.test(v)
  return undefined
}

const cache = new WeakMap<readonly Column[], readonly (readonly [number, Check])[]>()

/** Throws ETL_HOPSWORKS_SCHEMA naming the column and the value when a row holds a value its feature type would change. */
export function assertExactForHopsworks(batch: Batch): void {
  let checks = cache.get(batch.columns)
  if (!checks) {
    checks = batch.columns.flatMap((c, i) => {
      const check = checkOf(c)
      return check ? [[i, check] as const] : []
    })
    cache.set(batch.columns, checks)
  }
  if (!checks.length) return
  for (const row of batch.rows) {
    for (const [i, ok] of checks) {
      const v = row[i]
      if (v === null || v === undefined || ok(v)) continue
      const c = batch.columns[i]!
      const what = c.type === 'numeric' ? 'a double feature holds at most 15-17 significant digits' : "Spark's date and timestamp types hold the years 0001 to 9999 only"
      throw new EtlError('ETL_HOPSWORKS_SCHEMA', `column ${c.name} holds ${JSON.stringify(String(v))} (${c.type}), which Hopsworks cannot store exactly (${what}); nothing was loaded. Cast the column to text in --query (${c.name}::text) to load it as a string feature, or load it into the local store, which keeps it as PostgreSQL's text`, { details: { column: c.name, type: c.type } })
    }
  }
}
