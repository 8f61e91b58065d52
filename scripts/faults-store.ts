/**
 * The local store's kill matrix: `etl run` of a 300k-row table into the local feature store, killed with SIGKILL at
 * random moments, each kill followed by a clean run; after each, the rows the store holds (through its manifest, or
 * every part file of the first layout), keys held twice, and what is left in the data folder besides the store.
 *
 *   node scripts/faults-store.ts [--kills 20] [--rows 300000] [--seed 1] [--etl test/support/etl-cli.ts] [--rounds 10]
 *
 * `--etl` runs another build of the command (an older checkout, for the figures before a change). `--rounds N` also
 * runs two loads at once into one group N times (two tables with different ids). Prints one line per kill and a JSON
 * summary; exits 1 when a clean run left a row missing or twice, or leftovers. PostgreSQL from PG* or 127.0.0.1:5432.
 * test/load/store-kill-random.test.ts runs a fixed sample of it in `npm test`.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse } from 'csv-parse/sync'
import pg from 'pg'

export interface KillOutcome {
  readonly atMs: number
  /** The run ended before the kill. */
  readonly finished: boolean
  readonly afterKill: Held
  readonly afterClean: Held
  readonly cleanExit: number | null
}

export interface Held {
  /** Distinct keys the store holds (undefined: no store). */
  readonly rows: number | undefined
  readonly duplicates: number
  /** Bytes in the data folder that are neither the store nor a finished stage file: staging folders, locks, parts no manifest names, *.tmp. */
  readonly leftoverBytes: number
}

async function bytes(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined)
  if (!s) return 0
  if (!s.isDirectory()) return s.size
  let n = 0
  for (const e of await readdir(path)) n += await bytes(join(path, e))
  return n
}

/** What the local store of `dataDir` holds, read as a user would (manifest first; the first layout: every part). */
export async function held(dataDir: string, group = 'prostate_group_1', key = 'user_id'): Promise<Held> {
  const root = join(dataDir, 'feature_store')
  const location = join(root, group)
  let leftoverBytes = 0
  for (const e of await readdir(root).catch(() => [] as string[])) if (e !== group) leftoverBytes += await bytes(join(root, e))
  for (const e of await readdir(dataDir, { recursive: true }).catch(() => [] as string[])) if (String(e).endsWith('.tmp') && !String(e).startsWith('feature_store/.')) leftoverBytes += await bytes(join(dataDir, String(e)))
  const text = await readFile(join(location, 'manifest.json'), 'utf8').catch(() => undefined)
  if (text === undefined) return { rows: undefined, duplicates: 0, leftoverBytes }
  const m = JSON.parse(text) as { parts?: { file: string }[] }
  const inFolder = (await readdir(location)).filter((f) => /^part-.*\.csv$/.test(f))
  const files = m.parts ? m.parts.map((p) => p.file) : inFolder
  const named = new Set(['manifest.json', 'feature_group.json', ...files])
  for (const f of await readdir(location)) if (!named.has(f)) leftoverBytes += await bytes(join(location, f))
  const keys = new Set<string>()
  let duplicates = 0
  for (const f of files) {
    for (const r of parse(await readFile(join(location, f)), { columns: true }) as Record<string, string>[]) {
      const k = r[key]!
      if (keys.has(k)) duplicates++
      keys.add(k)
    }
  }
  return { rows: keys.size, duplicates, leftoverBytes }
}

interface Ctx {
  readonly cwd: string
  readonly env: Record<string, string>
  readonly etl: string
  readonly suite: string
}

function etlRun(ctx: Ctx, table: string, killAtMs?: number): Promise<{ code: number | null; finished: boolean; ms: number; stderr: string }> {
  const started = Date.now()
  const child = spawn(process.execPath, [ctx.etl, 'run', '--table', table, '--suite', ctx.suite, '--id', 'derived', '--key', 'id', '--quiet'], { cwd: ctx.cwd, env: ctx.env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  let finished = true
  const timer = killAtMs === undefined ? undefined : setTimeout(() => {
    finished = false
    child.kill('SIGKILL')
  }, killAtMs)
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer)
    resolve({ code, finished, ms: Date.now() - started, stderr })
  }))
}

export interface MatrixOptions {
  readonly rows?: number
  /** Kill moments as fractions of a clean run's duration (a fixed sample), or a count of random ones. */
  readonly kills: number | readonly number[]
  readonly seed?: number
  readonly etl?: string
  readonly rounds?: number
  readonly log?: (line: string) => void
}

export interface MatrixResult {
  readonly rows: number
  readonly cleanRunMs: number
  readonly kills: readonly KillOutcome[]
  readonly concurrent: readonly { readonly round: number; readonly exits: readonly (number | null)[]; readonly held: Held }[]
  /** Leftovers after the kills (before the next run cleaned them), at most; and after the clean runs, at most. */
  readonly maxLeftoverAfterKillMB: number
  readonly maxLeftoverAfterCleanMB: number
  readonly ok: boolean
}

