/**
 * The emulator itself, spoken to over raw HTTP: it must answer as
 * ../shared/hopsworks/API.md says, whatever our client does.
 */
import got, { type Got } from 'got'
import t from 'tap'
import { startEmulator } from '../support/hopsworks/data.ts'

type Emu = Awaited<ReturnType<typeof startEmulator>>

function client(emu: Emu, key: string | null = emu.apiKey): Got {
  return got.extend({
    prefixUrl: `${emu.url}/hopsworks-api/api`, throwHttpErrors: false, retry: { limit: 0 }, responseType: 'json',
    headers: key === null ? {} : { authorization: key.startsWith('Bearer') ? key : `ApiKey ${key}` },
  })
}

const fgBody = (over: object = {}) => ({
  type: 'cachedFeaturegroupDTO', name: 'fg', version: 1, timeTravelFormat: 'HUDI', eventTime: 'ts',
  features: [{ name: 'id', type: 'string', primary: true }, { name: 'x', type: 'double' }, { name: 'ts', type: 'timestamp' }], ...over,
})

function form(fields: Record<string, string | number>, data?: Buffer): FormData {
  const f = new FormData()
  for (const [k, v] of Object.entries(fields)) f.append(k, String(v))
  if (data) f.append('file', new Blob([data]), String(fields['flowFilename']))
  return f
}

t.test('API key check: codes, messages and the challenge header', async (t) => {
  const emu = await startEmulator(t)
  const [prefix, secret] = emu.apiKey.split('.') as [string, string]
  const cases: [string | null, number, number, string][] = [
    [null, 401, 200003, 'Authorization header not set.'],
    ['Bearer abc', 401, 200003, 'Invalidated Api key.'],
    [`${prefix}${secret}`, 401, 320012, 'Invalid or incorrect API key.'],
    [`${prefix}.x${secret}`, 401, 320012, 'Invalid or incorrect API key.'],
    [`AAAAAAAAAAAAAAAA.${secret}`, 401, 320013, 'API key not found in the database'],
    [emu.keys.create(['FEATURESTORE']), 403, 320004, 'No valid scope found for this invocation'],
  ]
  for (const [key, status, code, msg] of cases) {
    const res = await client(emu, key).get('project/getProjectInfo/demo')
    t.equal(res.statusCode, status)
    t.same(res.body, { errorCode: code, errorMsg: msg }, `${code} ${msg}`)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="Cauth Realm"')
  }
  const ok = await client(emu).get('project/getProjectInfo/demo')
  t.match(ok.body, { projectId: 119, projectName: 'demo' })
  t.same((await client(emu).get('project/getProjectInfo/other')).body, { errorCode: 150004, errorMsg: "Project wasn't found." })
  t.same((await client(emu).get('project/7/featurestores/x_featurestore')).body, { errorCode: 150004, errorMsg: "Project wasn't found." })
})

t.test('feature store by name (lowercased project + _featurestore) and by id', async (t) => {
  const emu = await startEmulator(t)
  const c = client(emu)
  t.match((await c.get('project/119/featurestores/demo_featurestore')).body, { featurestoreId: 1191, featurestoreName: 'demo_featurestore' })
  t.match((await c.get('project/119/featurestores/1191')).body, { featurestoreId: 1191 })
  t.match((await c.get('project/119/featurestores/other_featurestore')), { statusCode: 404, body: { errorCode: 270008 } })
})

