/**
 * `etl profile` and `etl suite suggest` against the real PostgreSQL: the
 * figures equal what PostgreSQL computes on the same table (exactly while a
 * column is small, within the stated error past that), the suggested suite
 * passes on the table it came from and fails on a copy with planted errors.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { profileStream, type ColumnProfile, type Profile } from '../../lib/profile/profile.ts'
import { HLL_ERROR, KLL_RANK_ERROR } from '../../lib/profile/sketches.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-profile-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const col = (p: Profile, name: string): ColumnProfile => {
  const c = p.columns.find((x) => x.name === name)
  if (!c) throw new Error(`no column ${name}`)
  return c
}

t.test('the prostate profile equals what PostgreSQL computes, every figure exact', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const res = await runEtl(['profile', '--json'], { cwd, env: cleanEnv(db.env) })
  t.equal(res.code, 0, res.stderr)
  const profile = JSON.parse(res.stdout) as Profile
  t.equal(profile.rows, 97)
  const cols = (await db.client.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'prostate' ORDER BY ordinal_position")).rows.map((r) => r.column_name as string)
  t.same(profile.columns.map((c) => c.name), cols, 'columns in table order')
  for (const name of cols) {
    const c = col(profile, name)
    const q = `SELECT count(*) FILTER (WHERE "${name}" IS NULL)::int AS nulls, count(DISTINCT "${name}")::int AS distinct, min("${name}")::float8 AS min, max("${name}")::float8 AS max,
      avg("${name}")::float8 AS mean, stddev_samp("${name}")::float8 AS stdev,
      percentile_disc(ARRAY[0.05,0.25,0.5,0.75,0.95]) WITHIN GROUP (ORDER BY "${name}")::float8[] AS qs FROM prostate`
    const pg = (await db.client.query(q)).rows[0]
    t.equal(c.nulls, pg.nulls, `${name}: nulls`)
    t.same(c.distinct, { value: pg.distinct, exact: true }, `${name}: distinct, exact`)
    t.equal(c.min, pg.min, `${name}: min`)
    t.equal(c.max, pg.max, `${name}: max`)
    t.ok(Math.abs(c.mean! - pg.mean) <= 1e-12 * Math.max(1, Math.abs(pg.mean)), `${name}: mean ${c.mean} vs ${pg.mean}`)
    t.ok(Math.abs(c.stdev! - pg.stdev) <= 1e-9 * Math.max(1, pg.stdev), `${name}: stdev ${c.stdev} vs ${pg.stdev}`)
    t.same(c.quantiles.value.map((x) => x.value), pg.qs, `${name}: quantiles as percentile_disc`)
    t.equal(c.histogram.value.reduce((s, b) => s + b.count, 0), 97 - pg.nulls, `${name}: the histogram holds every value`)
  }
  t.equal(col(profile, 'target').looksLike, 'flag')
  t.equal(col(profile, 'gleason').looksLike, 'category')
  t.equal(col(profile, 'lcavol').looksLike, 'measure')
  const page = await readFile(join(cwd, 'data/docs/profiles/prostate.html'), 'utf8')
  t.match(page, /<h1>Profile of prostate<\/h1>/)
  t.equal((page.match(/<svg class="chart"/g) ?? []).length, cols.length, 'a chart per column')
  t.notMatch(page, /<script/i, 'no script')
})

t.test('past 10,000 distinct values the sketches stay within their stated error', async (t) => {
  const db = await testDb(t)
  // 200,000 rows: a skewed measure, a key, a code column with repeats, some NULLs.
  await db.client.query(`CREATE TABLE big AS SELECT g AS id, (g % 7919) * (g % 13) + (g % 101) / 7.0 AS x,
    'AB-' || lpad((g % 50000)::text, 5, '0') AS code, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 3 END AS small FROM generate_series(1, 200000) g`)
  const src = pgSource(db.config, { table: 'big' })
  const sink = profileStream({ source: 'big' })
  await pipeline(src, sink)
  const p = await sink.profile
  t.equal(p.rows, 200000)
  const pg = (await db.client.query(`SELECT count(DISTINCT x)::int AS dx, count(DISTINCT code)::int AS dc, min(x)::float8 AS min, max(x)::float8 AS max,
    avg(x)::float8 AS mean, percentile_disc(ARRAY[0.05,0.25,0.5,0.75,0.95]) WITHIN GROUP (ORDER BY x)::float8[] AS qs FROM big`)).rows[0]
  const x = col(p, 'x')
  t.equal(x.distinct.exact, false, 'x: approximate distinct')
  t.ok(Math.abs(x.distinct.value - pg.dx) <= 4 * HLL_ERROR * pg.dx, `x: distinct ${x.distinct.value} vs ${pg.dx}`)
  t.equal(x.min, pg.min, 'min stays exact')
  t.equal(x.max, pg.max, 'max stays exact')
  t.ok(Math.abs(x.mean! - pg.mean) < 1e-9 * Math.abs(pg.mean), 'mean stays exact (to double rounding)')
  t.equal(x.quantiles.exact, false)
  // Each quantile's rank in the real data is within the stated rank error of the asked one.
  for (const [i, q] of [0.05, 0.25, 0.5, 0.75, 0.95].entries()) {
    const v = x.quantiles.value[i]!.value
    const { below } = (await db.client.query('SELECT (count(*) FILTER (WHERE x <= $1))::float8 / count(*) AS below FROM big', [v])).rows[0]
    t.ok(Math.abs(below - q) <= KLL_RANK_ERROR, `x: quantile ${q} -> ${v} has rank ${below.toFixed(4)} (PostgreSQL: ${pg.qs[i]})`)
  }
  const binned = x.histogram.value.reduce((s, b) => s + b.count, 0)
  t.ok(Math.abs(binned - 200000) <= 20, `approximate bins add up to the rows but for rounding: ${binned}`)
  const id = col(p, 'id')
  t.equal(id.looksLike, 'key')
  const code = col(p, 'code')
  t.ok(Math.abs(code.distinct.value - pg.dc) <= 4 * HLL_ERROR * pg.dc, `code: distinct ${code.distinct.value} vs ${pg.dc}`)
  t.equal(code.pattern, '^[A-Z]{2}\\-[0-9]{5}$', 'the codes\' shape')
  const small = col(p, 'small')
  t.same(small.distinct, { value: 3, exact: true })
  t.equal(small.nulls, 20000)
  t.same(small.mostCommon.value.map((v) => v.value).sort(), ['0', '1', '2'])
})

t.test('a suggested suite passes on its table and fails on a copy with planted errors', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const env = cleanEnv(db.env)
  const cwd = await workdir(t)
  const suitePath = join(cwd, 'suggested.json')
  const sug = await runEtl(['suite', 'suggest', '--out', suitePath], { cwd, env })
  t.equal(sug.code, 0, sug.stderr)
  const suite = JSON.parse(await readFile(suitePath, 'utf8'))
  const types = suite.expectations.map((e: { expectation_type: string }) => e.expectation_type)
  t.ok(types.includes('expect_table_row_count_to_be_between'))
  t.ok(types.includes('expect_table_columns_to_match_ordered_list'))
  t.ok(types.includes('expect_column_values_to_be_in_set'), 'a set for a low-cardinality column')
  t.ok(types.includes('expect_column_values_to_be_between'), 'ranges for measures')
  for (const e of suite.expectations) t.type(e.meta?.notes, 'string', `${e.expectation_type} says what it was inferred from`)

  const pass = await runEtl(['run', '--suite', suitePath], { cwd, env })
  t.equal(pass.code, 0, `passes on its own table: ${pass.stderr}`)

  await db.client.query('CREATE TABLE planted AS SELECT * FROM prostate')
  await db.client.query('UPDATE planted SET age = 150 WHERE ctid = (SELECT min(ctid) FROM planted)')
  await db.client.query('UPDATE planted SET gleason = 20 WHERE ctid = (SELECT max(ctid) FROM planted)')
  const other = await workdir(t)
  const fail = await runEtl(['run', '--table', 'planted', '--suite', suitePath], { cwd: other, env })
  t.equal(fail.code, 3, 'the planted errors fail the gate')
  t.match(fail.stderr, /ETL_QUALITY_GATE/)
  t.match(fail.stderr, /age/)
  t.match(fail.stderr, /gleason/)
})

t.test('etl suite without suggest is a usage error', async (t) => {
  const cwd = await workdir(t)
  const res = await runEtl(['suite', 'propose'], { cwd, env: cleanEnv({ PGHOST: '127.0.0.1', PGPORT: '1' }) })
  t.equal(res.code, 2)
  t.match(res.stderr, /ETL_USAGE: unknown suite command: propose \(expected suggest\)/)
})
