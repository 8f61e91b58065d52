import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

t.test('etl run into Hopsworks (the emulator): every row once, derived ids upsert on a re-run; the gate never starts the job', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const emu = await HopsworksEmulator.start()
  t.teardown(() => emu.close())
  const cwd = await mkdtemp(join(tmpdir(), 'etl-hw-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv({ ...db.env, ...emu.env() })
  const key = ['--id', 'derived', '--key', 'lcavol,lweight,age,lbph,lcp,gleason,pgg45,lpsa,target']
  const first = await runEtl(['run', ...key, '--json'], { cwd, env })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /loaded 97 rows into Hopsworks feature group prostate_group version 1/)
  t.equal(emu.rows('prostate_group', 1).length, 97)
  const second = await runEtl(['run', ...key], { cwd, env })
  t.equal(second.code, 0, second.stderr)
  t.equal(emu.rows('prostate_group', 1).length, 97, 're-run upserts: still each row once')

  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  const executions = emu.count('startExecution')
  t.equal(executions, 2, 'one job start per committed run')
  const gate = await runEtl(['run', ...key, '--feature-group-version', '2'], { cwd, env })
  t.equal(gate.code, 3, gate.stderr)
  t.equal(emu.rows('prostate_group', 2).length, 0, 'nothing loaded')
  t.equal(emu.count('startExecution'), executions, 'no job started')
})

t.test('a wrong API key and a wrong database password: exit 1, neither secret anywhere the run writes', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const emu = await HopsworksEmulator.start()
  t.teardown(() => emu.close())
  const cwd = await mkdtemp(join(tmpdir(), 'etl-hw-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const badKey = 'AbCdEfGhIjKlMnOp.ThisIsADistinctiveSecretValueThatMustNeverAppear0123456789abcdefghij'
  const r = await runEtl(['run', '--json', '--log', 'json'], { cwd, env: cleanEnv({ ...db.env, ...emu.env({ HOPSWORKS_API_KEY: badKey }) }) })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /ETL_HOPSWORKS_AUTH/)
  const everything = [r.stdout, r.stderr, ...(await Promise.all((await filesUnder(join(cwd, 'data'))).map((f) => readFile(f, 'utf8'))))].join('\n')
  t.notMatch(everything, badKey, 'API key nowhere')
  t.notMatch(everything, 'ThisIsADistinctiveSecret', 'not even the secret part')
})
