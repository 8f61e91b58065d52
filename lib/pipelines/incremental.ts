/**
 * Incremental loads: `--incremental COL` reads only the rows whose cursor
 * column reached the last committed watermark, and the watermark advances
 * only after the commit succeeded.
 *
 *     watermark w (file)     upper u = max(COL) now         the batch
 *     ──────────────────────────────────────────────────────────────────────
 *     none / --full-refresh  SELECT max(COL)::text          every row with COL <= u
 *     w                      same, over COL >= w            w <= COL <= u  (rows equal to w again: merged)
 *     --since S / --until U  window bounds                  S <= COL (< U) (the watermark never moves back)
 *
 * The upper bound is fixed before the rows move, so a row written during the
 * run with a larger value waits for the next run instead of being half-seen.
 * Bounds are PostgreSQL's own text of the values, written into the query as
 * escaped literals cast back to the column's type (a query without bound
 * values is read by COPY).
 *
 * The watermark lives in `<dataDir>/watermarks/<group>_<version>.<source>.json`
 * (one per source and feature group), written by one rename. A run that fails,
 * is stopped by the gate, is cancelled or killed never reaches that rename.
 * Stable ids are required (derived, over a key: rows at the watermark are read
 * twice and must merge, and a row's identity must not depend on the batch).
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { writeFileAtomic } from '../csv/stage-file.ts'
import { EtlError } from '../errors.ts'
import { connect, type DbConfig } from '../extract/connect.ts'
import { describeIdentity, resolveIdentity, type IdentityKey } from '../extract/identity.ts'
import { describeSource, quoteIdent, sourceSql, type SourceSpec } from '../extract/relation.ts'
import type { Settings } from './settings.ts'

/** The watermark file's content. */
export interface Watermark {
  readonly format: 1
  readonly source: string
  readonly featureGroup: string
  readonly column: string
  readonly type: string
  /** PostgreSQL's text of the largest committed value of `column`. */
  readonly value: string
  readonly runId: string
  readonly committedAt: string
}

/** What a run reads and, after its commit, records (RunSummary.incremental). */
export interface IncrementalPlan {
  readonly column: string
  readonly type: string
  /** The watermark the run started from (undefined: none, or --full-refresh). */
  readonly from: string | undefined
  /** The window's lower bound (the watermark, or --since). */
  readonly lower: string | undefined
  /** The largest value of the window when the run started (undefined: no row). */
  readonly upper: string | undefined
  /** --until: rows below it. */
  readonly until: string | undefined
  /** The watermark after the commit (undefined: stays as it is). */
  readonly next: string | undefined
  readonly file: string
  /** The stable ids' key, resolved on the table (the batch query has no catalog of its own). */
  readonly identity: IdentityKey
}

/** Names the source and cursor column in the watermark's file name. */
export function sourceTag(settings: Settings): string {
  const source = describeSource(settings.source) + ('query' in settings.source ? ` ${settings.source.query}` : '')
  return createHash('sha256').update(`${source}\0${settings.incremental?.column}`).digest('hex').slice(0, 12)
}

/** The file of the watermark of `source` into the run's feature group. */
export function watermarkFile(settings: Settings, tag = sourceTag(settings)): string {
  const fg = `${settings.featureGroup.name}_${settings.featureGroup.version}`
  return join(settings.dataDir, 'watermarks', `${fg}.${tag}.json`)
}

export async function readWatermark(file: string): Promise<Watermark | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read the watermark ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const w = JSON.parse(text) as Watermark
    if (w.format !== 1 || typeof w.value !== 'string') throw new Error('not a watermark of this version')
    return w
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `the watermark ${file} is damaged (${(err as Error).message}): remove it and run with --full-refresh`, { cause: err })
  }
}

const lit = (v: string, type: string) => `${pg.escapeLiteral(v)}::${type}`

/** The batch's rows: the source within the window. */
function windowSql(text: string, column: string, type: string, lower: string | undefined, upper: string, until: string | undefined): string {
  const col = `etl_inc.${quoteIdent(column)}`
  const where = [`${col} <= ${lit(upper, type)}`]
  if (lower !== undefined) where.unshift(`${col} >= ${lit(lower, type)}`)
  if (until !== undefined) where.push(`${col} < ${lit(until, type)}`)
  return `SELECT * FROM (${text}) AS etl_inc WHERE ${where.join(' AND ')}`
}

/**
 * Plans the run's batch: reads the watermark, the cursor column's type and the
 * window's largest value. Throws ETL_USAGE (no such column; a source without a
 * key for the stable ids), ETL_DB_QUERY (a bound that is not of the column's type).
 */