/** Runs the matrix in a schema and a folder of its own (both removed after). */
export async function runMatrix(options: MatrixOptions): Promise<MatrixResult> {
  const rows = options.rows ?? 300_000
  const log = options.log ?? (() => {})
  let seed = options.seed ?? 1
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const base = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: process.env['PGDATABASE'] ?? 'test' }
  const schema = `faults_store_${randomBytes(4).toString('hex')}`
  const client = new pg.Client(base)
  await client.connect()
  const cwd = await mkdtemp(join(tmpdir(), 'etl-faults-store-'))
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
    for (const [table, from] of [['big', 1], ['other', rows + 1]] as const) {
      await client.query(`CREATE TABLE ${schema}.${table} AS SELECT g AS id, 20 + g % 60 AS age, (g::bigint * 7919) % 1000003 / 1000.0 AS score, 'name ' || g AS name FROM generate_series(${from}, ${from + rows - 1}) g`)
      await client.query(`ALTER TABLE ${schema}.${table} ADD PRIMARY KEY (id)`)
    }
    const suite = join(cwd, 'suite.json')
    await writeFile(suite, JSON.stringify({ name: 'big', expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }] }))
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PG|DATABASE_URL|HOPSWORKS_|ETL_|NODE_OPTIONS)/.test(k)) env[k] = v
    Object.assign(env, { PGHOST: base.host, PGPORT: String(base.port), PGUSER: base.user, PGDATABASE: base.database, PGOPTIONS: `-c search_path=${schema}` })
    const ctx: Ctx = { cwd, env, suite, etl: options.etl ?? fileURLToPath(new URL('../test/support/etl-cli.ts', import.meta.url)) }
    const data = join(cwd, 'data')

    // A clean run measures the span the kills are spread over; the store then starts empty again.
    const first = await etlRun(ctx, 'big')
    if (first.code !== 0) throw new Error(`the clean run failed (${first.code}): ${first.stderr}`)
    await rm(data, { recursive: true, force: true })
    const moments = typeof options.kills === 'number' ? Array.from({ length: options.kills }, () => random() * 1.1) : options.kills
    const kills: KillOutcome[] = []
    for (const [i, f] of moments.entries()) {
      const atMs = Math.round(f * first.ms)
      const killed = await etlRun(ctx, 'big', atMs)
      const afterKill = await held(data)
      const clean = await etlRun(ctx, 'big')
      const afterClean = await held(data)
      kills.push({ atMs, finished: killed.finished, afterKill, afterClean, cleanExit: clean.code })
      log(`kill ${i + 1}/${moments.length} at ${atMs} ms${killed.finished ? ' (the run had ended)' : ''}: held ${afterKill.rows ?? 'no store'} (${afterKill.duplicates} twice), leftovers ${(afterKill.leftoverBytes / 1e6).toFixed(1)} MB; after a clean run (exit ${clean.code}): ${afterClean.rows} rows (${afterClean.duplicates} twice), leftovers ${(afterClean.leftoverBytes / 1e6).toFixed(1)} MB${clean.code ? `\n  ${clean.stderr.trim().split('\n').pop()}` : ''}`)
    }
    const concurrent: MatrixResult['concurrent'][number][] = []
    for (let r = 0; r < (options.rounds ?? 0); r++) {
      await rm(data, { recursive: true, force: true })
      const one = await etlRun(ctx, 'big')
      const [a, b] = await Promise.all([etlRun(ctx, 'big'), etlRun(ctx, 'other')])
      const h = await held(data)
      concurrent.push({ round: r, exits: [one.code, a.code, b.code], held: h })
      log(`two at once, round ${r + 1}: exits ${a.code}/${b.code}, held ${h.rows} of ${2 * rows} (${h.duplicates} twice), leftovers ${(h.leftoverBytes / 1e6).toFixed(1)} MB`)
    }
    const ok = kills.every((k) => k.cleanExit === 0 && k.afterClean.rows === rows && k.afterClean.duplicates === 0 && k.afterClean.leftoverBytes === 0)
      && concurrent.every((c) => (c.exits.every((e) => e === 0) ? c.held.rows === 2 * rows : c.held.rows === rows) && c.held.duplicates === 0)
    return {
      rows,
      cleanRunMs: first.ms,
      kills,
      concurrent,
      maxLeftoverAfterKillMB: Math.max(0, ...kills.map((k) => k.afterKill.leftoverBytes)) / 1e6,
      maxLeftoverAfterCleanMB: Math.max(0, ...kills.map((k) => k.afterClean.leftoverBytes)) / 1e6,
      ok,
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await client.end()
    await rm(cwd, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, rows: { type: 'string', default: '300000' }, seed: { type: 'string', default: '1' }, etl: { type: 'string' }, rounds: { type: 'string', default: '0' } } })
  const result = await runMatrix({ kills: Number(values.kills), rows: Number(values.rows), seed: Number(values.seed), rounds: Number(values.rounds), ...(values.etl ? { etl: values.etl } : {}), log: (l) => console.log(l) })
  const { kills, concurrent, ...summary } = result
  console.log(JSON.stringify({ ...summary, killsThatEndedFirst: kills.filter((k) => k.finished).length, heldAfterKill: kills.map((k) => k.afterKill.rows ?? 0), heldAfterClean: kills.map((k) => k.afterClean.rows), duplicatesAfterClean: kills.reduce((n, k) => n + k.afterClean.duplicates, 0), concurrentHeld: concurrent.map((c) => c.held.rows) }))
  process.exitCode = result.ok ? 0 : 1
}
