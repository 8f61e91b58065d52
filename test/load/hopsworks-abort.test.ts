import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import type { Batch } from '../../lib/types.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

t.test('abort after staging: the job is never started, the staged files and the job are removed', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, parts: { rows: 100 } })
  await pipeline(batches(prostateColumns, prostateRows(450)), sink.writable)
  const dataPath = sink.target.dataPath
  t.equal(emu.state.filesIn(dataPath).length, 5, 'five parts were staged')
  await sink.abort()
  t.equal(emu.count('startExecution'), 0, 'never started')
  t.equal(emu.state.filesIn(dataPath).length, 0, 'staged files removed')
  t.notOk(emu.state.dirs.has(dataPath), 'the data path is gone')
  t.notOk(emu.state.jobs.has(sink.target.jobName), 'the unused job is gone')
  t.equal(emu.rows('prostate_group', 1).length, 0)
  await sink.abort() // idempotent
  t.equal(emu.count('deleteDataset'), 1)
  await t.rejects(sink.commit(), { code: 'ETL_ABORTED' })
})

t.test('abort in the middle of an upload stops it and cleans up', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 3, delayMs: 200 })
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, parts: { rows: 50 } })
  const source = new Readable({ objectMode: true, read() {} })
  const done = pipeline(source, sink.writable).catch((e: unknown) => e)
  const rows = prostateRows(500)
  for (let i = 0; i < 10; i++) source.push({ columns: prostateColumns, rows: rows.slice(i * 50, i * 50 + 50) } satisfies Batch)
  while (emu.count('upload') < 3) await new Promise((r) => setTimeout(r, 5))
  await sink.abort()
  t.match(await done, { code: 'ETL_ABORTED' }, 'the writable ends with ETL_ABORTED')
  t.equal(emu.count('startExecution'), 0)
  await new Promise((r) => setTimeout(r, 250)) // the delayed chunk lands after the delete
  t.equal(emu.state.filesIn(sink.target.dataPath).length, 0, 'nothing is left in the data path')
})

t.test('abort before anything was written', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await sink.abort()
  t.notOk(emu.state.dirs.has(sink.target.dataPath))
  t.equal(emu.count('startExecution'), 0)
})

t.test('abort after a started job does nothing: the job decides', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  await sink.commit()
  const deletes = emu.count('deleteDataset')
  await sink.abort()
  t.equal(emu.count('deleteDataset'), deletes, 'abort() after the commit deletes nothing')
  t.equal(emu.rows('prostate_group', 1).length, 10)
})

t.test('after a successful job the one-off ingestion folder and our job are deleted; a cleanup that fails is a warning', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  const s = await sink.commit()
  t.same(s.warnings, undefined)
  t.notOk(emu.state.dirs.has(sink.target.dataPath), 'the ingestion folder is gone')
  t.notOk(emu.state.jobs.has(sink.target.jobName), 'our job is gone')
  t.equal(emu.rows('prostate_group', 1).length, 10)

  emu.inject({ route: 'deleteDataset', status: 403, times: 1 })
  const other = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(10, 'w')), other.writable)
  const s2 = await other.commit()
  t.match(s2.warnings, [new RegExp(`^the ingestion folder ${other.target.dataPath} could not be deleted: `)])
  t.equal(emu.rows('prostate_group', 1).length, 20, 'loaded all the same')
})
