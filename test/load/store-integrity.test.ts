/**
 * A damaged local store is refused (ETL_STORE_INTEGRITY naming the file and what differs) by the next load and by
 * `etl store verify`; `--repair` rebuilds what can be rebuilt and says what is lost.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { localSink } from '../../lib/load/local-sink.ts'
import { verifyStore } from '../../lib/load/store-verify.ts'
import type { Row } from '../../lib/types.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { batches, prostateColumns, prostateRows } from '../support/hopsworks/data.ts'
import { storeState } from '../support/store.ts'

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'etl-integrity-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await load(dir, prostateRows(3000))
  const location = join(dir, 'feature_store', 'prostate_group_1')
  const manifest = JSON.parse(await readFile(join(location, 'manifest.json'), 'utf8')) as { buckets: number; parts: { file: string; rows: number }[] }
  const part = join(location, manifest.parts[3]!.file)
  return { dir, location, manifest, part, file: manifest.parts[3]!.file, rows: manifest.parts[3]!.rows }
}

async function load(dir: string, rows: Row[]) {
  const sink = await localSink({ dataDir: dir, columns: prostateColumns, lockTimeoutMs: 0 })
  await pipeline(batches(prostateColumns, rows), sink.writable)
  return sink.commit()
}

const lines = async (path: string) => (await readFile(path, 'utf8')).split(/(?<=\n)/)

t.test('a part cut at a line boundary: refused; --repair keeps what is there and says which rows are lost', async (t) => {
  const s = await setup(t)
  const l = await lines(s.part)
  await writeFile(s.part, l.slice(0, -3).join(''))
  await t.rejects(load(s.dir, prostateRows(10, 'n')), { code: 'ETL_STORE_INTEGRITY', message: new RegExp(`^${s.part.replace(/[.]/g, '\\.')}: it holds \\d+ bytes, the manifest says \\d+; the local feature store is damaged`) })
  t.same((await storeState(s.dir)).leftovers, [], 'the refused load left nothing (lock, staging)')
  const found = await verifyStore(s.dir)
  t.match(found.findings, [{ file: `prostate_group_1/${s.file}`, problem: `it holds ${s.rows - 3} distinct rows, the manifest says ${s.rows}`, lost: 3 }])
  const repaired = await verifyStore(s.dir, { repair: true })
  t.match(repaired.findings, [{ file: `prostate_group_1/${s.file}`, lost: 3 }])
  t.same((await verifyStore(s.dir)).findings, [], 'sound after the repair')
  t.equal((await storeState(s.dir)).rows!.size, 2997)
  t.match((await load(s.dir, prostateRows(3000))).report, { inserted: 3, unchanged: 2997, rowsAfter: 3000 }, 'a new load of the source brings the lost rows back')
})

t.test('a deleted header: refused; --repair gives it back with every row', async (t) => {
  const s = await setup(t)
  await writeFile(s.part, (await lines(s.part)).slice(1).join(''))
  await t.rejects(load(s.dir, prostateRows(10, 'n')), { code: 'ETL_STORE_INTEGRITY', message: /: it holds \d+ bytes, the manifest says \d+/ })
  t.match((await verifyStore(s.dir)).findings, [{ file: `prostate_group_1/${s.file}`, problem: /^its header line is missing/ }])
  const r = await verifyStore(s.dir, { repair: true })
  t.notOk(r.findings.some((f) => f.lost), 'nothing lost')
  const after = await storeState(s.dir)
  t.equal(after.rows!.size, 3000)
  t.same((await verifyStore(s.dir)).findings, [])
})

t.test('a duplicated line: refused; --repair keeps one row of the key', async (t) => {
  const s = await setup(t)
  const l = await lines(s.part)
  await writeFile(s.part, [...l.slice(0, 5), l[4]!, ...l.slice(5)].join(''))
  await t.rejects(load(s.dir, prostateRows(10, 'n')), { code: 'ETL_STORE_INTEGRITY' })
  t.match((await verifyStore(s.dir)).findings, [{ problem: /1 rows repeat a key/ }])
  await verifyStore(s.dir, { repair: true })
  const after = await storeState(s.dir)
  t.equal(after.rows!.size, 3000)
  t.equal(after.duplicates, 0)
  t.match((await load(s.dir, prostateRows(3000))).report, { unchanged: 3000, rowsBefore: 3000, rowsAfter: 3000 })
})

t.test('a manifest with another bucket count: refused; --repair rebuilds it from the parts', async (t) => {
  const s = await setup(t)
  const text = await readFile(join(s.location, 'manifest.json'), 'utf8')
  await writeFile(join(s.location, 'manifest.json'), text.replace('"buckets": 16', '"buckets": 8'))
  await t.rejects(load(s.dir, prostateRows(10, 'n')), { code: 'ETL_STORE_INTEGRITY', message: /manifest\.json: its checksum differs from its content/ })
  const r = await verifyStore(s.dir, { repair: true })
  t.match(r.findings, [{ file: 'prostate_group_1/manifest.json', repaired: 'rebuilt from the parts' }])
  t.match(r.groups, [{ group: 'prostate_group_1', rows: 3000, parts: 16 }])
  t.equal((await storeState(s.dir)).rows!.size, 3000)
  t.match((await load(s.dir, prostateRows(10, 'n'))).report, { inserted: 10, rowsAfter: 3010 })
})

t.test('a value changed in place (same size): the merge that reads the part refuses before committing; etl store verify exits 1', async (t) => {
  const s = await setup(t)
  const text = await readFile(s.part, 'utf8')
  const at = text.indexOf('\n') + 1
  await writeFile(s.part, text.slice(0, at) + (text[at] === '1' ? '2' : '1') + text.slice(at + 1))
  const rowsOfPart = (await lines(s.part)).slice(1).map((l) => l.split(',')[9]!)
  // A load with a row for that bucket reads the part and checks its sha256 first.
  const ids = prostateRows(3000).filter((r) => rowsOfPart.includes(String(r[9])))
  await t.rejects(load(s.dir, ids.slice(0, 5)), { code: 'ETL_STORE_INTEGRITY', message: /its sha256 is [0-9a-f]+, the manifest says [0-9a-f]+/ })
  t.same((await storeState(s.dir)).leftovers, [], 'nothing left by the refused commit')
  t.same((await readdir(s.location)).length, 18, 'the store as it was')
  const cli = await runEtl(['store', 'verify', '--data-dir', s.dir], { cwd: s.dir, env: cleanEnv() })
  t.equal(cli.code, 1)
  t.match(cli.stderr, /ETL_STORE_INTEGRITY/)
  t.match(cli.stdout, new RegExp(`prostate_group_1/${s.file.replace('.', '\\.')}: its sha256 differs from the manifest`))
  const fixed = await runEtl(['store', 'verify', '--repair', '--data-dir', s.dir], { cwd: s.dir, env: cleanEnv() })
  t.equal(fixed.code, 0, fixed.stderr)
  t.equal((await runEtl(['store', 'verify', '--data-dir', s.dir], { cwd: s.dir, env: cleanEnv() })).code, 0)
})
