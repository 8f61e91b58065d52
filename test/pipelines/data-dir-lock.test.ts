/**
 * The data folder's lock and the cleanup of dead runs' temporary files, with
 * real concurrent `etl` processes against the real PostgreSQL: two runs in
 * one data folder never interleave their stage files; a live holder makes a
 * run wait or refuse (ETL_LOCKED); a dead holder's lock and a killed run's
 * `.tmp` files are taken over and removed at the next start.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { fileChecksum } from '../../lib/csv/lineage.ts'
import { acquireLock } from '../../lib/load/lock.ts'
import { cleanEnv, runEtl, type CliResult } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'
import type { ChildProcess } from 'node:child_process'

const ROWS = 150_000

async function scene(t: Test) {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE a AS SELECT g AS id, 'a' || g AS v FROM generate_series(1, ${ROWS}) g`)
  await db.client.query(`CREATE TABLE b AS SELECT g AS id, 'b' || g AS v FROM generate_series(1, ${ROWS}) g`)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-dirlock-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv(db.env)
  const etl = (args: string[], onSpawn?: (c: ChildProcess) => void): Promise<CliResult> => runEtl(args, { cwd, env, ...(onSpawn ? { onSpawn } : {}) })
  return { cwd, data: join(cwd, 'data'), etl }
}

/** The stage file is whole and described by its own sidecar. */
async function consistent(t: Test, csv: string): Promise<void> {
  const sidecar = JSON.parse(await readFile(csv.replace(/\.csv$/, '.schema.json'), 'utf8'))
  t.equal(sidecar.sha256, await fileChecksum(csv), `${csv}: the sidecar describes the file`)
  const lines = (await readFile(csv, 'utf8')).split('\n').filter(Boolean).length - 1
  t.equal(lines, sidecar.rows, 'as many rows as the sidecar says')
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const tmpFiles = async (dir: string) => (await readdir(dir, { recursive: true })).filter((n) => String(n).endsWith('.tmp'))

t.test('two extracts at once into one data folder: one waits for the other; the stage file and its sidecar agree', async (t) => {
  const { data, etl } = await scene(t)
  for (let round = 0; round < 3; round++) {
    const [x, y] = await Promise.all([etl(['extract', '--table', 'a', '--json']), etl(['extract', '--table', 'b', '--json'])])
    t.equal(x.code, 0, x.stderr)
    t.equal(y.code, 0, y.stderr)
    await consistent(t, join(data, 'extracted.csv'))
    const [rx, ry] = [JSON.parse(x.stdout), JSON.parse(y.stdout)]
    const span = (r: { tasks: { start: string; end: string }[] }) => [Date.parse(r.tasks[0]!.start), Date.parse(r.tasks[0]!.end)] as const
    const [sx, sy] = [span(rx), span(ry)]
    t.ok(sx[1] <= sy[0] || sy[1] <= sx[0], `round ${round}: the two extracts did not overlap`)
  }
  t.same(await tmpFiles(data), [], 'no temporary file left')
})

t.test('a live holder: --lock-timeout 0 refuses with ETL_LOCKED naming it and writes nothing; a wait ends when it lets go', async (t) => {
  const { data, etl } = await scene(t)
  t.equal((await etl(['extract', '--table', 'b', '--quiet'])).code, 0)
  const before = await readFile(join(data, 'extracted.schema.json'), 'utf8')
  // This test process holds the data folder's lock, as a run in it would.
  const lock = await acquireLock(join(data, '.etl.lock'), { runId: 'the-holder' })
  const refused = await etl(['extract', '--table', 'a', '--lock-timeout', '0'])
  t.equal(refused.code, 1, refused.stderr)
  t.match(refused.stderr, new RegExp(`ETL_LOCKED: the data folder \\S+ is locked by run the-holder \\(pid ${process.pid} on host`))
  t.equal(await readFile(join(data, 'extracted.schema.json'), 'utf8'), before, 'the refused run wrote nothing')
  const waiting = etl(['extract', '--table', 'a', '--lock-timeout', '20', '--quiet'])
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(await readFile(join(data, 'extracted.schema.json'), 'utf8'), before, 'the waiting run writes nothing while the lock is held')
  await lock.release()
  t.equal((await waiting).code, 0)
  t.not(await readFile(join(data, 'extracted.schema.json'), 'utf8'), before, 'then it ran')
  t.notOk(existsSync(join(data, '.etl.lock')), 'released')
})

t.test('kill -9 mid-extract: the next start takes the dead holder\'s lock and removes its temporary files', async (t) => {
  const { data, etl } = await scene(t)
  let child: ChildProcess | undefined
  const killed = etl(['extract', '--table', 'a', '--quiet', '--batch-size', '100'], (c) => (child = c))
  await waitFor('a temporary stage file', async () => existsSync(data) && (await readdir(data)).some((n) => n.startsWith('extracted.csv.') && n.endsWith('.tmp')))
  await new Promise((r) => setTimeout(r, 300))
  child!.kill('SIGKILL')
  t.equal((await killed).signal, 'SIGKILL')
  t.ok(existsSync(join(data, '.etl.lock')), 'the dead run left its lock')
  // A record write of another dead run whose pid was reused (PID 1 started long after the file was written).
  await mkdir(join(data, 'runs'), { recursive: true })
  const reused = join(data, 'runs', '20000101T000000000Z-reused00.json.1.0badf00d.tmp')
  await writeFile(reused, '{')
  await utimes(reused, new Date('2000-01-01'), new Date('2000-01-01'))
  const left = await tmpFiles(data)
  let leftBytes = 0
  for (const f of left) leftBytes += (await stat(join(data, String(f)))).size
  t.ok(left.length >= 2 && leftBytes > 0, `leftovers after the kill: ${left.length} files, ${(leftBytes / 1048576).toFixed(1)} MB`)

  const next = await etl(['extract', '--table', 'b'])
  t.equal(next.code, 0, next.stderr)
  t.match(next.stderr, /removed \d+ temporary file\(s\) of runs no longer alive \(\d+\.\d MB\)/)
  t.same(await tmpFiles(data), [], 'no temporary file left')
  t.notOk(existsSync(join(data, '.etl.lock')))
  await consistent(t, join(data, 'extracted.csv'))
})

t.test('a temporary file of a live process is kept', async (t) => {
  const { data, etl } = await scene(t)
  await mkdir(data, { recursive: true })
  const mine = join(data, `extracted.csv.${process.pid}.0123abcd.tmp`)
  await writeFile(mine, 'x')
  t.equal((await etl(['extract', '--table', 'b', '--quiet'])).code, 0)
  t.ok(existsSync(mine), 'the file of a live writer is not touched')
})
