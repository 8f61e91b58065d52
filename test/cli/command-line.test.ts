/**
 * The command line as Node users expect it: --version from package.json, help
 * for a command, suggestions for typos, Examples and Environment in --help;
 * `.env` read into the env given to main(); PG* variables as defaults for what
 * DATABASE_URL leaves out; bin/etl.js running the newer of lib/ and dist/.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { main } from '../../lib/cli/main.ts'
import { withEnvDefaults } from '../../lib/extract/connect.ts'
import { cleanEnv } from '../support/cli.ts'
import { node } from '../support/embedded-default.ts'
import { baseDatabase, testDb } from '../support/pg.ts'

const repo = new URL('../../', import.meta.url).pathname
const bin = join(repo, 'bin/etl.js')
const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-cmdline-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** main() in this process, with its own streams. */
async function inProcess(argv: string[], o: { env: NodeJS.ProcessEnv; cwd: string }) {
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  err.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await main(argv, { ...o, stdout: out, stderr: err })
  return { code, stdout, stderr }
}

t.test('-v, -V and --version print the version of package.json', async (t) => {
  const cwd = await workdir(t)
  for (const flag of ['-v', '-V', '--version']) {
    const r = await node([bin, flag], { cwd, env: cleanEnv() })
    t.equal(r.code, 0, flag)
    t.equal(r.stdout, `prostate-etl ${pkg.version}\n`, flag)
  }
})

t.test('etl help <command> is etl <command> --help; both have Examples and Environment', async (t) => {
  const cwd = await workdir(t)
  const a = await node([bin, 'help', 'extract'], { cwd, env: cleanEnv() })
  const b = await node([bin, 'extract', '--help'], { cwd, env: cleanEnv() })
  t.equal(a.code, 0)
  t.equal(a.stdout, b.stdout)
  t.match(a.stdout, /^Usage: etl extract \[flags\]/)
  t.match(a.stdout, /\nExamples:\n {2}etl extract --table public\.prostate\n/)
  t.match(a.stdout, /\nEnvironment:\n {2}DATABASE_URL +the source database/)
  t.match(a.stdout, /PGHOST PGPORT PGUSER +libpq variables/)
  const top = await node([bin, '--help'], { cwd, env: cleanEnv() })
  t.match(top.stdout, /\nExamples:\n {2}etl run /)
  t.match(top.stdout, /\nEnvironment:\n/)
  t.match(top.stdout, `prostate-etl ${pkg.version}`)
  const none = await node([bin, 'help', 'nope'], { cwd, env: cleanEnv() })
  t.equal(none.code, 2)
  t.match(none.stderr, 'ETL_USAGE: unknown command: nope.')
})

t.test('a mistyped command or flag gets a suggestion; a flag of another command says which takes it', async (t) => {
  const cwd = await workdir(t)
  const cases: [string[], string][] = [
    [['rnu'], 'ETL_USAGE: unknown command: rnu. Did you mean `etl run`? Run `etl --help` for the list.'],
    [['extarct'], 'Did you mean `etl extract`?'],
    [['extract', '--tabel', 'x'], "ETL_USAGE: Unknown option '--tabel'. Did you mean --table?"],
    [['run', '--batchsize', '5'], 'Did you mean --batch-size?'],
    [['extract', '--cron', 'x'], "ETL_USAGE: Unknown option '--cron': etl extract does not take it (etl schedule does)"],
  ]
  for (const [args, says] of cases) {
    const r = await node([bin, ...args], { cwd, env: cleanEnv() })
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, says, args.join(' '))
  }
  const far = await node([bin, 'explode'], { cwd, env: cleanEnv() })
  t.notMatch(far.stderr, 'Did you mean', 'no suggestion when nothing is close')
})

t.test('main(argv, { env }) reads .env into the env it was given, not into process.env', async (t) => {
  const cwd = await workdir(t)
  await writeFile(join(cwd, '.env'), 'DATABASE_URL=postgres://postgres@127.0.0.1:1/from_dotenv\nETL_DOTENV_PROBE=yes\n')
  const r = await inProcess(['extract'], { env: {}, cwd })
  t.equal(r.code, 1)
  t.match(r.stderr, /ETL_DB_CONNECT: cannot connect to PostgreSQL at postgres@127\.0\.0\.1:1\/from_dotenv/, '.env reached the command')
  t.equal(process.env['ETL_DOTENV_PROBE'], undefined, 'process.env untouched')
  t.equal(process.env['DATABASE_URL'] === 'postgres://postgres@127.0.0.1:1/from_dotenv', false)
  const given: NodeJS.ProcessEnv = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/given' }
  const wins = await inProcess(['extract'], { env: given, cwd })
  t.match(wins.stderr, /127\.0\.0\.1:1\/given/, 'a variable already set wins over .env')
  t.same(Object.keys(given), ['DATABASE_URL'], 'the env object given is not changed')
})

