/**
 * The local store on a small tmpfs (8 MB; the tests run as root): a full disk while staging and at the commit is
 * ETL_DISK_FULL (exit 1) naming the folder, leaves nothing behind, and a retry after freeing space works.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t, { type Test } from 'tap'
import { exitCodeOf } from '../../lib/errors.ts'
import { localSink } from '../../lib/load/local-sink.ts'
import type { Row } from '../../lib/types.ts'
import { batches, prostateColumns, prostateRows } from '../support/hopsworks/data.ts'
import { storeState } from '../support/store.ts'

async function tmpfs(t: Test, size = '8m'): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    await rm(dir, { recursive: true, force: true })
    t.comment('cannot mount a tmpfs here (needs root): not tested')
    t.pass('skipped')
    return undefined
  }
  t.teardown(async () => {
    execFileSync('umount', [dir])
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

async function load(dir: string, rows: Row[]) {
  const sink = await localSink({ dataDir: dir, columns: prostateColumns, lockTimeoutMs: 0 })
  try {
    await pipeline(batches(prostateColumns, rows), sink.writable)
  } catch (err) {
    await sink.abort()
    throw err
  }
  return sink.commit()
}

const changed = (rows: Row[]) => rows.map((r) => r.map((v, i) => (i === 2 ? 99 : v)))

t.test('full while staging: ETL_DISK_FULL naming the folder; the store as it was, nothing left; a retry after freeing space works', async (t) => {
  const dir = await tmpfs(t)
  if (!dir) return
  await load(dir, prostateRows(5000))
  const filler = join(dir, 'filler')
  await writeFile(filler, Buffer.alloc(1024 * 1024))
  const err = await load(dir, prostateRows(80_000, 'x')).then(() => undefined, (e: unknown) => e as { code: string; message: string })
  t.match(err, { code: 'ETL_DISK_FULL', message: `no space left in ${join(dir, 'feature_store')} while staging the rows` })
  t.equal(exitCodeOf('ETL_DISK_FULL'), 1)
  const s = await storeState(dir)
  t.equal(s.rows!.size, 5000, 'the store as it was')
  t.same(s.leftovers, [], 'no staging folder or lock left')
  await rm(filler)
  t.match((await load(dir, prostateRows(30_000, 'x'))).report, { inserted: 30_000, rowsAfter: 35_000 }, 'the retry fits once space is freed')
})

t.test('full at the commit: refused before writing when even the new rows cannot fit, with the space needed; nothing left; a retry after freeing space works', async (t) => {
  const dir = await tmpfs(t)
  if (!dir) return
  const rows = prostateRows(20_000)
  await load(dir, rows) // ~1.6 MB
  const filler = join(dir, 'filler')
  await writeFile(filler, Buffer.alloc(3.5 * 1024 * 1024))
  const err = await load(dir, changed(rows)).then(() => undefined, (e: unknown) => e as { code: string; message: string; details: { needed: number; free: number } })
  t.match(err, { code: 'ETL_DISK_FULL', message: new RegExp(`^no space left in ${join(dir, 'feature_store').replace(/[.]/g, '\\.')} for the commit: it needs at least [\\d.]+ MB, [\\d.]+ MB are free`) })
  t.ok(err!.details.needed > err!.details.free)
  const s = await storeState(dir)
  t.equal(s.rows!.size, 20_000)
  t.equal(s.rows!.get('u10'), String(rows[10]![2]), 'the old rows')
  t.same(s.leftovers, [], 'the staged copy was removed before the refusal')
  t.same((await readdir(join(dir, 'feature_store', 'prostate_group_1'))).length, 18)
  await rm(filler)
  t.match((await load(dir, changed(rows))).report, { updated: 20_000, rowsAfter: 20_000 })
  t.equal((await storeState(dir)).rows!.get('u10'), '99')
})

t.test('full in the middle of the merge (the estimate passed): ETL_DISK_FULL, the new parts and the staged copy removed; a retry after freeing space works', async (t) => {
  const dir = await tmpfs(t)
  if (!dir) return
  await load(dir, prostateRows(20_000)) // ~1.6 MB
  const filler = join(dir, 'filler')
  await writeFile(filler, Buffer.alloc(3.5 * 1024 * 1024))
  // 10k new keys: every bucket is rewritten as its old rows plus the new ones (~2.4 MB), more than is free.
  const more = prostateRows(10_000, 'y')
  const err = await load(dir, more).then(() => undefined, (e: unknown) => e as { code: string; message: string })
  t.match(err, { code: 'ETL_DISK_FULL', message: new RegExp(`^no space left in .+ while committing \\(merging [\\d.]+ MB of staged rows with the stored ones\\); free some space there and run again \\(nothing was committed\\)$`) })
  const s = await storeState(dir)
  t.equal(s.rows!.size, 20_000, 'the store as it was')
  t.same(s.leftovers, [], 'nothing left behind')
  await rm(filler)
  t.match((await load(dir, more)).report, { inserted: 10_000, rowsAfter: 30_000 })
})
