/**
 * Uploads as the server takes them (the emulator follows UploadController and the Python client's
 * dataset_api.py): the upload policy, a full HopsFS, chunk 1's placeholder when its answer is lost,
 * the sizes compared before the job starts, chunks and files in parallel.
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink, type HopsworksSinkOptions } from '../../lib/load/hopsworks/index.ts'
import type { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

const open = (emu: HopsworksEmulator, extra: Partial<HopsworksSinkOptions> = {}) =>
  hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, ...extra })

t.test('upload policy disabled: refused before anything is created, named as the policy', async (t) => {
  const emu = await startEmulator(t)
  emu.state.variables.set('upload_policy', 'disabled')
  await t.rejects(open(emu), { code: 'ETL_HOPSWORKS', message: /uploading files is disabled on Hopsworks at .* \(its upload_policy is disabled\).*This is not a missing API-key scope\. Nothing was created\./ })
  t.equal(emu.count('createFeatureGroup'), 0)
  t.equal(emu.count('ingestion'), 0)
})

t.test('upload policy admins_only: a non-admin is refused, an admin loads', async (t) => {
  const emu = await startEmulator(t)
  emu.state.variables.set('upload_policy', 'admins_only')
  await t.rejects(open(emu), { code: 'ETL_HOPSWORKS', message: /restricted to cluster administrators/ })
  emu.state.admins.add('meb10000')
  const sink = await open(emu)
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  await sink.commit()
  t.equal(emu.rows('prostate_group', 1).length, 10)
})

t.test('a policy the client cannot read: the server refuses the chunk (403 / 110056), told as the policy, not a scope', async (t) => {
  const emu = await startEmulator(t)
  emu.state.variables.set('upload_policy', 'disabled')
  emu.inject({ route: 'getVariable', status: 500, times: 10 })
  const sink = await open(emu)
  const err = await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable).then(() => undefined, (e: unknown) => e as Error & { code: string })
  t.equal(err?.code, 'ETL_HOPSWORKS')
  t.match(err?.message, /uploading files is not allowed on this cluster for this user \(its upload policy, 110056\); this is not a missing API-key scope/)
  await sink.abort()
  t.equal(emu.count('startExecution'), 0)
})

t.test('HopsFS full (110055): ETL_DISK_FULL, nothing loaded', async (t) => {
  const emu = await startEmulator(t)
  emu.state.diskFull = true
  const sink = await open(emu)
  await t.rejects(pipeline(batches(prostateColumns, prostateRows(10)), sink.writable), { code: 'ETL_DISK_FULL', message: /HopsFS\) is full/ })
  await sink.abort()
  t.equal(emu.rows('prostate_group', 1).length, 0)
})

t.test('chunk 1 answered, the answer lost: its repeat is told 110012 (the placeholder); the server is asked and holds it', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 1, drop: 'after' })
  const sink = await open(emu, { chunkSize: 4096 })
  await pipeline(batches(prostateColumns, prostateRows(500)), sink.writable)
  await sink.commit()
  const ups = emu.calls.filter((c) => c.route === 'upload')
  t.same(ups.slice(0, 2).map((c) => c.status), ['dropped', 400], 'the repeat of chunk 1 was told 110012')
  t.equal(emu.calls.filter((c) => c.route === 'uploadProbe').map((c) => c.status).join(), '200', 'asked once; the server holds chunk 1')
  t.equal(emu.rows('prostate_group', 1).length, 500, 'each row once')
})

t.test('a part whose size on the server differs from ours: the job is not started', async (t) => {
  const emu = await startEmulator(t)
  const sink = await open(emu, { parts: { rows: 100 } })
  await pipeline(batches(prostateColumns, prostateRows(300)), sink.writable)
  const [name, data] = emu.state.filesIn(sink.target.dataPath)[1]!
  emu.state.files.set(name, data.subarray(0, data.length - 10)) // damaged on the server
  await t.rejects(sink.commit(), { code: 'ETL_HOPSWORKS', message: new RegExp(`the uploaded files in ${sink.target.dataPath} do not match what was sent: ${name.split('/').pop()!.replace('.', '\\.')} \\(${data.length - 10} bytes, sent ${data.length}\\)\\. The ingestion job was not started`) })
  t.equal(emu.count('startExecution'), 0)
  await sink.abort()
  t.equal(emu.rows('prostate_group', 1).length, 0)
})

t.test('three chunks of a part and three parts at once', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 1, times: 10_000, delayMs: 5 })
  const one = await open(emu, { chunkSize: 4096, parts: { rows: 100_000 } })
  await pipeline(batches(prostateColumns, prostateRows(1000)), one.writable)
  t.equal(emu.peak('upload'), 3, 'one part: chunk 1, then three chunks at once')
  await one.commit()
  const emu2 = await startEmulator(t)
  emu2.inject({ route: 'upload', nth: 1, times: 10_000, delayMs: 5 })
  const many = await open(emu2, { parts: { rows: 50 } })
  await pipeline(batches(prostateColumns, prostateRows(1000)), many.writable)
  t.equal(emu2.peak('upload'), 3, 'one-chunk parts: three at once by default')
  await many.commit()
  t.equal(emu2.rows('prostate_group', 1).length, 1000)
})
