/**
 * A lock file that names its holder: one writer at a time for a feature group
 * of the local store (local-sink.ts) or a data folder.
 *
 *     <path>            {"host","pid","start","boot","runId","since"}: the holder
 *     <path>.<id>.tmp   a taker's holder, written in full before it is linked
 *     <path>.break      held for an instant by whoever removes a dead holder's lock
 *
 * Taking it is link(2) of a complete file onto `path`, which fails if `path`
 * exists (as O_EXCL does), so the lock is never seen half-written and two
 * takers never both win. A holder is alive when its host is this one and a
 * process with its pid exists and started at the same moment (the start time
 * of /proc/<pid>/stat and the boot id): a pid reused by another process (PID 1
 * in every container) is not mistaken for the holder. A dead holder's lock is
 * removed under `<path>.break` and taken again; a live one makes the taker
 * wait up to `timeoutMs`, then refuse with ETL_LOCKED naming the holder.
 *
 * A holder on another host cannot be judged from here: it counts as alive
 * (the message says so, and that the file may be removed by hand once that
 * host is known to be done). Without /proc (macOS), a pid that exists counts
 * as alive.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, unlinkSync } from 'node:fs'
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { EtlError } from '../errors.ts'

/** Who holds a lock (also what a run record can keep to judge its run's liveness). */
export interface LockHolder {
  readonly host: string
  readonly pid: number
  /** The process start time (clock ticks since boot, /proc/<pid>/stat field 22); null where it cannot be read. */
  readonly start: string | null
  /** The kernel's boot id: a start time means nothing across a reboot. Null where it cannot be read. */
  readonly boot: string | null
  readonly runId: string
  /** When the lock was taken (ISO 8601). */
  readonly since: string
}

export type Liveness = 'alive' | 'dead' | 'unknown'

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** A process's start time (field 22 of /proc/<pid>/stat, read past the command name, which may hold spaces and parentheses), or null. */
export function processStart(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`)
  if (stat === null) return null
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return fields[19] ?? null // fields[0] is field 3 (state)
}

let bootId: string | null | undefined
function boot(): string | null {
  if (bootId === undefined) bootId = readText('/proc/sys/kernel/random/boot_id')?.trim() || null
  return bootId
}

/** This process as a holder of `runId`. */
export function currentHolder(runId: string): LockHolder {
  return { host: hostname(), pid: process.pid, start: processStart(process.pid), boot: boot(), runId, since: new Date().toISOString() }
}

/**
 * Whether the process named by `holder` still runs: `dead` when it is of this
 * host and gone (no such pid, another boot, or the pid now belongs to a
 * process that started at another moment); `unknown` for another host's.
 */
export function liveness(holder: Pick<LockHolder, 'host' | 'pid' | 'start' | 'boot'>): Liveness {
  if (holder.host !== hostname()) return 'unknown'
  if (holder.boot && boot() && holder.boot !== boot()) return 'dead'
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'dead'
    // EPERM: a process of another user has that pid; its start time still tells.
  }
  if (holder.start === null) return 'alive'
  const start = processStart(holder.pid)
  if (start === null) return readText('/proc/self/stat') === null ? 'alive' : 'dead' // no /proc at all, or no such process in it
  return start === holder.start ? 'alive' : 'dead'
}

/** Whether the holder may still run (a holder on another host counts as alive: it cannot be judged from here). */
export function isAlive(holder: Pick<LockHolder, 'host' | 'pid' | 'start' | 'boot'>): boolean {
  return liveness(holder) !== 'dead'
}

/** A holder from a lock file's text, or `'unreadable'`. */
export function parseHolder(text: string): LockHolder | 'unreadable' {
  try {
    const h = JSON.parse(text) as LockHolder
    if (h && typeof h.host === 'string' && Number.isInteger(h.pid) && typeof h.runId === 'string') return h
  } catch {
    // falls through
  }
  return 'unreadable'
}

/** Reads a lock file: its holder, `null` when there is none, `'unreadable'` when it holds no holder. */
export async function readHolder(path: string): Promise<LockHolder | null | 'unreadable'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new EtlError('ETL_DATA_DIR', `cannot read the lock ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseHolder(text)
}

/** `run 1a2b (pid 4242 on host db1, since 2026-01-01T00:00:00.000Z)` */
export function describeHolder(h: LockHolder): string {
  return `run ${h.runId} (pid ${h.pid} on host ${h.host}, since ${h.since})`
}

