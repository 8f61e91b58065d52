/**
 * What the ingestion job's Spark script does with the uploaded files
 * (API.md section 6a, HA utils/python/hsfs_utils.py `insert_fg`): read every
 * file of the data path with the job's data options (CSV; `header`), match
 * columns to features *by name* (every feature must be present), cast each
 * value to its feature's type, and insert: a HUDI feature group upserts on
 * its primary key, a NONE one appends. All or nothing: a failure leaves the
 * feature group as it was and the job ends FAILED.
 */
import { parse } from 'csv-parse/sync'
import type { FeatureGroupState, JobState } from './state.ts'

type Cast = (v: string) => unknown

const INT = /^[+-]?\d+$/
function integer(bits: 32 | 64): Cast {
  return (v) => {
    if (!INT.test(v)) throw new Error(`not an integer: ${JSON.stringify(v)}`)
    const n = BigInt(v)
    const max = bits === 32 ? 2n ** 31n : 2n ** 63n
    if (n < -max || n >= max) throw new Error(`out of range for ${bits === 32 ? 'int' : 'bigint'}: ${v}`)
    return Number.isSafeInteger(Number(n)) ? Number(n) : v
  }
}
const real: Cast = (v) => {
  const n = Number(v)
  if (v.trim() === '' || (Number.isNaN(n) && v !== 'NaN')) throw new Error(`not a number: ${JSON.stringify(v)}`)
  return n
}
const casts: Record<string, Cast> = {
  int: integer(32), integer: integer(32), smallint: integer(32), tinyint: integer(32), bigint: integer(64),
  float: real, double: real,
  boolean: (v) => {
    const l = v.toLowerCase()
    if (l !== 'true' && l !== 'false') throw new Error(`not a boolean: ${JSON.stringify(v)}`)
    return l === 'true'
  },
  date: (v) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw new Error(`not a date: ${JSON.stringify(v)}`)
    return v
  },
  timestamp: (v) => {
    const t = Date.parse(v)
    if (Number.isNaN(t)) throw new Error(`not a timestamp: ${JSON.stringify(v)}`)
    return new Date(t).toISOString()
  },
  string: (v) => v,
}

function option(job: JobState, name: string): string | undefined {
  const opts = job.conf['dataOptions']
  if (!Array.isArray(opts)) return undefined
  const o = (opts as Record<string, unknown>[]).find((x) => x['name'] === name)
  return o === undefined ? undefined : String(o['value'])
}

/**
 * Ingests the job's files into the feature group. Returns the rows read; throws Error(reason) on failure.
 * A stream feature group's insert writes the rows only to its Kafka topic (hopsworks-api python/hsfs/engine/
 * spark.py save_stream_dataframe / the python engine): the offline table is written by the group's
 * materialization job (`materialize`).
 */
export function ingest(job: JobState, g: FeatureGroupState, files: readonly [string, Buffer][]): number {
  const staged = parseFiles(job, g, files)
  if (g.stream) g.kafka!.push(staged)
  else applyRows(g, staged)
  return staged.length
}

/** The materialization job: the rows waiting in the group's topic reach its offline table, in order. */
export function materialize(g: FeatureGroupState): number {
  let n = 0
  for (const batch of g.kafka?.splice(0) ?? []) {
    applyRows(g, batch)
    n += batch.length
  }
  return n
}

function parseFiles(job: JobState, g: FeatureGroupState, files: readonly [string, Buffer][]): Record<string, unknown>[] {
  const format = String(job.conf['dataFormat'] ?? 'CSV').toUpperCase()
  if (format !== 'CSV') throw new Error(`the emulator only reads CSV, got ${format}`)
  if (files.length === 0) throw new Error(`Path does not exist or is empty: ${job.dataPath}`)
  const header = option(job, 'header') === 'true'
  const staged: Record<string, unknown>[] = []
  for (const [path, data] of files) {
    const records = parse(data, {
      relax_column_count: false,
      cast: (value, ctx) => (value === '' && !ctx.quoting ? null : value),
    }) as (string | null)[][]
    if (records.length === 0) continue
    const names = header ? records[0]!.map(String) : records[0]!.map((_, i) => `_c${i}`)
    const index = new Map(names.map((n, i) => [n, i]))
    for (const f of g.features)
      if (!index.has(f.name)) throw new Error(`${path}: cannot resolve column ${f.name} among [${names.join(', ')}] (every feature must be present)`)
    for (let r = header ? 1 : 0; r < records.length; r++) {
      const rec = records[r]!
      const row: Record<string, unknown> = {}
      for (const f of g.features) {
        const raw = rec[index.get(f.name)!]
        const cast = casts[f.type.toLowerCase()] ?? casts['string']!
        try {
          row[f.name] = raw === null || raw === undefined || (raw === '' && f.type.toLowerCase() !== 'string') ? null : cast(raw)
        } catch (err) {
          throw new Error(`${path} record ${r + 1}, feature ${f.name} (${f.type}): ${(err as Error).message}`)
        }
      }
      staged.push(row)
    }
  }
  const pk = g.features.filter((f) => f.primary).map((f) => f.name)
  const upsert = g.timeTravelFormat !== 'NONE' && pk.length > 0
  for (const row of staged) {
    if (upsert) {
      if (pk.some((k) => row[k] === null)) throw new Error(`a record has a null primary key (${pk.join(', ')})`)
    }
  }
  return staged
}

/**
 * Writes rows to the offline table. A HUDI group records a commit with the rows inserted (new keys) and
 * updated (keys already there, equal values or not: Hudi upserts them all), as the Python client's
 * hudi_engine reports them to `POST …/commits` (CommitResource.commitFeatureGroup).
 */
function applyRows(g: FeatureGroupState, staged: readonly Record<string, unknown>[]): void {
  const pk = g.features.filter((f) => f.primary).map((f) => f.name)
  const upsert = g.timeTravelFormat !== 'NONE' && pk.length > 0
  if (g.timeTravelFormat === 'HUDI' && g.commits) {
    const keys = new Set<string>()
    let inserted = 0
    let updated = 0
    for (const row of staged) {
      const key = JSON.stringify(pk.map((k) => row[k]))
      if (g.rows.has(key) || keys.has(key)) updated++
      else inserted++
      keys.add(key)
    }
    const last = g.commits.at(-1)?.commitID ?? 0
    const now = Date.now()
    const commitID = Math.max(last + 1, now)
    g.commits.push({ commitID, commitTime: now, commitDateString: new Date(now).toISOString(), rowsInserted: inserted, rowsUpdated: updated, rowsDeleted: 0, archived: false })
  }
  for (const row of staged) {
    const key = upsert ? JSON.stringify(pk.map((k) => row[k])) : `#${g.appended++}`
    g.rows.delete(key) // an upsert moves the row to the end, as a fresh write
    g.rows.set(key, row)
  }
}
