/**
 * Write dispositions into Hopsworks and the load report from the feature group's commit details
 * (CommitResource / CommitDTO: rows inserted, updated, deleted; nothing about unchanged rows or totals).
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import type { WriteDisposition } from '../../lib/load/sink.ts'
import type { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

async function load(emu: HopsworksEmulator, rows: number, write?: WriteDisposition, prefix = 'u') {
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, ...(write ? { write } : {}) })
  await pipeline(batches(prostateColumns, prostateRows(rows, prefix)), sink.writable)
  return sink
}

t.test('merge: the figures of the commit the job made; a re-run of the same rows updates, adds none', async (t) => {
  const emu = await startEmulator(t)
  const first = await (await load(emu, 10)).commit()
  t.same(first.report, { write: 'merge', inserted: 10, updated: 0, unchanged: null, deleted: 0, rowsBefore: null, rowsAfter: null })
  const again = await (await load(emu, 10)).commit()
  t.same(again.report, { write: 'merge', inserted: 0, updated: 10, unchanged: null, deleted: 0, rowsBefore: null, rowsAfter: null }, 'Hopsworks counts equal rows as updated: unchanged is unknown')
  t.equal(emu.rows('prostate_group', 1).length, 10, 'no duplicates')
  t.same(first.warnings, undefined)
})

t.test('append (keys the run made): every row inserted', async (t) => {
  const emu = await startEmulator(t)
  await (await load(emu, 10)).commit()
  const s = await (await load(emu, 7, 'append', 'n')).commit()
  t.match(s.report, { write: 'append', inserted: 7, updated: 0 })
  t.equal(emu.rows('prostate_group', 1).length, 17)
})

t.test('replace: a new version holds exactly this load; the old one is untouched', async (t) => {
  const emu = await startEmulator(t)
  await (await load(emu, 20)).commit()
  const s = await (await load(emu, 5, 'replace', 'r')).commit()
  t.same(s.featureGroup, { name: 'prostate_group', version: 2 })
  t.same(s.report, { write: 'replace', inserted: 5, updated: 0, unchanged: null, deleted: 0, rowsBefore: 0, rowsAfter: 5 })
  t.equal(emu.rows('prostate_group', 2).length, 5)
  t.equal(emu.rows('prostate_group', 1).length, 20, 'version 1 as it was')
  const third = await (await load(emu, 3, 'replace', 'q')).commit()
  t.equal(third.featureGroup.version, 3)
})

t.test('replace whose job fails, or that is aborted: the new version is deleted, the old one stays', async (t) => {
  const emu = await startEmulator(t)
  await (await load(emu, 20)).commit()
  emu.failNextJob('FAILED')
  await t.rejects((await load(emu, 5, 'replace')).commit(), { code: 'ETL_HOPSWORKS_JOB' })
  t.notOk(emu.featureGroup('prostate_group', 2), 'no empty version 2 left behind')
  const aborted = await load(emu, 5, 'replace')
  t.ok(emu.featureGroup('prostate_group', 2))
  await aborted.abort()
  t.notOk(emu.featureGroup('prostate_group', 2))
  t.equal(emu.rows('prostate_group', 1).length, 20)
})

t.test('commit details the server does not give: the figures are unknown, with a warning when the call failed', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'commits', nth: 2, status: 500, times: 10 })
  const s = await (await load(emu, 10)).commit()
  t.same(s.report, { write: 'merge', inserted: null, updated: null, unchanged: null, deleted: null, rowsBefore: null, rowsAfter: null })
  t.match(s.warnings, [/^the feature group's commit details could not be read/])
  t.equal(emu.rows('prostate_group', 1).length, 10)
})

t.test('an unknown write disposition is refused before any call', async (t) => {
  const emu = await startEmulator(t)
  await t.rejects(hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, write: 'upsert' as never }), { code: 'ETL_INVALID_OPTION' })
  t.equal(emu.calls.length, 0)
})
