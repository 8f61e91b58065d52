import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { hopsworksConfigFromEnv } from '../../lib/load/hopsworks/index.ts'
import { HopsworksHttp } from '../../lib/load/hopsworks/http.ts'

const run = promisify(execFile)

const openssl = await run('openssl', ['version']).then(() => true, () => false)

t.test('TLS is verified: a self-signed server fails without its CA, works with caFile or insecure', { skip: openssl ? false : 'openssl is not available' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'etl-tls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
  const server = createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ projectId: 1, projectName: 'demo', auth: req.headers.authorization?.slice(0, 7) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const env = { HOPSWORKS_HOST: `127.0.0.1:${(server.address() as AddressInfo).port}`, HOPSWORKS_API_KEY: 'abcdefghijklmnop.tlstlstls', HOPSWORKS_PROJECT: 'demo' }
  const call = { method: 'GET', path: ['project', 'getProjectInfo', 'demo'], retry: false } as const

  const strict = new HopsworksHttp(hopsworksConfigFromEnv(env)!)
  await t.rejects(strict.call(call), { code: 'ETL_HOPSWORKS', message: /^cannot reach Hopsworks at https:\/\/127\.0\.0\.1:\d+ .*self[- ]signed/ })
  const withCa = new HopsworksHttp(hopsworksConfigFromEnv(env, { caFile: join(dir, 'cert.pem') })!)
  t.same((await withCa.call(call)).body, { projectId: 1, projectName: 'demo', auth: 'ApiKey ' })
  const insecure = new HopsworksHttp(hopsworksConfigFromEnv(env, { insecure: true })!)
  t.equal((await insecure.call(call)).status, 200)
})

t.test('etl hopsworks check names a certificate that does not verify, with the caFile / insecure hint', { skip: openssl ? false : 'openssl is not available' }, async (t) => {
  const { checkHopsworks } = await import('../../lib/load/hopsworks/check.ts')
  const dir = await mkdtemp(join(tmpdir(), 'etl-tls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
  const server = createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (_req, res) => res.writeHead(404).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const env = { HOPSWORKS_HOST: `127.0.0.1:${(server.address() as AddressInfo).port}`, HOPSWORKS_API_KEY: 'abcdefghijklmnop.tlstlstls', HOPSWORKS_PROJECT: 'demo' }
  const findings = await checkHopsworks(hopsworksConfigFromEnv(env)!, { name: 'prostate_group', version: 1 })
  t.same(findings.map((f) => [f.check, f.ok]), [['host', true], ['tls', false]])
  t.match(findings[1]!.detail, /does not verify \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\): give the cluster's CA as hopsworks.caFile .* or, knowingly, hopsworks.insecure: true/)
})
