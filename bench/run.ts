/**
 * npm run bench [-- [--extract | --profile] [--node-flags "--max-semi-space-size=8"] 1000000 5000000]: the whole `etl run`
 * (local sink, all stage files), or with --extract only `etl extract` (extracted.csv), or with --profile
 * `etl profile` (one streaming pass, the profile page), against the physical
 * limit, `psql \copy (select * from t) to /dev/null csv`, alternately in the same run, on prostate-shaped tables
 * made with generate_series. Prints rows/s, the ratio etl/psql, peak RSS and CPU time (user + system, from
 * /usr/bin/time -v: on a busy machine the CPU time says more than the wall time). `--node-flags` passes V8/Node
 * flags to the etl process (to measure heap settings). Not a test.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const command = process.argv.includes('--extract') ? 'extract' : process.argv.includes('--profile') ? 'profile' : 'run'
const flagsAt = process.argv.indexOf('--node-flags')
const nodeFlags = flagsAt > 0 ? (process.argv[flagsAt + 1] ?? '').split(/\s+/).filter(Boolean) : []
const sizes = process.argv.slice(2).filter((_, i, all) => all[i - 1] !== '--node-flags').map(Number).filter((n) => n > 0)
const rowsList = sizes.length ? sizes : [1_000_000]
const base = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: process.env['PGDATABASE'] ?? 'test' }
const etl = fileURLToPath(new URL('../bin/etl.js', import.meta.url))
const hasTime = spawnSync('/usr/bin/time', ['-V']).status !== null

interface Timed {
  readonly seconds: number
  readonly rssMb: number | undefined
  /** User + system CPU seconds. */
  readonly cpu: number | undefined
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Timed {
  const started = performance.now()
  const r = hasTime ? spawnSync('/usr/bin/time', ['-v', cmd, ...args], { env, encoding: 'utf8' }) : spawnSync(cmd, args, { env, encoding: 'utf8' })
  const seconds = (performance.now() - started) / 1000
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`)
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr)
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr)
  return { seconds, rssMb: m ? Number(m[1]) / 1024 : undefined, cpu: user && sys ? Number(user[1]) + Number(sys[1]) : undefined }
}

const client = new pg.Client(base)
await client.connect()
const schema = `bench_${process.pid}`
await client.query(`CREATE SCHEMA ${schema}`)
try {
  for (const n of rowsList) {
    const table = `${schema}.prostate_${n}`
    await client.query(`CREATE TABLE ${table} AS SELECT (random()*5.8-1.9)::float8 AS lcavol, (2.4+random()*2.3)::float8 AS lweight,
      (41 + g % 39)::int AS age, (random()*3-1.4)::float8 AS lbph, (random()*4-1.4)::float8 AS lcp, (6 + g % 4)::int AS gleason,
      (g % 101)::int AS pgg45, (random()*6-0.4)::float8 AS lpsa, (g % 2)::int AS target FROM generate_series(1, ${n}) g`)
    await client.query(`ANALYZE ${table}`)
    const env = { ...process.env, PGHOST: base.host, PGPORT: String(base.port), PGUSER: base.user, PGDATABASE: base.database }
    const psql: number[] = []
    const runs: Timed[] = []
    let psqlRss: number | undefined
    for (let i = 0; i < 2; i++) {
      const p = timed('psql', ['-q', '-c', `\\copy (select * from ${table}) to '/dev/null' csv`], env)
      psql.push(p.seconds)
      psqlRss = p.rssMb
      const dir = mkdtempSync(join(tmpdir(), 'etl-bench-'))
      try {
        runs.push(timed(process.execPath, [...nodeFlags, etl, command, '--table', table, ...(command === 'run' ? ['--sink', 'local'] : []), '--data-dir', dir, '--quiet'], env))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
    const bestPsql = Math.min(...psql)
    const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b))
    const maxRss = Math.max(...runs.map((r) => r.rssMb ?? 0))
    console.log(`rows ${n}: psql \\copy ${(n / bestPsql / 1000).toFixed(0)}k rows/s (${bestPsql.toFixed(2)} s, RSS ${psqlRss?.toFixed(0) ?? '?'} MB)`)
    const cpu = best.cpu === undefined ? '' : `, CPU ${best.cpu.toFixed(2)} s`
    const flags = nodeFlags.length ? ` [node ${nodeFlags.join(' ')}]` : ''
    console.log(`rows ${n}: etl ${command}${flags}  ${(n / best.seconds / 1000).toFixed(0)}k rows/s (${best.seconds.toFixed(2)} s${cpu}, peak RSS ${maxRss.toFixed(0)} MB), ratio etl/psql ${(bestPsql / best.seconds).toFixed(3)}`)
  }
} finally {
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.end()
}
