import { pipeline } from 'node:stream/promises'
import t from 'tap'
import type { EtlError } from '../../lib/errors.ts'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

async function staged(emu: Awaited<ReturnType<typeof startEmulator>>, n = 50, extra: object = {}) {
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, ...extra })
  await pipeline(batches(prostateColumns, prostateRows(n)), sink.writable)
  return sink
}

t.test('a job that ends FAILED: ETL_HOPSWORKS_JOB, the feature group unchanged', async (t) => {
  const emu = await startEmulator(t)
  await (await staged(emu, 20)).commit()
  emu.failNextJob('FAILED')
  const sink = await staged(emu, 50)
  const err = await sink.commit().then(() => undefined, (e: unknown) => e as EtlError)
  t.equal(err?.code, 'ETL_HOPSWORKS_JOB')
  t.equal(err?.exitCode, 1)
  t.match(err?.message, /^the ingestion job prostate_group_1_insert_fg_\d{14} \(execution \d+\) ended FAILED \(state FAILED\): nothing was written to feature group prostate_group version 1; see the job's logs in Hopsworks \(\/Projects\/logs\/.+\/stderr\.log\)\. The uploaded files stay in \/Projects\/demo\/Ingestion\/prostate_group_1\d+ and the job prostate_group_1_insert_fg_\d{14} is kept\.$/)
  t.match(err?.details, { state: 'FAILED', finalStatus: 'FAILED' })
  t.equal(emu.rows('prostate_group', 1).length, 20, 'still the 20 rows of the first load')
})

t.test('KILLED, and FINISHED with finalStatus FAILED, are failures too (finalStatus decides)', async (t) => {
  const emu = await startEmulator(t)
  emu.failNextJob('KILLED')
  await t.rejects((await staged(emu)).commit(), { code: 'ETL_HOPSWORKS_JOB', details: { finalStatus: 'KILLED' } })
  emu.failNextJob('FAILED', 'FINISHED')
  await t.rejects((await staged(emu)).commit(), { code: 'ETL_HOPSWORKS_JOB', details: { state: 'FINISHED', finalStatus: 'FAILED' } })
  t.equal(emu.rows('prostate_group', 1).length, 0)
})

t.test('a job that does not finish in time: ETL_TIMEOUT', async (t) => {
  const emu = await startEmulator(t, { executionSteps: 1000 })
  const sink = await staged(emu, 5, { pollIntervalMs: 5, jobTimeoutMs: 60 })
  await t.rejects(sink.commit(), { code: 'ETL_TIMEOUT', message: /^the ingestion job \S+ \(execution \d+\) did not finish within 0 s \(last state [A-Z_]+\); it may still be running in Hopsworks$/ })
})

t.test('the job polls at the configured interval and reports progress', async (t) => {
  const emu = await startEmulator(t, { executionSteps: 5 })
  const states: string[] = []
  const sink = await staged(emu, 5, { pollIntervalMs: 20, onProgress: (p: { phase: string; state?: string }) => p.phase === 'job' && states.push(p.state!) })
  const started = Date.now()
  await sink.commit()
  t.ok(Date.now() - started >= 5 * 20 - 5, 'five polls, 20 ms apart')
  t.same(states, ['INITIALIZING', 'SUBMITTED', 'RUNNING', 'RUNNING', 'RUNNING', 'FINISHED'])
  t.equal(emu.count('getExecution'), 5)
})

t.test('state FAILED or KILLED while the final status is still UNDEFINED is a failure, at once', async (t) => {
  const emu = await startEmulator(t)
  for (const state of ['FAILED', 'KILLED']) {
    emu.failNextJob('UNDEFINED', state)
    const sink = await staged(emu, 5, { jobTimeoutMs: 60_000 })
    const polls = emu.count('getExecution')
    await t.rejects(sink.commit(), { code: 'ETL_HOPSWORKS_JOB', details: { state, finalStatus: 'UNDEFINED' } }, state)
    t.ok(emu.count('getExecution') - polls <= 4, `${state}: no waiting for a final status that never comes`)
  }
  t.equal(emu.rows('prostate_group', 1).length, 0)
})

t.test('FINISHED with an UNDEFINED final status for several polls: an error saying the outcome is unknown', async (t) => {
  const emu = await startEmulator(t)
  emu.failNextJob('UNDEFINED', 'FINISHED')
  const sink = await staged(emu, 5, { jobTimeoutMs: 60_000 })
  await t.rejects(sink.commit(), { code: 'ETL_HOPSWORKS_JOB', message: /is FINISHED but its final status stayed UNDEFINED for 5 polls: whether it wrote feature group prostate_group version 1 is unknown/, details: { started: true } })
})
