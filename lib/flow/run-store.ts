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
import { EtlError } from '../errors.ts'
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

/** Writes a JSON file atomically (temporary name in the same folder, then rename). Throws ETL_DATA_DIR. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n')
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw new EtlError('ETL_DATA_DIR', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
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

/** Marks a `Running` record whose process (on this host) is gone as `Crashed`. */
function derive(record: RunRecord): RunRecord {
  if (record.state !== 'Running' || record.host !== hostname() || record.pid === process.pid) return record
  try {
    process.kill(record.pid, 0)
    return record
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? { ...record, state: 'Crashed' } : record
  }
}

async function readRecord(path: string): Promise<RunRecord | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1) return undefined
    return derive(value as RunRecord)
  } catch {
    return undefined
  }
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
  const exact = await readRecord(join(runsDir(dataDir), `${idOrPrefix}.json`))
  if (exact) return exact
  const matches = (await recordIds(dataDir)).filter((id) => id.startsWith(idOrPrefix))
  if (matches.length > 1) throw new EtlError('ETL_USAGE', `run id prefix ${idOrPrefix} matches ${matches.length} runs`, { details: { matches: matches.slice(0, 10) } })
  return matches[0] === undefined ? undefined : readRecord(join(runsDir(dataDir), `${matches[0]}.json`))
}

export interface ListRunsOptions {
  /** At most this many records, newest first. Default 20. */
  readonly limit?: number
  /** Only runs of this flow. */
  readonly flow?: string
  /** Only runs in this state. */
  readonly state?: RunState
}

/** The most recent run records, newest first (`etl runs`). Unreadable or foreign files are skipped. Throws ETL_DATA_DIR. */
export async function listRuns(dataDir: string, options: ListRunsOptions = {}): Promise<RunRecord[]> {
  const { limit = 20, flow, state } = options
  const ids = (await recordIds(dataDir)).reverse()
  const out: RunRecord[] = []
  for (const id of ids) {
    if (out.length >= limit) break
    const record = await readRecord(join(runsDir(dataDir), `${id}.json`))
    if (!record || (flow !== undefined && record.flow !== flow) || (state !== undefined && record.state !== state)) continue
    out.push(record)
  }
  return out
}
