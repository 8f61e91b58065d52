/** `etl hopsworks check` against the emulator: each finding caused, then named, with its exit code. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { featureGroupDto } from '../../lib/load/feature-group.ts'
import { checkHopsworks } from '../../lib/load/hopsworks/check.ts'
import { hopsworksConfigFromEnv, hopsworksSink } from '../../lib/load/hopsworks/index.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import type { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

const fg = { name: 'prostate_group', version: 1 }
const check = (emu: HopsworksEmulator, env: Record<string, string> = {}) => checkHopsworks(hopsworksConfigFromEnv(emu.env(env))!, fg)
const failures = (fs: Awaited<ReturnType<typeof checkHopsworks>>) => fs.filter((f) => !f.ok).map((f) => [f.check, f.error?.code])

t.test('everything in order: every finding passes, nothing is created', async (t) => {
  const emu = await startEmulator(t)
  const findings = await check(emu)
  t.same(findings.map((f) => f.check), ['host', 'tls', 'apiKey', 'project', 'scope FEATURESTORE', 'featureStore', 'scope JOB', 'scope DATASET_VIEW', 'scope DATASET_CREATE', 'scope DATASET_DELETE', 'uploads', 'featureGroup'])
  t.same(failures(findings), [])
  t.match(findings.at(-1)!.detail, /does not exist yet: a load creates it/)
  t.equal(emu.state.featureGroups.length, 0)
  t.same([...emu.state.files.keys()], [], 'no file made')
  // after a load the group is found, with its type and schema
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, prostateRows(3)), sink.writable)
  await sink.commit()
  t.match((await check(emu)).at(-1)!.detail, /exists \(cachedFeaturegroupDTO; lcavol:double, .*user_id:string\*/)
})

t.test('a wrong key, a missing scope, a missing project, uploads disabled, a stream group', async (t) => {
  const emu = await startEmulator(t)
  t.same(failures(await check(emu, { HOPSWORKS_API_KEY: 'AAAAAAAAAAAAAAAA.nope' })), [['apiKey', 'ETL_HOPSWORKS_AUTH']])
  const noJob = emu.keys.create(['PROJECT', 'FEATURESTORE', 'DATASET_CREATE', 'DATASET_VIEW'])
  t.same(failures(await check(emu, { HOPSWORKS_API_KEY: noJob })), [['scope JOB', 'ETL_HOPSWORKS_AUTH'], ['scope DATASET_DELETE', 'ETL_HOPSWORKS_AUTH']])
  t.same(failures(await check(emu, { HOPSWORKS_PROJECT: 'nosuch' })), [['project', 'ETL_HOPSWORKS']])
  emu.state.variables.set('upload_policy', 'disabled')
  t.same(failures(await check(emu)), [['uploads', 'ETL_HOPSWORKS']])
  emu.state.variables.delete('upload_policy')
  await fetch(`${emu.url}/hopsworks-api/api/project/119/featurestores/1191/featuregroups`, {
    method: 'POST', headers: { authorization: `ApiKey ${emu.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...featureGroupDto(prostateColumns), type: 'streamFeatureGroupDTO' }),
  })
  t.same(failures(await check(emu)), [['featureGroup', 'ETL_HOPSWORKS_SCHEMA']])
  t.same(failures(await check(emu, { HOPSWORKS_STREAM_GROUPS: 'materialize' })), [])
})

t.test('the command: one line per finding, exit 0, or the first failure\'s code and exit code', async (t) => {
  const emu = await startEmulator(t)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-check-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const good = await runEtl(['hopsworks', 'check'], { cwd, env: cleanEnv(emu.env()) })
  t.equal(good.code, 0, good.stderr)
  t.match(good.stdout, /^ok {3}host: http:\/\/127\.0\.0\.1:\d+ answers\n/)
  t.equal(good.stdout.trim().split('\n').length, 12)
  const bad = await runEtl(['hopsworks', 'check', '--json'], { cwd, env: cleanEnv(emu.env({ HOPSWORKS_API_KEY: 'AAAAAAAAAAAAAAAA.nope' })) })
  t.equal(bad.code, 1)
  t.match(JSON.parse(bad.stdout), [{ check: 'host', ok: true }, { check: 'tls', ok: true }, { check: 'apiKey', ok: false, code: 'ETL_HOPSWORKS_AUTH' }])
  t.match(bad.stderr, /ETL_HOPSWORKS_AUTH: Hopsworks at .* rejected the API key/)
  const none = await runEtl(['hopsworks', 'check'], { cwd, env: cleanEnv() })
  t.equal(none.code, 2)
  t.match(none.stderr, /ETL_CONFIG: etl hopsworks check needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT/)
  const usage = await runEtl(['hopsworks', 'doctor'], { cwd, env: cleanEnv() })
  t.equal(usage.code, 2)
  t.match(usage.stderr, /ETL_USAGE: etl hopsworks takes one subcommand, check; got doctor/)
})