export async function planIncremental(db: DbConfig, settings: Settings): Promise<{ plan: IncrementalPlan; source: SourceSpec }> {
  const inc = settings.incremental!
  const file = watermarkFile(settings)
  const mark = inc.fullRefresh ? undefined : await readWatermark(file)
  if (mark && mark.column !== inc.column)
    throw new EtlError('ETL_USAGE', `--incremental ${inc.column}: the watermark ${file} is of column ${mark.column}; pass --full-refresh to start over on ${inc.column}`)
  const { text, values } = sourceSql(settings.source)
  if (values.length) throw new EtlError('ETL_USAGE', '--incremental with a query that takes bound values (queryValues): write the values into the query')
  const client = await connect(db)
  try {
    const described = await client.query(`SELECT * FROM (${text}) AS etl_source LIMIT 0`)
    const field = described.fields.find((f) => f.name === inc.column) ?? described.fields.find((f) => f.name === inc.column.toLowerCase())
    if (!field) throw new EtlError('ETL_USAGE', `--incremental ${inc.column}: no such column in ${describeSource(settings.source)} (columns: ${described.fields.map((f) => f.name).join(', ')})`)
    const type = (await client.query<{ t: string }>('SELECT format_type($1::oid, NULL) AS t', [field.dataTypeID])).rows[0]!.t
    const identity = await resolveIdentity(client, settings.source, described.fields.map((f) => ({ name: f.name, type: 'text' })), { key: settings.transform.key })
    if (identity.kind === 'row')
      throw new EtlError('ETL_USAGE', `--incremental on ${describeSource(settings.source)}, which has no primary key: an updated row would get a new id and be stored twice; ` +
        'pass --key COLS (the columns that identify a row), or give the table a primary key')
    const lower = inc.since ?? mark?.value
    const col = quoteIdent(field.name)
    const conds = [lower !== undefined ? `${col} >= ${lit(lower, type)}` : 'TRUE', inc.until !== undefined ? `${col} < ${lit(inc.until, type)}` : 'TRUE']
    const { rows } = await client.query<{ hi: string | null }>(`SELECT max(${col})::text AS hi FROM (${text}) AS etl_source WHERE ${conds.join(' AND ')}`).catch((err: unknown) => {
      throw new EtlError('ETL_DB_QUERY', `--incremental ${inc.column}: the window could not be read: ${(err as Error).message}`, { cause: err })
    })
    const upper = rows[0]?.hi ?? undefined
    let next: string | undefined
    if (upper !== undefined) {
      // Never back: a backfill window below the watermark leaves it where it is.
      next = mark && !inc.fullRefresh
        ? (await client.query<{ w: string }>(`SELECT greatest(${lit(mark.value, type)}, ${lit(upper, type)})::text AS w`)).rows[0]!.w
        : upper
    }
    const plan: IncrementalPlan = { column: field.name, type, from: mark?.value, lower, upper, until: inc.until, next, file, identity }
    // No row in the window: a query that reads nothing (and still tells the columns).
    const query = upper === undefined ? `SELECT * FROM (${text}) AS etl_inc WHERE FALSE` : windowSql(text, field.name, type, lower, upper, inc.until)
    return { plan, source: { query } }
  } finally {
    await client.end().catch(() => {})
  }
}

/** Records the watermark after a commit (one rename). Nothing to do when the batch was empty. */
export async function saveWatermark(settings: Settings, plan: IncrementalPlan, runId: string): Promise<void> {
  if (plan.next === undefined) return
  const w: Watermark = {
    format: 1, source: describeSource(settings.source), featureGroup: `${settings.featureGroup.name}_${settings.featureGroup.version}`,
    column: plan.column, type: plan.type, value: plan.next, runId, committedAt: new Date().toISOString(),
  }
  await mkdir(join(settings.dataDir, 'watermarks'), { recursive: true })
  await writeFileAtomic(plan.file, JSON.stringify(w, null, 2) + '\n')
}

/** `--full-refresh` with nothing in the window still starts over: the old watermark goes. */
export async function dropWatermark(plan: IncrementalPlan): Promise<void> {
  await rm(plan.file, { force: true })
}

/** The run record's `incremental` entry. */
export function incrementalSummary(plan: IncrementalPlan) {
  return {
    column: plan.column, type: plan.type, from: plan.from ?? null, lower: plan.lower ?? null, upper: plan.upper ?? null, until: plan.until ?? null,
    next: plan.next ?? null, file: plan.file, key: describeIdentity(plan.identity),
  }
}

/**
 * The five commands: `etl extract --incremental COL` leaves the plan here and `etl load` records the watermark
 * after its commit (the stage files' lineage makes sure the load's rows are this extract's). Every extract
 * removes it first, so it always belongs to the last extract.
 */
export const pendingFile = (dataDir: string) => join(dataDir, 'watermarks', 'pending.json')

export async function writePending(settings: Settings, plan: IncrementalPlan, extractId: string): Promise<void> {
  await mkdir(join(settings.dataDir, 'watermarks'), { recursive: true })
  await writeFileAtomic(pendingFile(settings.dataDir), JSON.stringify({ format: 1, extractId, tag: sourceTag(settings), plan }, null, 2) + '\n')
}

export async function removePending(dataDir: string): Promise<void> {
  await rm(pendingFile(dataDir), { force: true })
}

/** After `etl load` committed: the pending watermark of the extract, recorded for the load's source and group. */
export async function commitPending(settings: Settings, runId: string): Promise<IncrementalPlan | undefined> {
  let pending: { plan: IncrementalPlan; tag: string }
  try {
    pending = JSON.parse(await readFile(pendingFile(settings.dataDir), 'utf8')) as { plan: IncrementalPlan; tag: string }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  // The extract's source, the load's feature group.
  const plan = { ...pending.plan, file: watermarkFile(settings, pending.tag) }
  await saveWatermark(settings, plan, runId)
  await removePending(settings.dataDir)
  return plan
}

/** The plan's window over another query of the same table (a partition's range, lib/scale). */
export function applyWindow(text: string, plan: IncrementalPlan): string {
  return plan.upper === undefined ? `SELECT * FROM (${text}) AS etl_inc WHERE FALSE` : windowSql(text, plan.column, plan.type, plan.lower, plan.upper, plan.until)
}
