/**
 * SIGTERM while `etl run` commits into the local store (the real command, a
 * real signal): the commit is not interrupted. It finishes, the store holds
 * every row once, the run record says Completed, and the command exits 143
 * (it was signalled), which is what the README says.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { cleanEnv } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const ENTRY = fileURLToPath(new URL('../../bin/etl.js', import.meta.url))
const SUITE = fileURLToPath(new URL('../cli/bad-inputs/ages.json', import.meta.url))
const ROWS = 200_000

t.test('SIGTERM during the commit: the commit finishes, every row is loaded, the record says Completed, exit 143', async (t) => {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE big AS SELECT g AS age, g % 2 AS target FROM generate_series(1, ${ROWS}) g`)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-sigterm-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const runs = join(cwd, 'data', 'runs')
  const child = spawn(process.execPath, [ENTRY, 'run', '--table', 'big', '--suite', SUITE, '--on-invalid', 'warn', '--id', 'sequential', '--quiet'], { cwd, env: cleanEnv(db.env), stdio: 'ignore' })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let signalled = false
  while (!signalled) {
    const names = existsSync(runs) ? (await readdir(runs)).filter((n) => n.endsWith('.json')) : []
    const text = names[0] ? await readFile(join(runs, names[0]), 'utf8').catch(() => '') : ''
    if (text.includes('"name": "commit"')) {
      child.kill('SIGTERM')
      signalled = true
    } else if (child.exitCode !== null) break
    else await new Promise((r) => setTimeout(r, 5))
  }
  t.ok(signalled, 'SIGTERM was sent once the commit had started')
  t.equal(await exited, 143, 'the command reports the signal')
  const names = (await readdir(runs)).filter((n) => n.endsWith('.json'))
  const record = JSON.parse(await readFile(join(runs, names[0]!), 'utf8'))
  t.equal(record.state, 'Completed', 'the run record says the run completed')
  t.equal(record.tasks.find((x: { name: string }) => x.name === 'commit')?.state, 'Completed')
  const manifest = JSON.parse(await readFile(join(cwd, 'data', 'feature_store', 'prostate_group_1', 'manifest.json'), 'utf8'))
  t.equal(manifest.rows, ROWS, 'every row committed, once')
})
