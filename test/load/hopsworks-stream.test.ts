/**
 * An existing stream feature group (what the Python client creates on 3.0 to 4.5): the ingestion job
 * writes it only to Kafka, the offline table waits for the group's materialization job. Refused by
 * default; with HOPSWORKS_STREAM_GROUPS=materialize the job is run after the ingestion.
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { featureGroupDto } from '../../lib/load/feature-group.ts'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import type { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

async function streamGroup(emu: HopsworksEmulator): Promise<void> {
  const res = await fetch(`${emu.url}/hopsworks-api/api/project/119/featurestores/1191/featuregroups`, {
    method: 'POST', headers: { authorization: `ApiKey ${emu.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...featureGroupDto(prostateColumns), type: 'streamFeatureGroupDTO' }),
  })
  if (res.status !== 201) throw new Error(`stream group not made: ${res.status} ${await res.text()}`)
}

t.test('refused by default, before anything is sent', async (t) => {
  const emu = await startEmulator(t)
  await streamGroup(emu)
  await t.rejects(hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast }), {
    code: 'ETL_HOPSWORKS_SCHEMA',
    message: /feature group prostate_group version 1 in project demo is a stream feature group: .*offline table stays empty until the group's materialization job runs\. Set HOPSWORKS_STREAM_GROUPS=materialize/,
  })
  t.equal(emu.count('ingestion'), 0, 'no ingestion job made')
})

t.test('without materialization the offline table would stay empty (the emulator as the server)', async (t) => {
  const emu = await startEmulator(t)
  await streamGroup(emu)
  const config = { ...hopsworksConfigFromEnv(emu.env({ HOPSWORKS_STREAM_GROUPS: 'materialize' }))! }
  emu.state.jobs.delete('prostate_group_1_offline_fg_materialization')
  await t.rejects(hopsworksSink({ config, columns: prostateColumns, ...fast }), { code: 'ETL_HOPSWORKS_SCHEMA', message: /has no materialization job/ })
})

t.test('materialize: the job runs after the ingestion; the offline table holds every row', async (t) => {
  const emu = await startEmulator(t)
  await streamGroup(emu)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env({ HOPSWORKS_STREAM_GROUPS: 'materialize' }))!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(40)), sink.writable)
  await sink.commit()
  t.equal(emu.rows('prostate_group', 1).length, 40, 'the offline table has the rows')
  t.same(emu.executions().map((e) => [e.job.replace(/\d{14}$/, '<stamp>'), e.finalStatus]), [['prostate_group_1_insert_fg_<stamp>', 'SUCCEEDED'], ['prostate_group_1_offline_fg_materialization', 'SUCCEEDED']])
  t.ok(emu.state.jobs.has('prostate_group_1_offline_fg_materialization'), 'the group\'s own job is kept')
})

t.test('materialize: a failed materialization says the rows are online only', async (t) => {
  const emu = await startEmulator(t)
  await streamGroup(emu)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env({ HOPSWORKS_STREAM_GROUPS: 'materialize' }))!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(5)), sink.writable)
  // the ingestion succeeds; the next started execution (the materialization) fails
  emu.runNextJob()
  emu.failNextJob('FAILED')
  await t.rejects(sink.commit(), { code: 'ETL_HOPSWORKS_JOB', message: /^the rows reached stream feature group prostate_group version 1 \(its topic and online store\), but writing them to the offline table failed: the materialization job prostate_group_1_offline_fg_materialization .*ended FAILED.*Run the job prostate_group_1_offline_fg_materialization again/, details: { loaded: 'online' } })
  t.same(emu.executions().map((e) => e.finalStatus), ['SUCCEEDED', 'FAILED'], 'the ingestion succeeded, the materialization failed')
  t.equal(emu.rows('prostate_group', 1).length, 0, 'the offline table is still empty')
})
