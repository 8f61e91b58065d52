/**
 * Run records on disk: `<dataDir>/runs/<id>.json`, each write atomic
 * (temporary file in the same folder, then rename), so a reader never sees a
 * half-written record. Ids are time-sortable, so the newest runs are the last
 * names in the folder.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { customAlphabet } from 'nanoid'
import { writeError } from '../csv/disk.ts'
import { EtlError } from '../errors.ts'
import { liveness } from '../load/lock.ts'
import { writerAlive } from './liveness.ts'
import type { RunRecord, RunState } from './run-record.ts'

const suffix = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 8)
const idPattern = /^[A-Za-z0-9_-]{1,100}$/

/** A new run id for a run starting at `at`: `20240102T030405123Z-k3v9x0qa`. */
export function newRunId(at: Date = new Date()): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${suffix()}`
}

/** The folder holding run records. */
export function runsDir(dataDir: string): string {
  return join(dataDir, 'runs')
}

/** Writes a JSON file atomically (temporary name in the same folder, then rename). Throws ETL_DISK_FULL, ETL_DATA_DIR. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const text = JSON.stringify(value, null, 2) + '\n'
  try {
    await writeFile(tmp, text)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw await writeError(path, err, Buffer.byteLength(text))
  }
}

/**
 * Saves one record as it changes. `save()` never runs two writes of the same
 * file at once: a save asked while one is in flight is coalesced into a single
 * later write of the newest state. `flush()` waits until the newest state is on
 * disk and rethrows the last write error (ETL_DATA_DIR), if any.
 */
export class RecordWriter {
  readonly path: string
  readonly #snapshot: () => unknown
  #running: Promise<void> | undefined
  #again = false
  #lastError: unknown

  constructor(path: string, snapshot: () => unknown) {
    this.path = path
    this.#snapshot = snapshot
  }

  /** Creates the folder and writes the first state; throws ETL_DATA_DIR when it cannot. */
  async start(): Promise<void> {
    try {
      await mkdir(join(this.path, '..'), { recursive: true })
    } catch (err) {
      throw new EtlError('ETL_DATA_DIR', `cannot create ${join(this.path, '..')}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
    }
    await writeJsonAtomic(this.path, this.#snapshot())
  }

  save(): void {
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.#loop()
  }

  async flush(): Promise<void> {
    this.save()
    while (this.#running) await this.#running
    if (this.#lastError !== undefined) {
      const err = this.#lastError
      this.#lastError = undefined
      throw err
    }
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false
      try {
        await writeJsonAtomic(this.path, this.#snapshot())
        this.#lastError = undefined
      } catch (err) {
        this.#lastError = err
      }
    } while (this.#again)
    this.#running = undefined
  }
}

function checkId(id: string): void {
  if (!idPattern.test(id)) throw new EtlError('ETL_USAGE', `not a run id: ${JSON.stringify(id)}`)
}

/**
 * Whether the process of a `Running` record is gone: by host, pid and start
 * time together (lib/load/lock.ts). A record written before the start time was
 * recorded is judged by its pid and, where /proc tells, by whether that pid's
 * process started after the run did (then the pid was reused).
 */
function processGone(record: RunRecord): boolean {
  if (record.host !== hostname()) return false // another host's process cannot be judged from here
  if (record.processStart !== undefined) return liveness({ host: record.host, pid: record.pid, start: record.processStart, boot: record.boot ?? null }) === 'dead'
  if (record.pid === process.pid) return false
  return !writerAlive(record.pid, Date.parse(record.start))
}

/** Marks a `Running` record whose process is gone as `Crashed`. */
function derive(record: RunRecord): RunRecord {
  return record.state === 'Running' && processGone(record) ? { ...record, state: 'Crashed' } : record
}

/** `20240102T030405123Z-k3v9x0qa` -> `2024-01-02T03:04:05.123Z` (the start a run id encodes), or the epoch. */
function startOfId(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id)
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : new Date(0).toISOString()
}

/** What is listed for a record file that cannot be read: state `Unreadable`, its error saying why. */
function unreadable(id: string, path: string, why: string): RunRecord {
  return {
    version: 1, id, flow: 'unknown', state: 'Unreadable', start: startOfId(id), tasks: [], summary: {}, hooks: [], notifications: [], host: '', pid: 0,
    error: { code: 'ETL_DATA_DIR', message: `the run record ${path} cannot be read: ${why}` },
  }
}

/** True for the placeholder of a record file that cannot be read. */
export function isUnreadable(record: RunRecord): boolean {
  return record.state === 'Unreadable'
}

async function readRecord(path: string, id: string): Promise<RunRecord | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return unreadable(id, path, `not valid JSON (${text.length ? `${text.length} bytes, cut short or damaged` : 'empty'}: ${(err as Error).message})`)
  }
  const r = value as Partial<RunRecord> | null
  if (typeof r !== 'object' || r === null || r.version !== 1) return unreadable(id, path, 'not a run record of this version')
  if (typeof r.id !== 'string' || typeof r.state !== 'string' || typeof r.start !== 'string' || !Array.isArray(r.tasks) || typeof r.summary !== 'object' || r.summary === null)
    return unreadable(id, path, 'a run record without its id, state, start, tasks or summary')
  return derive({ ...(r as RunRecord), hooks: r.hooks ?? [], notifications: r.notifications ?? [] })
}

async function recordIds(dataDir: string): Promise<string[]> {
  try {
    const names = await readdir(runsDir(dataDir))
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter((id) => idPattern.test(id))
      .sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new EtlError('ETL_DATA_DIR', `cannot list ${runsDir(dataDir)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

/**
 * Reads one run record by id or by a unique prefix of its id (`etl runs <id>`).
 * Resolves `undefined` when no record matches. Throws ETL_USAGE for a malformed
 * id or an ambiguous prefix, ETL_DATA_DIR when the folder cannot be read.
 */
export async function readRun(dataDir: string, idOrPrefix: string): Promise<RunRecord | undefined> {
  checkId(idOrPrefix)
  const exact = await readRecord(join(runsDir(dataDir), `${idOrPrefix}.json`), idOrPrefix)
  if (exact) return exact
  const matches = (await recordIds(dataDir)).filter((id) => id.startsWith(idOrPrefix))
  if (matches.length > 1) throw new EtlError('ETL_USAGE', `run id prefix ${idOrPrefix} matches ${matches.length} runs`, { details: { matches: matches.slice(0, 10) } })
  return matches[0] === undefined ? undefined : readRecord(join(runsDir(dataDir), `${matches[0]}.json`), matches[0])
}

export interface ListRunsOptions {
  /** At most this many records, newest first. Default 20. */
  readonly limit?: number
  /** Only runs of this flow. */
  readonly flow?: string
  /** Only runs in this state. */
  readonly state?: RunState
}

/**
 * The most recent run records, newest first (`etl runs`). A record file that
 * cannot be read is listed as state `Unreadable` (isUnreadable()), its
 * `error` saying why; it is not left out. Throws ETL_DATA_DIR.
 */
export async function listRuns(dataDir: string, options: ListRunsOptions = {}): Promise<RunRecord[]> {
  const { limit = 20, flow, state } = options
  const ids = (await recordIds(dataDir)).reverse()
  const out: RunRecord[] = []
  for (const id of ids) {
    if (out.length >= limit) break
    const record = await readRecord(join(runsDir(dataDir), `${id}.json`), id)
    if (!record || (flow !== undefined && record.flow !== flow) || (state !== undefined && record.state !== state)) continue
    out.push(record)
  }
  return out
}