export interface LockOptions {
  /** Names this run in the lock (and in the refusal another run gets). */
  readonly runId: string
  /** How long to wait for a live holder before refusing with ETL_LOCKED. Default 0: refuse at once. */
  readonly timeoutMs?: number
  /** Stops the wait (ETL_CANCELLED). */
  readonly signal?: AbortSignal
  /** What the lock protects, for the refusal (`the feature group prostate_group_1`). Default: the path. */
  readonly what?: string
  /** Between two looks at a live holder's lock. Default 100 ms (with jitter). */
  readonly pollMs?: number
}

export interface Lock {
  readonly path: string
  readonly holder: LockHolder
  /** Removes the lock if it is still this one's. Idempotent; never throws. */
  release(): Promise<void>
}

const held = new Map<string, string>() // path -> the text this process linked there
let exitHook = false

function sameFile(text: string | null, mine: string | undefined): boolean {
  return text !== null && mine !== undefined && text === mine
}

/** Removes `path` under `<path>.break` if it still holds `dead` (the text judged dead); false when another taker is at it. */
async function breakDead(path: string, dead: string, runId: string): Promise<boolean> {
  const gate = `${path}.break`
  try {
    await writeFile(gate, JSON.stringify(currentHolder(runId)), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // Another taker is breaking it; a gate left by a taker that died in that instant is removed when dead.
    const g = await readHolder(gate)
    if (g === null) return true
    if (g !== 'unreadable' && !isAlive(g)) await unlink(gate).catch(() => {})
    return false
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => null)
    if (now === dead) await unlink(path).catch(() => {})
  } finally {
    await unlink(gate).catch(() => {})
  }
  return true
}

/**
 * Takes the lock at `path` (its folder must exist). Resolves when this run
 * holds it; throws ETL_LOCKED when a live holder keeps it past `timeoutMs`
 * (or an unreadable lock file is in the way), ETL_CANCELLED when `signal`
 * fires, ETL_DATA_DIR when the folder cannot be written.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? 0
  const pollMs = options.pollMs ?? 100
  const what = options.what ?? path
  const deadline = Date.now() + timeoutMs
  const holder = currentHolder(options.runId)
  const text = JSON.stringify(holder) + '\n'
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(tmp, text, { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new EtlError('ETL_DISK_FULL', `no space left to write the lock ${path}`, { cause: err, details: { path } })
    throw new EtlError('ETL_DATA_DIR', `cannot write the lock ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    for (;;) {
      if (options.signal?.aborted) throw new EtlError('ETL_CANCELLED', `cancelled while waiting for the lock of ${what}`)
      try {
        await link(tmp, path)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new EtlError('ETL_DATA_DIR', `cannot take the lock ${path}: ${(err as Error).message}`, { cause: err })
      }
      const seen = await readFile(path, 'utf8').catch(() => null)
      if (seen === null) continue // released between the link and the read
      const other = parseHolder(seen)
      if (other === 'unreadable')
        throw new EtlError('ETL_LOCKED', `${what} is locked by ${path}, which names no holder; remove it once no run uses ${what}`, { details: { path } })
      const life = liveness(other)
      if (life === 'dead') {
        // Removed (then taken at the next turn), or another taker is removing it: look again shortly, whatever the deadline.
        if (!(await breakDead(path, seen, options.runId))) await new Promise((resolve) => setTimeout(resolve, 5))
        continue
      }
      if (Date.now() >= deadline) {
        const where = life === 'unknown' ? `; that host cannot be checked from here: remove ${path} once that run is known to be over` : ''
        const waited = timeoutMs > 0 ? ` (waited ${Math.round(timeoutMs / 1000)} s, --lock-timeout)` : ''
        throw new EtlError('ETL_LOCKED', `${what} is locked by ${describeHolder(other)}${waited}${where}`, { details: { path, holder: other } })
      }
      const pause = Math.min(pollMs * (0.5 + Math.random()), Math.max(1, deadline - Date.now()))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pause)
        function done(): void {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', done)
          resolve()
        }
        options.signal?.addEventListener('abort', done, { once: true })
      })
    }
  } finally {
    await unlink(tmp).catch(() => {})
  }
  held.set(path, text)
  if (!exitHook) {
    exitHook = true
    // A run that exits without release() (an uncaught error, process.exit) does not leave its lock behind.
    process.on('exit', () => {
      for (const [p, mine] of held) if (sameFile(readText(p), mine)) try { unlinkSync(p) } catch { /* gone */ }
    })
  }
  let released = false
  return {
    path,
    holder,
    async release() {
      if (released) return
      released = true
      held.delete(path)
      const now = await readFile(path, 'utf8').catch(() => null)
      if (sameFile(now, text)) await unlink(path).catch(() => {})
    },
  }
}
