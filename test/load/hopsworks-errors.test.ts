import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

/** Runs setup with a key; returns the error (asserting it is an EtlError that never shows the key). */
async function failWith(t: Pick<typeof import('tap').default, 'ok'>, env: Record<string, string>): Promise<EtlError> {
  try {
    await hopsworksSink({ config: hopsworksConfigFromEnv(env)!, columns: prostateColumns, ...fast })
  } catch (err) {
    if (!(err instanceof EtlError)) throw err
    const key = env['HOPSWORKS_API_KEY']!
    const secret = key.split('.')[1] ?? key
    const shown = `${err.message}\n${err.stack}\n${inspect(err, { depth: 20 })}\n${JSON.stringify(err.details)}`
    t.ok(!shown.includes(key) && !shown.includes(secret), 'the key appears nowhere in the error')
    return err
  }
  throw new Error('expected a failure')
}

t.test('a wrong or missing key: ETL_HOPSWORKS_AUTH, exit 1, key never printed', async (t) => {
  const emu = await startEmulator(t)
  const [prefix, secret] = emu.apiKey.split('.') as [string, string]
  const cases: [string, string, number][] = [
    ['wrong secret', `${prefix}.${secret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))}`, 320012],
    ['unknown prefix', `ZZZZZZZZZZZZZZZZ.${secret}`, 320013],
    ['no dot', `${prefix}${secret}`, 320012],
  ]
  for (const [what, key, code] of cases) {
    const err = await failWith(t, emu.env({ HOPSWORKS_API_KEY: key }))
    t.equal(err.code, 'ETL_HOPSWORKS_AUTH', what)
    t.equal(err.exitCode, 1)
    t.equal(err.details?.['status'], 401)
    t.equal(err.details?.['errorCode'], code, `${what}: errorCode kept`)
    t.match(err.message, /^Hopsworks at http:\/\/127\.0\.0\.1:\d+ rejected the API key \(HTTP 401, 3200\d\d .+\): HOPSWORKS_API_KEY is wrong, revoked or missing$/)
  }
  t.equal(emu.state.featureGroups.length, 0)
})

t.test('a key without a needed scope: 403 320004 -> ETL_HOPSWORKS_AUTH naming the call', async (t) => {
  const emu = await startEmulator(t)
  const key = emu.keys.create(['PROJECT', 'FEATURESTORE', 'JOB'])
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env({ HOPSWORKS_API_KEY: key }))!, columns: prostateColumns, ...fast })
  const err = await pipeline(batches(prostateColumns, prostateRows(5)), sink.writable).then(() => undefined, (e: unknown) => e as EtlError)
  t.equal(err?.code, 'ETL_HOPSWORKS_AUTH')
  t.equal(err?.details?.['errorCode'], 320004)
  t.match(err?.message, /^Hopsworks refused POST project\/119\/dataset\/upload\/\S+ for this API key \(HTTP 403, 320004 No valid scope found for this invocation\)/)
  t.equal(emu.count('upload'), 1, 'a 403 is not retried')
})

t.test('unknown project: 404 150004 -> a clear ETL_HOPSWORKS', async (t) => {
  const emu = await startEmulator(t)
  const err = await failWith(t, emu.env({ HOPSWORKS_PROJECT: 'nope' }))
  t.equal(err.code, 'ETL_HOPSWORKS')
  t.equal(err.details?.['errorCode'], 150004)
  t.equal(err.message, `Hopsworks project "nope" was not found at ${emu.url} (HOPSWORKS_PROJECT), or this API key's user is not a member`)
})

t.test('a project the key\'s user is not a member of: 403 -> ETL_HOPSWORKS_AUTH', async (t) => {
  const emu = await startEmulator(t, { projects: [{ id: 119, name: 'demo', members: ['someone_else'] }] })
  const err = await failWith(t, emu.env())
  t.equal(err.code, 'ETL_HOPSWORKS_AUTH')
  t.equal(err.details?.['errorCode'], 160000)
})

t.test('nobody listening: ETL_HOPSWORKS "cannot reach"', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const err = await failWith(t, { HOPSWORKS_HOST: `http://127.0.0.1:${port}`, HOPSWORKS_API_KEY: 'abcdefghijklmnop.secretsecret', HOPSWORKS_PROJECT: 'demo' })
  t.equal(err.code, 'ETL_HOPSWORKS')
  t.match(err.message, new RegExp(`^cannot reach Hopsworks at http://127\\.0\\.0\\.1:${port} \\(GET project/getProjectInfo/demo\\): .*ECONNREFUSED.* \\(6 attempts\\)$`))
})

t.test('a 500 with the envelope keeps errorCode, errorMsg and usrMsg', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'ingestion', status: 500 })
  const err = await failWith(t, emu.env())
  t.equal(err.code, 'ETL_HOPSWORKS')
  t.same(err.details, { method: 'POST', path: `project/119/featurestores/1191/featuregroups/${emu.state.featureGroups[0]!.id}/ingestion`, status: 500, errorCode: 120000, errorMsg: 'A generic error occurred.', transient: false, notSent: false, attempts: 1 })
  t.equal(emu.count('ingestion'), 1, 'the ingestion job create is not repeated blindly')
})

t.test('an existing feature group with a different schema is rejected before any data', async (t) => {
  const emu = await startEmulator(t)
  const first = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await first.abort()
  const changed = prostateColumns.map((c) => (c.name === 'age' ? { name: 'age', type: 'float8' } : c)).filter((c) => c.name !== 'lcp').concat([{ name: 'extra', type: 'text' }])
  const err = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: changed, ...fast }).then(() => undefined, (e: unknown) => e as EtlError)
  t.equal(err?.code, 'ETL_HOPSWORKS_SCHEMA')
  t.equal(err?.message, 'feature group prostate_group version 1 already exists in project demo with a different schema: feature age is int, the data has double; feature extra (string) is missing; feature lcp (double) is not in the data. Load into a new version (featureGroup.version) or make the data match; nothing was sent.')
  t.equal(emu.count('ingestion'), 1, 'no ingestion job for the rejected load')
  t.equal(emu.count('upload'), 0)
  t.equal(emu.state.featureGroups.length, 1)
})

t.test('a column Hopsworks cannot name is refused before any call', async (t) => {
  const emu = await startEmulator(t)
  const err = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: [...prostateColumns, { name: 'Target', type: 'int4' }], ...fast }).then(() => undefined, (e: unknown) => e as EtlError)
  t.equal(err?.code, 'ETL_COLUMN_NAME')
  t.equal(err?.exitCode, 2)
  t.equal(emu.calls.length, 0)
})

t.test('batches with other columns than announced: ETL_SINK', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  const other = prostateColumns.slice(1)
  await t.rejects(pipeline(batches(other, [prostateRows(1)[0]!.slice(1)]), sink.writable), { code: 'ETL_SINK', message: /^the Hopsworks sink was prepared for columns lcavol, lweight/ })
  await sink.abort()
})

t.test('commit before the input ended, or twice: ETL_SINK', async (t) => {
  const emu = await startEmulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await t.rejects(sink.commit(), { code: 'ETL_SINK', message: /before the sink's input ended/ })
  await pipeline(batches(prostateColumns, prostateRows(3)), sink.writable)
  await sink.commit()
  await t.rejects(sink.commit(), { code: 'ETL_SINK', message: 'commit() was already called' })
})
