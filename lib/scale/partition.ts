/**
 * Splitting a table into N key ranges for the workers.
 *
 * The key is a numeric or timestamp column: the one given (`--partition-key`),
 * else the table's single-column primary key when it has such a type. The
 * boundaries are PostgreSQL's own quantiles of the key (percentile_disc at
 * 1/N, 2/N, ...), so partitions hold about the same number of rows however
 * the values are spread; equal quantiles collapse, and a quantile equal to the
 * minimum is dropped (a key with few distinct values gives fewer partitions). Ranges are half-open and cover every row once:
 *
 *     p0:  key < b1  OR key IS NULL
 *     pi:  key >= bi AND key < b(i+1)
 *     pN:  key >= bN                    (NaN sorts last in PostgreSQL: here)
 *
 * Boundaries travel as PostgreSQL's text form and are cast back in the
 * predicate (`$1::float8`), so a float boundary is exact (shortest round-trip
 * output) and a timestamp keeps its microseconds.
 */
import pg from 'pg'
import { EtlError } from '../errors.ts'
import { parseTableName, qualifiedName, quoteIdent, type SourceSpec } from '../extract/relation.ts'

/** Types a key may have: ordered, with quantiles. */
const KEY_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'date', 'timestamp', 'timestamptz'])

export interface PartitionKey {
  readonly column: string
  /** PostgreSQL type name (pg_type.typname). */
  readonly type: string
}

/** One key range: values are PostgreSQL text, `undefined` = unbounded. */
export interface PartitionRange {
  readonly index: number
  readonly lower: string | undefined
  readonly upper: string | undefined
  /** Whether the NULL keys belong here (the first range). */
  readonly nulls: boolean
}

export interface PartitionPlan {
  readonly table: string
  readonly key: PartitionKey
  readonly ranges: readonly PartitionRange[]
}

interface ColumnInfo {
  name: string
  typname: string
  pk: boolean
}

async function columnsOf(client: pg.ClientBase, table: string): Promise<ColumnInfo[]> {
  const qualified = qualifiedName(table)
  const { rows } = await client.query<ColumnInfo>(
    `SELECT a.attname AS name, t.typname,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND i.indnatts = 1 AND i.indkey[0] = a.attnum) AS pk
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [qualified],
  )
  if (!rows.length) {
    const found = await client.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [qualified])
    if (!found.rows[0]?.r) throw new EtlError('ETL_UNKNOWN_TABLE', `table not found: ${table} (looked up as ${qualified})`, { details: { table } })
  }
  return rows
}

/** The key to split `table` on: `wanted`, else the numeric/timestamp primary key. */
export async function choosePartitionKey(client: pg.ClientBase, table: string, wanted: string | undefined): Promise<PartitionKey> {
  const columns = await columnsOf(client, table)
  const allowed = [...KEY_TYPES].join(', ')
  if (wanted !== undefined) {
    const c = columns.find((x) => x.name === wanted) ?? columns.find((x) => x.name === wanted.toLowerCase())
    if (!c) throw new EtlError('ETL_USAGE', `--partition-key ${wanted}: no such column in ${table} (columns: ${columns.map((x) => x.name).join(', ')})`)
    if (!KEY_TYPES.has(c.typname))
      throw new EtlError('ETL_USAGE', `--partition-key ${wanted}: the column is ${c.typname}; a partition key must be numeric or a timestamp (${allowed})`)
    return { column: c.name, type: c.typname }
  }
  const pk = columns.find((c) => c.pk)
  if (pk && KEY_TYPES.has(pk.typname)) return { column: pk.name, type: pk.typname }
  const candidates = columns.filter((c) => KEY_TYPES.has(c.typname)).map((c) => c.name)
  throw new EtlError(
    'ETL_USAGE',
    `${table} has no numeric or timestamp primary key to split on: pass --partition-key COL` +
      (candidates.length ? ` (numeric or timestamp columns: ${candidates.join(', ')})` : ' (and the table has no numeric or timestamp column: run without --partitions)'),
  )
}

/** Splits `table` into at most `n` ranges of `key` by its quantiles. */
export async function planPartitions(client: pg.ClientBase, table: string, key: PartitionKey, n: number): Promise<PartitionPlan> {
  if (!Number.isInteger(n) || n < 1) throw new EtlError('ETL_INVALID_OPTION', `Invalid option --partitions: expected an integer >= 1, got ${n}`)
  parseTableName(table)
  const fractions = Array.from({ length: n - 1 }, (_, i) => (i + 1) / n)
  let bounds: string[] = []
  if (fractions.length) {
    const col = quoteIdent(key.column)
    // Bounds equal to the minimum are dropped (the range below them would be empty but for NULLs), equal ones collapse.
    const { rows } = await client.query<{ b: string[] | null }>(
      `WITH q AS (SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY ${col}) AS b, min(${col}) AS lo FROM ${qualifiedName(table)} WHERE ${col} IS NOT NULL)
       SELECT ARRAY(SELECT DISTINCT x FROM q, unnest(q.b) AS x WHERE x > q.lo ORDER BY x)::text[] AS b`,
      [fractions],
    )
    bounds = rows[0]?.b ?? []
  }
  // The first range holds everything below the first bound, and the NULLs.
  const edges = [undefined, ...bounds, undefined]
  const ranges: PartitionRange[] = []
  for (let i = 0; i + 1 < edges.length; i++) ranges.push({ index: i, lower: edges[i], upper: edges[i + 1], nulls: i === 0 })
  return { table, key, ranges }
}

/**
 * The source of one range: the table's rows whose key falls in it. The bounds
 * are written into the query as escaped literals (PostgreSQL's own text of
 * the key values, cast back), not bound as parameters: a query without bound
 * values is read by COPY, twice as fast as a cursor (pg-source.ts).
 */
export function rangeSource(plan: Pick<PartitionPlan, 'table' | 'key'>, range: PartitionRange): SourceSpec {
  const col = quoteIdent(plan.key.column)
  const cast = `::${plan.key.type}`
  const parts: string[] = []
  if (range.lower !== undefined) parts.push(`${col} >= ${pg.escapeLiteral(range.lower)}${cast}`)
  if (range.upper !== undefined) parts.push(`${col} < ${pg.escapeLiteral(range.upper)}${cast}`)
  let where = parts.length ? parts.join(' AND ') : 'TRUE'
  if (range.nulls) where = parts.length ? `(${where}) OR ${col} IS NULL` : 'TRUE'
  return { query: `SELECT * FROM ${qualifiedName(plan.table)} WHERE ${where}` }
}

/** `[.., 42)` for progress lines. */
export function describeRange(range: PartitionRange): string {
  return `${range.lower === undefined ? '(-inf' : `[${range.lower}`}, ${range.upper === undefined ? '+inf)' : `${range.upper})`}${range.nulls ? ' + NULL' : ''}`
}
