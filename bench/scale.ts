/**
 * npm run bench:scale [-- ROWS [PARTITIONS]]: `etl run --partitions P` with 1 and then 2 `etl worker`
 * processes on a prostate-shaped table (default 5M rows, 4 partitions), next to the one-pass `etl run`,
 * all with the local sink and derived ids. Prints rows/s and the coordinator's time split
 * (partitions vs. joining, merging and loading). Not a test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const [rowsArg, partsArg] = process.argv.slice(2).map(Number)
const rows = rowsArg && rowsArg > 0 ? rowsArg : 5_000_000
const partitions = partsArg && partsArg > 0 ? partsArg : 4
const base = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: process.env['PGDATABASE'] ?? 'test' }
const etl = fileURLToPath(new URL('../bin/etl.js', import.meta.url))
const schema = `bench_scale_${process.pid}`
const env = { ...process.env, PGHOST: base.host, PGPORT: String(base.port), PGUSER: base.user, PGDATABASE: base.database, ETL_QUEUE_SCHEMA: `${schema}_q` }

function run(args: string[], dir: string): { seconds: number; record: { summary: Record<string, { durationMs?: number }> } } {
  const started = performance.now()
  const r = spawnSync(process.execPath, [etl, ...args, '--data-dir', dir, '--json', '--quiet'], { env, encoding: 'utf8', maxBuffer: 1 << 28 })
  const seconds = (performance.now() - started) / 1000
  if (r.status !== 0) throw new Error(`etl ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`)
  return { seconds, record: JSON.parse(r.stdout) }
}

function startWorkers(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, [etl, 'worker', '--quiet'], { env, stdio: 'ignore' }))
}

async function stop(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise((resolve) => { w.on('close', resolve); w.kill('SIGTERM') })))
}

const client = new pg.Client(base)
await client.connect()
await client.query(`CREATE SCHEMA ${schema}`)
const table = `${schema}.prostate`
try {
  await client.query(`CREATE TABLE ${table} AS SELECT g AS id, (random()*5.8-1.9)::float8 AS lcavol, (2.4+random()*2.3)::float8 AS lweight,
    (41 + g % 39)::int AS age, (random()*3-1.4)::float8 AS lbph, (random()*4-1.4)::float8 AS lcp, (6 + g % 4)::int AS gleason,
    (g % 101)::int AS pgg45, (random()*6-0.4)::float8 AS lpsa, (g % 2)::int AS target FROM generate_series(1, ${rows}) g`)
  await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`)
  await client.query(`ANALYZE ${table}`)
  const common = ['--table', table, '--sink', 'local', '--id', 'derived', '--key', 'id']
  const line = (what: string, seconds: number, extra = '') => console.log(`${rows} rows: ${what.padEnd(34)} ${(rows / seconds / 1000).toFixed(0).padStart(5)}k rows/s (${seconds.toFixed(1)} s)${extra}`)
  const dir = mkdtempSync(join(tmpdir(), 'etl-bench-scale-'))
  try {
    line('etl run (one process)', run(['run', ...common], join(dir, 'one')).seconds)
    for (const n of [1, 2]) {
      const workers = startWorkers(n)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      try {
        const r = run(['run', ...common, '--partitions', String(partitions)], join(dir, `w${n}`))
        const p = r.record.summary['partitions']?.durationMs ?? 0
        line(`etl run --partitions ${partitions}, ${n} worker(s)`, r.seconds, ` partitions ${(p / 1000).toFixed(1)} s, then join + merge + load ${(r.seconds - p / 1000).toFixed(1)} s`)
      } finally {
        await stop(workers)
      }
    }
    const runs = readdirSync(join(dir, 'w2', 'runs')).filter((f) => f.endsWith('.json'))
    const record = JSON.parse(readFileSync(join(dir, 'w2', 'runs', runs[0]!), 'utf8'))
    console.log(`partitions (2 workers): ${JSON.stringify(record.summary.partitions.ranges.map((r: { rows: number; durationMs: number; attempts: number }) => `${r.rows} rows ${(r.durationMs / 1000).toFixed(1)} s`))}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
} finally {
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.query(`DROP SCHEMA IF EXISTS ${schema}_q CASCADE`)
  await client.end()
}
