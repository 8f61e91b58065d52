import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

async function load(emu: Awaited<ReturnType<typeof startEmulator>>, n: number, extra: object = {}) {
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, parts: { rows: 200 }, chunkSize: 8192, ...extra })
  await pipeline(batches(prostateColumns, prostateRows(n), 100), sink.writable)
  return { sink, summary: await sink.commit() }
}

t.test('503s during the upload are survived by retries', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 2, times: 3, status: 503 })
  emu.inject({ route: 'upload', nth: 9, times: 1, status: 502 })
  emu.inject({ route: 'upload', nth: 12, times: 1, status: 429 })
  await load(emu, 1000)
  t.equal(emu.rows('prostate_group', 1).length, 1000)
  t.equal(emu.calls.filter((c) => c.route === 'upload' && c.status !== 200).length, 5, 'five chunk answers were errors')
})

t.test('dropped connections during the upload are survived (before and after the server acted)', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 1, drop: 'before' })
  emu.inject({ route: 'upload', nth: 4, times: 2, drop: 'after' })
  await load(emu, 1000)
  t.equal(emu.rows('prostate_group', 1).length, 1000)
  t.equal(emu.calls.filter((c) => c.status === 'dropped').length, 3)
})

t.test('a lost answer to the chunk that completes a file: the repeat is told 110012, which means done', async (t) => {
  const emu = await startEmulator(t)
  // one part of 150 rows fits one chunk: every upload call is a last chunk
  emu.inject({ route: 'upload', nth: 1, drop: 'after' })
  await load(emu, 150, { chunkSize: 1 << 20 })
  t.same(emu.calls.filter((c) => c.route === 'upload').map((c) => c.status), ['dropped', 400])
  t.equal(emu.rows('prostate_group', 1).length, 150)
})

t.test('503s and drops while polling are survived', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'getExecution', nth: 1, times: 2, status: 503 })
  emu.inject({ route: 'getExecution', nth: 4, drop: 'before' })
  emu.inject({ route: 'getProjectInfo', nth: 1, status: 504 })
  const { summary } = await load(emu, 300)
  t.equal(summary.job?.finalStatus, 'SUCCEEDED')
})

t.test('a create whose answer is lost is followed by a read, not a second create', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'createFeatureGroup', drop: 'after' })
  emu.inject({ route: 'startExecution', drop: 'after' })
  emu.inject({ route: 'createFeatureView', status: 502 })
  const { summary } = await load(emu, 300, { featureView: true })
  t.equal(emu.count('createFeatureGroup'), 1, 'one create')
  t.equal(emu.state.featureGroups.length, 1, 'one feature group')
  t.equal(emu.count('startExecution'), 1, 'one start')
  t.ok(emu.count('listExecutions') >= 1, 'the lost start was looked up')
  t.equal(emu.count('createFeatureView'), 2, 'the 502 (nothing made, the read found nothing) is created again')
  t.equal(emu.state.featureViews.size, 1)
  t.equal(summary.job?.finalStatus, 'SUCCEEDED')
  t.equal(emu.rows('prostate_group', 1).length, 300)
})

t.test('a create that got a 502 before the server acted: read finds nothing, create again', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'createFeatureGroup', status: 502 })
  await load(emu, 10)
  t.same(emu.calls.filter((c) => c.route === 'createFeatureGroup').map((c) => c.status), [502, 201])
  t.equal(emu.state.featureGroups.length, 1)
})

t.test('retries give up after the limit, saying how many attempts were made', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'upload', nth: 1, times: 100, status: 503 })
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, http: { ...fast.http, retries: 3 } })
  await t.rejects(pipeline(batches(prostateColumns, prostateRows(10)), sink.writable), {
    code: 'ETL_HOPSWORKS',
    message: /POST project\/119\/dataset\/upload\/%2FProjects%2Fdemo%2FIngestion%2Fprostate_group_1\d+ failed after 4 attempts: HTTP 503/,
  })
  t.equal(emu.count('upload'), 4)
  await sink.abort()
  t.equal(emu.count('startExecution'), 0)
})

t.test('a slow answer beyond the timeout is retried, then ETL_TIMEOUT', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'getProjectInfo', nth: 1, delayMs: 300 })
  const config = hopsworksConfigFromEnv(emu.env())!
  const ok = await hopsworksSink({ config, columns: prostateColumns, ...fast, http: { ...fast.http, timeoutMs: 100 } })
  t.ok(ok.target.featureGroupId, 'one slow answer: the retry succeeds')
  await ok.abort()
  emu.inject({ route: 'getProjectInfo', nth: 1, times: 3, delayMs: 300 })
  await t.rejects(hopsworksSink({ config, columns: prostateColumns, ...fast, http: { ...fast.http, timeoutMs: 100, retries: 2 } }), {
    code: 'ETL_TIMEOUT',
    message: 'Hopsworks GET project/getProjectInfo/demo: no answer within 100 ms (3 attempts)',
  })
})

t.test('a create is repeated only when it surely never arrived (connection refused)', async (t) => {
  const { createServer } = await import('node:http')
  const { HopsworksHttp } = await import('../../lib/load/hopsworks/http.ts')
  const server = createServer((_req, res) => {
    posts++
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":1}')
  })
  let posts = 0
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const http = new HopsworksHttp(hopsworksConfigFromEnv({ HOPSWORKS_HOST: `http://127.0.0.1:${port}`, HOPSWORKS_API_KEY: 'abcdefghijklmnop.x1', HOPSWORKS_PROJECT: 'demo' })!, { retryBaseMs: 100, retryMaxMs: 200, retries: 6 })
  setTimeout(() => server.listen(port, '127.0.0.1'), 150)
  const reply = await http.call({ method: 'POST', path: ['project', 1, 'featurestores', 2, 'featuregroups'], json: {}, retry: 'unsent' })
  t.equal(reply.status, 201)
  t.equal(posts, 1, 'refused attempts were repeated; the one that arrived was sent once')
})