t.test('feature group create: the name and type rules, already exists, versions', async (t) => {
  const emu = await startEmulator(t)
  const c = client(emu)
  const post = (b: object) => c.post('project/119/featurestores/1191/featuregroups', { json: b })
  const bad: [object, number, number][] = [
    [fgBody({ type: undefined }), 400, 270049],
    [fgBody({ name: 'Fg' }), 400, 270091],
    [fgBody({ name: 'a'.repeat(64) }), 400, 270091],
    [fgBody({ features: [{ name: 'Id', type: 'string', primary: true }] }), 400, 270040],
    [fgBody({ features: [{ name: 'id', primary: true }] }), 400, 270212],
    [fgBody({ features: [{ name: 'id', type: 'string', primary: true }, { name: 'id', type: 'int' }] }), 400, 270224],
    [fgBody({ eventTime: 'x', features: [{ name: 'id', type: 'string', primary: true }, { name: 'x', type: 'string' }] }), 400, 270171],
    [fgBody({ eventTime: 'nope' }), 400, 270172],
    [fgBody({ features: [{ name: 'ts', type: 'timestamp' }] }), 400, 270121],
  ]
  for (const [b, status, code] of bad) t.match(await post(b), { statusCode: status, body: { errorCode: code } }, `rejects with ${code}`)
  const created = await post(fgBody())
  t.equal(created.statusCode, 201)
  t.match(created.body, { id: Number, name: 'fg', version: 1, featurestoreId: 1191, features: [{ name: 'id', onlineType: 'varchar(100)', primary: true }] })
  t.match(await post(fgBody()), { statusCode: 400, body: { errorCode: 270089, errorMsg: 'The feature group you are trying to create does already exist.', usrMsg: 'project: demo, featurestoreId: 1191' } })
  t.match(await post(fgBody({ version: undefined })), { statusCode: 201, body: { version: 2 } }, 'no version: latest + 1')
  const got1 = await c.get('project/119/featurestores/1191/featuregroups/fg', { searchParams: { version: 1 } })
  t.ok(Array.isArray(got1.body) && (got1.body as unknown[]).length === 1, 'GET by name and version answers an array of one')
  t.match(await c.get('project/119/featurestores/1191/featuregroups/nope', { searchParams: { version: 1 } }), { statusCode: 404, body: { errorCode: 270009 } })
})

t.test('ingestion job, chunked upload rules, executions, ingestion by column name', async (t) => {
  const emu = await startEmulator(t)
  const c = client(emu)
  const fg = (await c.post('project/119/featurestores/1191/featuregroups', { json: fgBody() })).body as unknown as { id: number }
  const ing = await c.post(`project/119/featurestores/1191/featuregroups/${fg.id}/ingestion`, { json: { dataFormat: 'CSV', dataOptions: [{ name: 'header', value: 'true' }] } })
  const { dataPath, job } = ing.body as unknown as { dataPath: string; job: { name: string; jobType: string } }
  t.match(dataPath, /^\/Projects\/demo\/Ingestion\/fg_1\d{13}$/)
  t.match(job, { name: /^fg_1_insert_fg_\d{14}$/, jobType: 'PYSPARK' })

  const csv = Buffer.from('x,id,ts\n1.5,a,2024-01-01T00:00:00Z\n2.5,b,2024-01-02T00:00:00Z\n')
  const flow = { templateId: -1, flowChunkNumber: 1, flowChunkSize: 1048576, flowCurrentChunkSize: csv.length, flowTotalSize: csv.length, flowIdentifier: `${csv.length}_p1.csv`, flowFilename: 'p1.csv', flowRelativePath: 'p1.csv', flowTotalChunks: 1 }
  const up = (path: string, fields: object, data = csv) => c.post(`project/119/dataset/upload/${path}`, { body: form(fields as Record<string, string>, data) })
  const encoded = encodeURIComponent(dataPath)
  t.match(await up(encoded, { ...flow, flowIdentifier: '' }), { statusCode: 400, body: { errorCode: 110042 } })
  t.match(await up(encoded, { ...flow, flowTotalChunks: 10001 }), { statusCode: 400, body: { errorCode: 110042 } })
  t.match(await up(encodeURIComponent('/Projects/demo/Nope/x'), flow), { statusCode: 400, body: { errorCode: 110011 } })
  t.equal((await c.get(`project/119/dataset/upload/${encoded}`, { searchParams: flow })).statusCode, 204, 'probe: chunk not there')
  t.match(await up(encoded, flow), { statusCode: 200, body: { successMessage: `Successfuly uploaded file to ${dataPath}` } })
  t.match(await up(encoded, flow), { statusCode: 400, body: { errorCode: 110012 } }, 'the file exists')
  const half = csv.length >> 1
  const two = { ...flow, flowFilename: 'p2.csv', flowRelativePath: 'p2.csv', flowIdentifier: 'i2', flowTotalChunks: 2 }
  const raw = dataPath.split('/').slice(3).join('/') // raw slashes, relative to the project: Ingestion/fg_1...
  t.match(await up(raw, { ...two, flowCurrentChunkSize: half }, csv.subarray(0, half)), { statusCode: 200, body: { successMessage: 'Uploading...' } })
  t.equal((await c.get(`project/119/dataset/upload/${raw}`, { searchParams: { ...two, flowChunkNumber: 1 } })).statusCode, 200, 'probe: chunk held')
  t.match(await up(raw, { ...two, flowChunkNumber: 2, flowCurrentChunkSize: csv.length - half }, csv.subarray(half)), { statusCode: 200 })
  t.same([...emu.state.filesIn(dataPath).map(([p, b]) => [p.split('/').pop(), b.toString()])], [['p1.csv', csv.toString()], ['p2.csv', csv.toString()]])

  const exec = `project/119/jobs/${job.name}/executions`
  t.match(await c.post(exec, { body: '' }), { statusCode: 415 }, 'executions POST without a content type')
  const started = await c.post(exec, { body: '', headers: { 'content-type': 'text/plain' } })
  t.match(started, { statusCode: 201, body: { state: 'INITIALIZING', finalStatus: 'UNDEFINED' } })
  t.ok(started.headers.location)
  const id = (started.body as unknown as { id: number }).id
  const states: string[] = []
  for (let i = 0; i < 3; i++) {
    const e = (await c.get(`${exec}/${id}`)).body as unknown as { state: string; finalStatus: string }
    states.push(`${e.state}/${e.finalStatus}`)
  }
  t.same(states, ['SUBMITTED/UNDEFINED', 'RUNNING/UNDEFINED', 'FINISHED/SUCCEEDED'])
  t.same(emu.rows('fg', 1), [{ id: 'a', x: 1.5, ts: '2024-01-01T00:00:00.000Z' }, { id: 'b', x: 2.5, ts: '2024-01-02T00:00:00.000Z' }], 'two files, upserted on id')
  t.match(await c.get(`project/119/jobs/nope/executions/1`), { statusCode: 404, body: { errorCode: 130009 } })
  t.equal((await c.delete(`project/119/dataset/${encoded}`)).statusCode, 204)
  t.match(await c.delete(`project/119/dataset/${encoded}`), { statusCode: 400, body: { errorCode: 110018 } })
})

