import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { redact } from '../../lib/errors.ts'
import { hopsworksConfigFromEnv, hopsworksConfigured } from '../../lib/load/hopsworks/index.ts'

const key = 'AbCdEfGhIjKlMnOp.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'

t.test('nothing set: undefined (the local sink is the default)', async (t) => {
  t.equal(hopsworksConfigFromEnv({}), undefined)
  t.notOk(hopsworksConfigured({ HOPSWORKS_PROJECT: 'demo' }))
})

t.test('a host name means https on 443, or on HOPSWORKS_PORT', async (t) => {
  t.match(hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'c.app.hopsworks.ai', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'demo' }), { apiUrl: 'https://c.app.hopsworks.ai/hopsworks-api/api/', origin: 'https://c.app.hopsworks.ai', project: 'demo', insecure: false })
  t.match(hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'hw.local', HOPSWORKS_PORT: '8181', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'demo' }), { apiUrl: 'https://hw.local:8181/hopsworks-api/api/' })
})

t.test('a full URL is taken as it is; its own port wins over HOPSWORKS_PORT', async (t) => {
  t.match(hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'http://127.0.0.1:8181', HOPSWORKS_PORT: '9999', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'demo' }), { apiUrl: 'http://127.0.0.1:8181/hopsworks-api/api/' })
  t.match(hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'http://127.0.0.1', HOPSWORKS_PORT: '9999', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'demo' }), { apiUrl: 'http://127.0.0.1:9999/hopsworks-api/api/' })
  t.match(hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'https://h.example/hopsworks-api/api/', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'demo' }), { apiUrl: 'https://h.example/hopsworks-api/api/' })
})

t.test('incomplete or invalid settings: ETL_CONFIG naming the variable, never the key', async (t) => {
  t.throws(() => hopsworksConfigFromEnv({ HOPSWORKS_API_KEY: key }), { code: 'ETL_CONFIG', message: 'Hopsworks is only partly configured: set HOPSWORKS_HOST, HOPSWORKS_PROJECT (or unset HOPSWORKS_HOST and HOPSWORKS_API_KEY to load locally)' })
  t.throws(() => hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'h', HOPSWORKS_PROJECT: 'p' }), { code: 'ETL_CONFIG', message: /set HOPSWORKS_API_KEY/ })
  t.throws(() => hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'h', HOPSWORKS_PORT: 'x', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'p' }), { code: 'ETL_CONFIG', message: 'HOPSWORKS_PORT must be a port number, got "x"' })
  t.throws(() => hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'ftp://h', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'p' }), { code: 'ETL_CONFIG' })
  t.throws(() => hopsworksConfigFromEnv({ HOPSWORKS_HOST: 'https://u:pw@h', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'p' }), { code: 'ETL_CONFIG', message: 'HOPSWORKS_HOST must not carry credentials: use HOPSWORKS_API_KEY' })
  t.equal(redact(`the key is ${key}`), 'the key is ***', 'the key is registered as a secret')
})

t.test('TLS: verified unless insecure is set; a CA file is read', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'etl-ca-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  await writeFile(join(dir, 'ca.pem'), pem)
  const env = { HOPSWORKS_HOST: 'h', HOPSWORKS_API_KEY: key, HOPSWORKS_PROJECT: 'p' }
  t.match(hopsworksConfigFromEnv(env, { caFile: join(dir, 'ca.pem') }), { ca: pem, insecure: false })
  t.match(hopsworksConfigFromEnv(env, { insecure: true }), { insecure: true })
  t.throws(() => hopsworksConfigFromEnv(env, { caFile: join(dir, 'missing.pem') }), { code: 'ETL_CONFIG', message: /^cannot read the Hopsworks CA file / })
})
