/**
 * node bench/ids.ts [ROWS]: what stable ids and incremental loads cost, on a prostate-shaped table of ROWS rows
 * (default 1M) with a primary key `id` and an `updated_at`, against `psql \copy` in the same run. Prints, for
 * `etl run` into the local store: --id nanoid (random ids), the default --id derived over the primary key, and
 * derived over every column + occurrence (the same rows without a primary key); then an incremental run after
 * 1% new rows (rows extracted, time). Wall time, CPU (user + system, /usr/bin/time -v) and the ratio etl/psql.
 * Wrap it in `flock /tmp/bench.lock`. Not a test.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { identitySql } from '../lib/extract/identity.ts'

const n = Number(process.argv[2] ?? 1_000_000)
const base = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: process.env['PGDATABASE'] ?? 'test' }
const etl = fileURLToPath(new URL('../bin/etl.js', import.meta.url))
const env = { ...process.env, PGHOST: base.host, PGPORT: String(base.port), PGUSER: base.user, PGDATABASE: base.database }

function timed(cmd: string, args: string[]): { seconds: number; cpu: number; stdout: string } {
  const started = performance.now()
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28 })
  const seconds = (performance.now() - started) / 1000
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`)
  const user = Number(/User time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN)
  const sys = Number(/System time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN)
  return { seconds, cpu: user + sys, stdout: r.stdout }
}

const client = new pg.Client(base)
await client.connect()
const schema = `bench_ids_${process.pid}`
await client.query(`CREATE SCHEMA ${schema}`)
const work = mkdtempSync(join(tmpdir(), 'etl-bench-ids-'))
// Only the row count: the bench measures ids and loading, not the prostate suite's checks.
const suite = join(work, 'suite.json')
writeFileSync(suite, JSON.stringify({ expectation_suite_name: 'bench', expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } }] }))
try {
  const make = (table: string, from: number, to: number) => `INSERT INTO ${table} SELECT g, (random()*5.8-1.9)::float8, (2.4+random()*2.3)::float8, (41 + g % 39)::int,
    (random()*3-1.4)::float8, (random()*4-1.4)::float8, (6 + g % 4)::int, (g % 101)::int, (random()*6-0.4)::float8, (g % 2)::int,
    timestamptz '2026-01-01' + g * interval '1 millisecond' FROM generate_series(${from}, ${to}) g`
  const cols = 'id int, lcavol float8, lweight float8, age int, lbph float8, lcp float8, gleason int, pgg45 int, lpsa float8, target int, updated_at timestamptz'
  await client.query(`CREATE TABLE ${schema}.keyed (${cols}, PRIMARY KEY (id))`)
  await client.query(make(`${schema}.keyed`, 1, n))
  await client.query(`CREATE TABLE ${schema}.nokey AS SELECT * FROM ${schema}.keyed`)
  await client.query(`ANALYZE ${schema}.keyed; ANALYZE ${schema}.nokey`)
  const psql = Math.min(...[0, 1].map(() => timed('psql', ['-q', '-c', `\\copy (select * from ${schema}.keyed) to '/dev/null' csv`]).seconds))
  console.log(`rows ${n}: psql \\copy ${psql.toFixed(2)} s`)
  // The server's side of derived ids: the same \copy of the source query with the id column, as pgSource sends it.
  const columns = (await client.query(`SELECT * FROM ${schema}.keyed LIMIT 0`)).fields.map((f) => ({ name: f.name, type: 'text' }))
  for (const [label, table, key] of [['primary key', 'keyed', { kind: 'primary-key', columns: ['id'] }], ['every column + occurrence', 'nokey', { kind: 'row', columns: columns.map((c) => c.name) }]] as const) {
    const sql = identitySql(`SELECT * FROM ${schema}.${table}`, columns, key, 'user_id').text
    const s = Math.min(...[0, 1].map(() => timed('psql', ['-q', '-c', `\\copy (${sql}) to '/dev/null' csv`]).seconds))
    console.log(`psql \\copy with the derived id (${label}): ${s.toFixed(2)} s (+${(s - psql).toFixed(2)} s, server side)`)
  }
  const run = (label: string, table: string, extra: string[], dir = mkdtempSync(join(work, 'd-'))) => {
    const r = timed(process.execPath, [etl, 'run', '--table', `${schema}.${table}`, '--sink', 'local', '--suite', suite, '--data-dir', dir, '--quiet', '--json', ...extra])
    const record = JSON.parse(r.stdout) as { summary: { counts: { extracted: number }; load: { report: unknown } } }
    console.log(`${label}: ${r.seconds.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s (${(r.cpu / (n / 1e6)).toFixed(2)} CPU s per 1M rows), ratio etl/psql ${(psql / r.seconds).toFixed(3)}, extracted ${record.summary.counts.extracted}`)
    return dir
  }
  run('--id nanoid (random)', 'keyed', ['--id', 'nanoid'])
  run('--id derived over the primary key (default)', 'keyed', [])
  run('--id derived over every column + occurrence (no primary key)', 'nokey', [])
  const dir = run('--incremental updated_at, first run (every row)', 'keyed', ['--incremental', 'updated_at'])
  const extra = Math.round(n / 100)
  await client.query(make(`${schema}.keyed`, n + 1, n + extra))
  run(`--incremental updated_at after ${extra} new rows (1%)`, 'keyed', ['--incremental', 'updated_at'], dir)
  const wm = readFileSync(join(dir, 'watermarks', (spawnSync('ls', [join(dir, 'watermarks')], { encoding: 'utf8' }).stdout.split('\n').find((f) => f.startsWith('prostate_group_1.')))!), 'utf8')
  console.log(`watermark after: ${JSON.parse(wm).value}`)
} finally {
  rmSync(work, { recursive: true, force: true })
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.end()
}