t.test('PG* variables fill what DATABASE_URL leaves out, as libpq does', async (t) => {
  t.equal(withEnvDefaults('postgres://h/db', { PGUSER: 'u', PGPASSWORD: 'p@ss', PGPORT: '6543', PGOPTIONS: '-c search_path=s' }), 'postgres://u:p%40ss@h:6543/db?options=-c+search_path%3Ds')
  t.equal(withEnvDefaults('postgres://a:b@h:1/d?options=x', { PGUSER: 'u', PGPASSWORD: 'p', PGPORT: '2', PGDATABASE: 'e', PGHOST: 'g', PGOPTIONS: 'y' }), 'postgres://a:b@h:1/d?options=x', 'what the URL says wins')
  t.equal(withEnvDefaults('postgres:///d', { PGHOST: '/run/postgresql', PGPORT: '5433' }), 'postgres:///d?host=%2Frun%2Fpostgresql&port=5433', 'a socket folder')
  t.equal(withEnvDefaults('postgres://h', { PGDATABASE: 'x' }), 'postgres://h/x')
  // The real thing, in this process (whose process.env has no PG* variable, so pg's own fallback cannot help):
  // a DATABASE_URL with only the host and port; the user, database and search_path from PG* variables.
  const db = await testDb(t)
  await db.client.query('CREATE TABLE only_here AS SELECT g AS n FROM generate_series(1, 5) g')
  const base = await baseDatabase()
  const env: NodeJS.ProcessEnv = base.connectionString
    ? { DATABASE_URL: base.connectionString, PGOPTIONS: `-c search_path=${db.schema}` }
    : { DATABASE_URL: `postgres://${base.host ?? '127.0.0.1'}:${base.port ?? 5432}`, PGUSER: base.user ?? 'postgres', PGDATABASE: base.database ?? 'postgres', PGOPTIONS: `-c search_path=${db.schema}`, ...(typeof base.password === 'string' ? { PGPASSWORD: base.password } : {}) }
  const cwd = await workdir(t)
  const r = await inProcess(['extract', '--table', 'only_here'], { cwd, env })
  t.equal(r.code, 0, r.stderr)
  t.equal((await readFile(join(cwd, 'data/extracted.csv'), 'utf8')).trim().split('\n').length, 6)
})

t.test('in a checkout, bin/etl.js runs whichever of lib/ and dist/ is newer', async (t) => {
  const top = await workdir(t)
  const checkout = join(top, 'checkout')
  await mkdir(checkout)
  for (const part of ['bin', 'lib', 'fixtures', 'package.json']) await cp(join(repo, part), join(checkout, part), { recursive: true })
  await symlink(join(repo, 'node_modules'), join(checkout, 'node_modules'))
  // A compiled entry that says it ran (a real build takes a minute; what is tested is the choice).
  await mkdir(join(checkout, 'dist/cli'), { recursive: true })
  const compiled = join(checkout, 'dist/cli/main.js')
  await writeFile(compiled, "export async function runCommandLine() { process.stdout.write('from dist\\n') }\n")
  const old = new Date(Date.now() - 3600_000)
  await utimes(join(checkout, 'lib/cli/main.ts'), new Date(), new Date())
  await utimes(compiled, old, old)
  const edited = await node([join(checkout, 'bin/etl.js'), '--version'], { cwd: top, env: cleanEnv() })
  t.equal(edited.stdout, `prostate-etl ${pkg.version}\n`, 'lib/ edited after the build: lib/ runs')
  const future = new Date(Date.now() + 3600_000)
  await utimes(compiled, future, future)
  const built = await node([join(checkout, 'bin/etl.js'), '--version'], { cwd: top, env: cleanEnv() })
  t.equal(built.stdout, 'from dist\n', 'built after the last edit: dist/ runs')
  await rm(join(checkout, 'lib'), { recursive: true })
  const installed = await node([join(checkout, 'bin/etl.js'), '--version'], { cwd: top, env: cleanEnv() })
  t.equal(installed.stdout, 'from dist\n', 'no lib/ (the installed package): dist/ runs')
})
