import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-run-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const exists = (p: string) => access(p).then(() => true, () => false)

async function storeRows(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, 'feature_store/prostate_group_1')
  const rows: string[] = []
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.csv')).sort()) {
    const lines = (await readFile(join(dir, f), 'utf8')).trim().split('\n')
    rows.push(...lines.slice(1).filter(Boolean))
  }
  return rows
}

t.test('the 97-row data passes the gate and loads; one age of 120 fails with exit 3 and loads nothing; warn loads', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const env = cleanEnv(db.env)
  const cwd = await workdir(t)
  const ok = await runEtl(['run', '--json'], { cwd, env })
  t.equal(ok.code, 0, ok.stderr)
  const record = JSON.parse(ok.stdout)
  t.equal(record.state, 'Completed')
  t.same(record.summary.counts, { extracted: 97, validated: 97, quarantined: 0, transformed: 97, dropped: 0, loaded: 97 })
  t.equal(record.summary.meta.success, true)
  t.equal((await storeRows(join(cwd, 'data'))).length, 97)
  t.match(ok.stderr, /loaded 97 rows locally into .*feature_store\/prostate_group_1/)

  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  const bad = await workdir(t)
  const gate = await runEtl(['run'], { cwd: bad, env })
  t.equal(gate.code, 3, gate.stderr)
  t.match(gate.stderr, /ETL_QUALITY_GATE: the quality gate stopped the load; nothing was loaded/)
  t.match(gate.stderr, /age.*1 of 97 unexpected/)
  t.notOk(await exists(join(bad, 'data/feature_store/prostate_group_1')), 'nothing loaded')
  t.ok(await exists(join(bad, 'data/extracted.csv')), 'stage files kept for inspection')
  t.ok(await exists(join(bad, 'data/extract_validation_results.csv')))
  const results = await readFile(join(bad, 'data/extract_validation_results.csv'), 'utf8')
  t.match(results, /\nage,failure,/)

  const warn = await runEtl(['run', '--on-invalid', 'warn'], { cwd: bad, env })
  t.equal(warn.code, 0, warn.stderr)
  t.match(warn.stderr, /WARNING: the data failed its quality gate but --on-invalid warn loads it anyway/)
  t.equal((await storeRows(join(bad, 'data'))).length, 97)
})

t.test('one pass equals the five pipelines run one after another (apart from ids and run time)', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const env = cleanEnv(db.env)
  const one = await workdir(t)
  const five = await workdir(t)
  const r = await runEtl(['run', '--id', 'sequential', '--quiet'], { cwd: one, env })
  t.equal(r.code, 0, r.stderr)
  for (const c of ['extract', 'validate', 'meta-validate', 'transform', 'load']) {
    const s = await runEtl([c, '--id', 'sequential', '--quiet'].filter((_a, i) => c === 'transform' || c === 'extract' || i < 1 || i > 2), { cwd: five, env })
    t.equal(s.code, 0, `${c}: ${s.stderr}`)
  }
  const dropDatetime = (csv: string) => csv.split('\n').map((l) => l.split(',').slice(0, -1).join(',')).join('\n')
  // meta-validate runs before transform in the five pipelines, so its count checks on later stages are skipped there:
  // the outcome (label, results) must be the same, the counts may be absent.
  const outcome = (csv: string) => csv.split('\n').map((l) => l.split(',').slice(0, 2).join(',')).join('\n')
  t.equal(outcome(await readFile(join(five, 'data/meta_extract_validation_results.csv'), 'utf8')), outcome(await readFile(join(one, 'data/meta_extract_validation_results.csv'), 'utf8')), 'meta-validation outcome equal')
  for (const f of ['extracted.csv', 'extract_validation_results.csv']) {
    t.equal(await readFile(join(five, 'data', f), 'utf8'), await readFile(join(one, 'data', f), 'utf8'), `${f} equal`)
  }
  // Sidecars: equal but for the extract's id (each extract is its own run) and transformed.csv's checksum (run time).
  const sidecar = async (dir: string, f: string) => {
    const s = JSON.parse(await readFile(join(dir, 'data', f), 'utf8'))
    t.match(s.lineage, { extractId: /Z-/, checksum: /^sha256:/ }, `${f} names its extract`)
    delete s.lineage.extractId
    if (f.startsWith('transformed')) delete s.sha256
    return s
  }
  for (const f of ['extracted.schema.json', 'transformed.schema.json']) t.same(await sidecar(five, f), await sidecar(one, f), `${f} equal`)
  t.equal(dropDatetime(await readFile(join(five, 'data/transformed.csv'), 'utf8')), dropDatetime(await readFile(join(one, 'data/transformed.csv'), 'utf8')), 'transformed.csv equal but for the run time')
  t.same((await storeRows(join(five, 'data'))).map((l) => l.split(',').slice(0, -1).join(',')).sort(), (await storeRows(join(one, 'data'))).map((l) => l.split(',').slice(0, -1).join(',')).sort(), 'same rows loaded')
})

