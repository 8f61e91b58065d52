/**
 * Starting and following the ingestion job when answers are lost: the
 * execution a start may have made is looked for (and waited for), never
 * confused with an earlier execution of a job of the same name, and a start
 * is sent again only when none is found; polls that keep failing say that
 * the job was started.
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

const idsOf = (rows: Record<string, unknown>[]) => rows.map((r) => String(r['user_id'])).sort()

t.test('a job name reused (same second): a lost start is not mistaken for the earlier execution of that name', async (t) => {
  const emu = await startEmulator(t, { jobClock: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) })
  const config = hopsworksConfigFromEnv(emu.env())!
  const options = { config, columns: prostateColumns, ...fast, http: { ...fast.http, timeoutMs: 200 } }
  const first = await hopsworksSink(options)
  await pipeline(batches(prostateColumns, prostateRows(20, 'a')), first.writable)
  const one = await first.commit()

  const second = await hopsworksSink(options)
  t.equal(second.target.jobName, first.target.jobName, 'the server reused the job name')
  t.not(second.target.dataPath, first.target.dataPath, 'with a data path of its own')
  await pipeline(batches(prostateColumns, prostateRows(30, 'b')), second.writable)
  emu.inject({ route: 'startExecution', drop: 'before' }) // no answer, and nothing started
  const two = await second.commit()
  t.not(two.job?.executionId, one.job?.executionId, 'the earlier execution was not taken for this one')
  t.equal(emu.count('startExecution'), 3, 'one start for the first load; for the second, the lost one and its repeat')
  t.same(idsOf(emu.rows('prostate_group', 1)), idsOf([...prostateRows(20, 'a'), ...prostateRows(30, 'b')].map((r) => ({ user_id: r[9] }))), 'both loads arrived')
})

t.test('a start answered too late: found by looking again, not started twice', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, http: { ...fast.http, timeoutMs: 300 } })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  // The server acts 500 ms after the request came: after the client gave up (300 ms), before its last look (600 ms later).
  emu.inject({ route: 'startExecution', delayMs: 500 })
  const summary = await sink.commit()
  t.equal(summary.job?.finalStatus, 'SUCCEEDED')
  t.equal(emu.count('startExecution'), 1, 'started once')
  t.equal(emu.executions().length, 1, 'one execution')
  t.equal(emu.rows('prostate_group', 1).length, 10)
})

t.test('a 503 to the start (a proxy that refused it): one look, then started again', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  emu.inject({ route: 'startExecution', status: 503 })
  const before = emu.count('listExecutions')
  const summary = await sink.commit()
  t.equal(summary.job?.finalStatus, 'SUCCEEDED')
  t.equal(emu.count('listExecutions') - before, 2, 'the look before the start, and one look after the 503')
  t.same(emu.calls.filter((c) => c.route === 'startExecution').map((c) => c.status), [503, 201])
})

t.test('polls that keep failing: the error keeps its code and says the job was started and may still finish', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, http: { ...fast.http, timeoutMs: 300, retries: 2 } })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  emu.inject({ route: 'getExecution', times: 100, delayMs: 1000 })
  await t.rejects(sink.commit(), {
    code: 'ETL_TIMEOUT',
    message: /^the ingestion job \S+ \(execution \d+\) was started, but following it failed: Hopsworks GET project\/119\/jobs\/\S+\/executions\/\d+: no answer within 300 ms \(3 attempts\)\. It may still finish in Hopsworks/,
    details: { started: true, network: 'ETIMEDOUT' },
  })
  const emu2 = await startEmulator(t)
  emu2.inject({ route: 'getExecution', times: 100, status: 500 })
  const other = await hopsworksSink({ config: hopsworksConfigFromEnv(emu2.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(10)), other.writable)
  await t.rejects(other.commit(), { code: 'ETL_HOPSWORKS', message: /was started, but following it failed: Hopsworks GET .* failed: HTTP 500/, details: { started: true, status: 500 } })
})

t.test('hopsworks.timeoutSeconds sets the per-call timeout of every call', async (t) => {
  const { HopsworksHttp } = await import('../../lib/load/hopsworks/http.ts')
  const env = { HOPSWORKS_HOST: 'http://127.0.0.1:1', HOPSWORKS_API_KEY: 'abcdefghijklmnop.secret', HOPSWORKS_PROJECT: 'demo' }
  t.equal(new HopsworksHttp(hopsworksConfigFromEnv(env)!).timeoutMs, 30_000, 'default 30 s')
  const config = hopsworksConfigFromEnv(env, { timeoutSeconds: 1.5 })!
  t.equal(config.timeoutMs, 1500)
  t.equal(new HopsworksHttp(config).timeoutMs, 1500)
  t.equal(new HopsworksHttp(config, { timeoutMs: 200 }).timeoutMs, 200, 'an explicit option wins')
  t.throws(() => hopsworksConfigFromEnv(env, { timeoutSeconds: 0 }), { code: 'ETL_CONFIG', message: /hopsworks\.timeoutSeconds must be a positive number/ })
})
