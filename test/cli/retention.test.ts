/**
 * Retention over 500 runs: a few real `etl run`s, then 500 more made quickly
 * (the real record under new ids, one a minute apart, all in the hour before
 * the real ones, oldest first) each followed by what a
 * run does at its end (keepHistory: retention, its page, its row in the kept
 * index). The folder stays bounded, the index lists exactly the kept runs,
 * newest first, and `etl docs` rebuilds the same list.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { keepHistory } from '../../lib/cli/run-flow.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { applyRetention, newRunId, type RunRecord } from '../../lib/flow/index.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const quiet = { info() {}, warn(m: string) { throw new Error(`unexpected warning: ${m}`) } }

function folderBytes(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size
  return n
}

const ids = (dir: string, ext: string) => readdirSync(dir).filter((n) => n.endsWith(ext)).map((n) => n.slice(0, -ext.length)).sort()
const indexRuns = (data: string) => [...readFileSync(join(data, 'docs/index.html'), 'utf8').matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1])

t.test('retention keeps the data folder bounded over 500 runs; the index stays right', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = t.testdir()
  const data = join(cwd, 'data')
  const env = cleanEnv(db.env)
  for (let i = 0; i < 3; i++) {
    const r = await runEtl(['run', '--keep-runs', '40', '--keep-days', '0'], { cwd, env })
    t.equal(r.code, 0, r.stderr)
  }
  const [realId] = ids(join(data, 'runs'), '.json')
  const real = JSON.parse(await readFile(join(data, 'runs', `${realId}.json`), 'utf8')) as RunRecord
  t.same(indexRuns(data), ids(join(data, 'runs'), '.json').reverse(), 'three real runs, newest first')

  const keep = 40
  const base = Date.parse(real.start) - 510 * 60_000
  let sizeAt100 = 0
  for (let i = 1; i <= 500; i++) {
    const at = new Date(base + i * 60_000)
    const record: RunRecord = { ...structuredClone(real), id: newRunId(at), start: at.toISOString(), end: new Date(at.getTime() + 900).toISOString() }
    await writeFile(join(data, 'runs', `${record.id}.json`), JSON.stringify(record))
    await keepHistory(data, record, { keepRuns: keep, keepDays: 0 }, quiet)
    if (i === 100) sizeAt100 = folderBytes(data)
  }
  const records = ids(join(data, 'runs'), '.json')
  t.equal(records.length, keep, `${keep} records kept`)
  t.same(ids(join(data, 'docs/runs'), '.html'), records, 'a page for each kept record, none for a removed one')
  t.same(indexRuns(data), [...records].reverse(), 'the index lists the kept runs, newest first')
  const kept = JSON.parse(await readFile(join(data, 'docs/index.json'), 'utf8')) as { entries: { id: string }[] }
  t.same(kept.entries.map((e) => e.id), [...records].reverse())
  const size = folderBytes(data)
  t.ok(size <= sizeAt100 * 1.02, `the folder stays bounded: ${size} bytes after 500 runs, ${sizeAt100} after 100`)
  const made: string[] = []
  for (let i = 1; i <= 500; i++) made.push(newRunId(new Date(base + i * 60_000)).slice(0, 19))
  t.same(records.map((id) => id.slice(0, 19)), [...made.slice(500 - (keep - 3)), ...records.slice(keep - 3).map((id) => id.slice(0, 19))], 'the newest made runs and the three real ones are kept')
  t.ok(records.slice(keep - 3).includes(realId!), 'the real runs are the newest')

  const r = await runEtl(['run', '--keep-runs', '40', '--keep-days', '0'], { cwd, env })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /retention: removed 1 run\(s\) past 40 runs \/ any days/)
  const after = ids(join(data, 'runs'), '.json')
  t.equal(after.length, keep)
  t.same(indexRuns(data), [...after].reverse(), 'a real run updates the index the same way')
  const incremental = readFileSync(join(data, 'docs/index.html'), 'utf8')
  const rebuilt = await runEtl(['docs'], { cwd, env })
  t.equal(rebuilt.code, 0, rebuilt.stderr)
  t.same(indexRuns(data), [...after].reverse(), 'etl docs rebuilds the same list')
  t.equal(readFileSync(join(data, 'docs/index.html'), 'utf8'), incremental, 'and the same page')
})

t.test('keep-days, a running record, expired cache entries', async (t) => {
  const data = t.testdir()
  const now = Date.parse('2026-06-01T12:00:00Z')
  const record = (at: number, state: RunRecord['state']) => {
    const id = newRunId(new Date(at))
    return { id, body: JSON.stringify({ version: 1, id, flow: 'f', state, start: new Date(at).toISOString(), tasks: [], summary: {}, hooks: [], notifications: [], host: 'h', pid: process.pid }) }
  }
  await mkdir(join(data, 'runs'))
  const old = record(now - 40 * 86_400_000, 'Completed')
  const oldRunning = record(now - 41 * 86_400_000, 'Running') // this process is alive: the run still goes
  const recent = record(now - 86_400_000, 'Failed')
  for (const r of [old, oldRunning, recent]) await writeFile(join(data, 'runs', `${r.id}.json`), r.body)
  await writeFile(join(data, 'runs', 'not-a-run.json'), '{}')
  await mkdir(join(data, 'cache'))
  await writeFile(join(data, 'cache', 'expired.json'), JSON.stringify({ version: 1, expiresAt: new Date(now - 1000).toISOString() }))
  await writeFile(join(data, 'cache', 'fresh.json'), JSON.stringify({ version: 1, expiresAt: new Date(now + 1000).toISOString() }))
  await writeFile(join(data, 'cache', 'forever.json'), JSON.stringify({ version: 1, expiresAt: null }))
  const removed = await applyRetention(data, { keepRuns: 100, keepDays: 30 }, { now })
  t.same(removed, { runs: [old.id], cacheEntries: 1 })
  t.same(readdirSync(join(data, 'runs')).sort(), [`${oldRunning.id}.json`, `${recent.id}.json`, 'not-a-run.json'].sort())
  t.same(readdirSync(join(data, 'cache')).sort(), ['forever.json', 'fresh.json'])
  t.same((await applyRetention(data, { keepRuns: 1, keepDays: 0 }, { now, keep: recent.id })).runs, [], 'the kept run and a running one stay')
  await t.rejects(applyRetention(data, { keepRuns: 0 }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option retention.keepRuns: expected an integer from 1 to 100000, got 0' })
})