t.test('with --invalid-rows quarantine the five pipelines take the quarantined rows out as the one pass does', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid IN (SELECT ctid FROM prostate LIMIT 2)')
  const env = cleanEnv(db.env)
  const one = await workdir(t)
  const five = await workdir(t)
  const flags = ['--invalid-rows', 'quarantine', '--on-invalid', 'warn']
  const r = await runEtl(['run', ...flags, '--quiet'], { cwd: one, env })
  t.equal(r.code, 0, r.stderr)
  const steps: [string, string[]][] = [['extract', []], ['validate', ['--invalid-rows', 'quarantine']], ['transform', []], ['meta-validate', []], ['load', ['--on-invalid', 'warn']]]
  for (const [c, extra] of steps) {
    const s = await runEtl([c, ...extra, '--quiet'], { cwd: five, env })
    t.equal(s.code, c === 'validate' || c === 'meta-validate' ? 3 : 0, `${c}: ${s.stderr}`)
  }
  t.equal((await readFile(join(five, 'data/quarantine.csv'), 'utf8')).trim().split('\n').length, 3, 'two rows quarantined (and the header)')
  t.ok(await exists(join(five, 'data/validated.csv')), 'etl validate wrote the rows that passed')
  const counts = JSON.parse(await readFile(join(five, 'data/transformed.schema.json'), 'utf8'))
  t.equal(counts.rows, 95, 'etl transform read the validated rows, not all extracted ones')
  const meta = await readFile(join(five, 'data/meta_extract_validation_results.csv'), 'utf8')
  t.match(meta, /,success,transform_accounts_for_all,/, 'transformed + quarantined + dropped = validated')
  t.equal((await storeRows(join(five, 'data'))).length, 95)
  t.equal((await storeRows(join(one, 'data'))).length, 95)

  const again = await runEtl(['extract', '--quiet'], { cwd: five, env })
  t.equal(again.code, 0, again.stderr)
  t.notOk(await exists(join(five, 'data/validated.csv')), 'a new extract removes the validated rows of the old one')
  const keep = await runEtl(['validate', '--quiet', '--json'], { cwd: five, env })
  t.equal(keep.code, 3, keep.stderr)
  t.notOk(await exists(join(five, 'data/validated.csv')), 'validating without quarantine writes no validated.csv')
  const record = JSON.parse(keep.stdout)
  t.match(record, { state: 'Failed', error: { code: 'ETL_QUALITY_GATE' }, summary: { validation: { success: false } } }, 'a failed validation is a Failed run, as its exit code 3 says')
  t.match(keep.stderr, /ETL_QUALITY_GATE: the validation FAILED: 1 of 6 expectations failed over 97 rows; results: /)
  t.ok(await exists(join(five, 'data/extract_validation_results.csv')), 'the results are written all the same')
  const warned = await runEtl(['validate', '--on-invalid', 'warn', '--json'], { cwd: five, env })
  t.equal(warned.code, 0, warned.stderr)
  t.equal(JSON.parse(warned.stdout).state, 'Completed')
  t.match(warned.stderr, /validation FAILED: 5\/6 expectations over 97 rows/)
})

t.test('SIGTERM mid-run: a clean stop, nothing committed, the run recorded as Cancelled', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE prostate AS SELECT (41 + g % 39)::int AS age, (g % 2)::int AS target, 1.0::float8 AS lcavol, 3.0::float8 AS lweight, 6 AS gleason, 0 AS pgg45 FROM generate_series(1, 3000000) g')
  const cwd = await workdir(t)
  const r = await runEtl(['run', '--batch-size', '500'], {
    cwd, env: cleanEnv(db.env),
    onSpawn: (child) => {
      const timer = setInterval(async () => {
        if (await exists(join(cwd, 'data/runs'))) {
          clearInterval(timer)
          setTimeout(() => child.kill('SIGTERM'), 700)
        }
      }, 50)
    },
  })
  t.equal(r.code, 143, `128 + SIGTERM's 15\n${r.stderr}`)
  t.match(r.stderr, /ETL_CANCELLED: the run was stopped by a signal; nothing was committed/)
  t.notOk(await exists(join(cwd, 'data/feature_store/prostate_group_1')), 'nothing committed')
  t.notOk(await exists(join(cwd, 'data/transformed.csv')), 'no complete-looking stage file')
  const leftovers = (await readdir(join(cwd, 'data'))).filter((f) => f.endsWith('.tmp'))
  t.same(leftovers, [], 'temporary files removed')
  const [rec] = await readdir(join(cwd, 'data/runs'))
  t.equal(JSON.parse(await readFile(join(cwd, 'data/runs', rec!), 'utf8')).state, 'Cancelled')
})