t.test('ingestion fails FAILED/FAILED when a feature has no column, or without header=true', async (t) => {
  const emu = await startEmulator(t, { executionSteps: 1 })
  const c = client(emu)
  const fg = (await c.post('project/119/featurestores/1191/featuregroups', { json: fgBody() })).body as unknown as { id: number }
  for (const [options, csv, missing] of [[[{ name: 'header', value: 'true' }], 'id,x\na,1\n', 'ts'], [[], 'id,x,ts\na,1,2024-01-01T00:00:00Z\n', 'id']] as const) {
    const { dataPath, job } = (await c.post(`project/119/featurestores/1191/featuregroups/${fg.id}/ingestion`, { json: { dataFormat: 'CSV', dataOptions: options } })).body as unknown as { dataPath: string; job: { name: string } }
    const data = Buffer.from(csv)
    await c.post(`project/119/dataset/upload/${encodeURIComponent(dataPath)}`, { body: form({ flowChunkNumber: 1, flowChunkSize: 1024, flowCurrentChunkSize: data.length, flowTotalSize: data.length, flowIdentifier: 'i', flowFilename: 'a.csv', flowRelativePath: 'a.csv', flowTotalChunks: 1 }, data) })
    const id = ((await c.post(`project/119/jobs/${job.name}/executions`, { body: '', headers: { 'content-type': 'text/plain' } })).body as unknown as { id: number }).id
    t.match((await c.get(`project/119/jobs/${job.name}/executions/${id}`)).body, { state: 'FAILED', finalStatus: 'FAILED' })
    t.match(emu.state.jobs.get(job.name)!.executions[0]!.error, `cannot resolve column ${missing} among`)
    emu.state.jobs.delete(job.name)
  }
  t.equal(emu.rows('fg', 1).length, 0)
})

t.test('faults: status, dropped connection, slow answer', async (t) => {
  const emu = await startEmulator(t)
  const c = client(emu)
  emu.inject({ route: 'getProjectInfo', nth: 2, status: 503 })
  t.equal((await c.get('project/getProjectInfo/demo')).statusCode, 200)
  t.equal((await c.get('project/getProjectInfo/demo')).statusCode, 503)
  t.equal((await c.get('project/getProjectInfo/demo')).statusCode, 200)
  emu.inject({ route: 'getProjectInfo', drop: 'before' })
  await t.rejects(c.get('project/getProjectInfo/demo'), { code: /ECONNRESET|ERR_GOT_REQUEST_ERROR/ })
  emu.inject({ route: 'getProjectInfo', delayMs: 100 })
  const started = Date.now()
  await c.get('project/getProjectInfo/demo')
  t.ok(Date.now() - started >= 95)
})
