/**
 * Writing the data docs under the data folder:
 *
 *     <dataDir>/runs/<id>.json  ──renderRunPage──>  <dataDir>/docs/runs/<id>.html
 *     the run's row (indexEntry) ──> <dataDir>/docs/index.json (the newest rows) ──> <dataDir>/docs/index.html
 *
 * After a run (`writeDocs(dataDir, record)`) the index is updated, not
 * rebuilt: its row is added to the kept rows of `index.json`, the rows of
 * runs that retention removed (and beyond `limit`, the oldest) are dropped,
 * and the page is made from those rows. No other record is read, so a run
 * costs the same with 10 or 10,000 records behind it. Without a readable
 * `index.json` (first run, damaged file) the rows are made from every record
 * once. `etl docs` (`buildDocs`) rebuilds every page and the index from the
 * records.
 *
 * Each file is written atomically (temporary name, then rename), so a reader
 * never sees half a page. Two runs ending at the same moment in one data
 * folder can each miss the other's row (the last write wins); `etl docs`
 * puts it back.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../csv/stage-file.ts'
import { EtlError, invalidOption } from '../errors.ts'
import type { RunRecord } from '../flow/run-record.ts'
import { readRun, runsDir } from '../flow/run-store.ts'
import { readHistory, type History } from '../validate/history.ts'
import { indexEntry, newestEntriesFirst, renderIndexEntries, type IndexEntry } from './index-page.ts'
import { isObject } from './read.ts'
import { renderRunPage } from './run-page.ts'

const idPattern = /^[A-Za-z0-9_-]{1,100}$/

/** `<dataDir>/docs` */
export function docsDir(dataDir: string): string {
  return join(dataDir, 'docs')
}

export interface DocsPaths {
  /** `<dataDir>/docs/index.html` */
  readonly index: string
  /** The run pages written by this call. */
  readonly pages: readonly string[]
}

/** What the index needs of a record: the suite results' per-expectation lists are dropped. */
function slim(record: RunRecord): RunRecord {
  const summary: Record<string, unknown> = { ...record.summary }
  for (const key of ['validation', 'meta']) {
    const v = summary[key]
    if (isObject(v) && isObject(v['result'])) summary[key] = { ...v, result: { ...v['result'], results: [], evaluation_parameters: {} } }
  }
  return { ...record, summary, tasks: [], hooks: [], notifications: [] }
}

async function recordIds(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(runsDir(dataDir))).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => idPattern.test(id)).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new EtlError('ETL_DATA_DIR', `cannot list ${runsDir(dataDir)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

/** The suite history of a record's validation, for its drift charts (lib/validate/history.ts). */
async function historyOf(dataDir: string, record: RunRecord): Promise<History | undefined> {
  const summary = record.summary as { validation?: { result?: { meta?: Record<string, unknown> } } } | undefined
  const name = summary?.validation?.result?.meta?.['expectation_suite_name']
  return typeof name === 'string' ? readHistory(dataDir, name) : undefined
}

async function writePage(dir: string, record: RunRecord, dataDir: string): Promise<string> {
  const path = join(dir, `${record.id}.html`)
  await writeFileAtomic(path, renderRunPage(record, await historyOf(dataDir, record)))
  return path
}

/** Rows kept in the index (its page stays small whatever `keepRuns` is). */
export const INDEX_LIMIT = 1000

export interface WriteDocsOptions {
  /** Ids of runs removed (retention): their pages are deleted and their rows dropped. */
  readonly removed?: readonly string[]
  /** Rows kept in the index. Default INDEX_LIMIT. */
  readonly limit?: number
}

function indexJsonPath(dataDir: string): string {
  return join(docsDir(dataDir), 'index.json')
}

/** The kept rows, or undefined when the file is missing or not what we write. */
async function readIndexEntries(dataDir: string): Promise<IndexEntry[] | undefined> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(indexJsonPath(dataDir), 'utf8'))
  } catch {
    return undefined
  }
  if (!isObject(parsed) || parsed['version'] !== 1 || !Array.isArray(parsed['entries'])) return undefined
  const entries = parsed['entries'] as unknown[]
  const ok = entries.every((e) => isObject(e) && typeof e['id'] === 'string' && idPattern.test(e['id']) && typeof e['start'] === 'string' && typeof e['state'] === 'string' && typeof e['row'] === 'string')
  return ok ? (entries as IndexEntry[]) : undefined
}

/** Every record's row, reading the records one at a time (the first run, or a rebuild). */
async function entriesFromRecords(dataDir: string, pagesDir: string | undefined, skip: string | undefined, pages: string[]): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = []
  for (const id of await recordIds(dataDir)) {
    if (id === skip) continue
    const stored = await readRun(dataDir, id)
    if (!stored || stored.id !== id) continue
    if (pagesDir) pages.push(await writePage(pagesDir, stored, dataDir))
    entries.push(indexEntry(slim(stored)))
  }
  return entries
}

async function writeIndex(dataDir: string, entries: readonly IndexEntry[], limit: number): Promise<string> {
  const sorted = newestEntriesFirst(entries)
  const kept = sorted.slice(0, limit)
  await writeFileAtomic(indexJsonPath(dataDir), JSON.stringify({ version: 1, entries: kept }) + '\n')
  const index = join(docsDir(dataDir), 'index.html')
  await writeFileAtomic(index, renderIndexEntries(kept, sorted.length > kept.length))
  return index
}

/**
 * Writes the page of `record` and updates the index with its row (see the
 * header); without a record, rebuilds every page and the index from the run
 * records. Resolves the paths written.
 *
 * Throws ETL_INVALID_OPTION when `record.id` is not a run id (letters, digits,
 * `-` and `_`: it becomes a file name), ETL_DATA_DIR when the folder cannot be
 * read or written.
 */
export async function writeDocs(dataDir: string, record?: RunRecord, options: WriteDocsOptions = {}): Promise<DocsPaths> {
  if (record && !idPattern.test(String(record.id))) throw invalidOption('record.id', 'a run id (letters, digits, - and _)', record.id)
  const limit = options.limit ?? INDEX_LIMIT
  if (!Number.isInteger(limit) || limit < 1) throw invalidOption('docs.limit', 'an integer >= 1', limit)
  const dir = join(docsDir(dataDir), 'runs')
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  const pages: string[] = []
  const removed = new Set(options.removed ?? [])
  for (const id of removed) if (idPattern.test(id)) await rm(join(dir, `${id}.html`), { force: true }).catch(() => {})
  if (!record) return { index: await writeIndex(dataDir, await entriesFromRecords(dataDir, dir, undefined, pages), limit), pages }
  pages.push(await writePage(dir, record, dataDir))
  const kept = (await readIndexEntries(dataDir)) ?? (await entriesFromRecords(dataDir, undefined, record.id, pages))
  const entries = kept.filter((e) => e.id !== record.id && !removed.has(e.id))
  entries.push(indexEntry(slim(record)))
  return { index: await writeIndex(dataDir, entries, limit), pages }
}

/** Rebuilds every run page and the index from the run records (`etl docs`). Same errors as writeDocs. */
export function buildDocs(dataDir: string): Promise<DocsPaths> {
  return writeDocs(dataDir)
}

/**
 * Opens a file in the desktop's browser (`open` on macOS, `start` on Windows,
 * `xdg-open` elsewhere), detached. Resolves true when the opener started,
 * false when it could not (no opener, no desktop): never rejects, so the
 * caller prints the path instead.
 */
export function openInBrowser(path: string): Promise<boolean> {
  const [command, args] = process.platform === 'darwin' ? ['open', [path]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', path]]
    : ['xdg-open', [path]]
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args as string[], { detached: true, stdio: 'ignore', windowsHide: true })
      child.once('error', () => resolve(false))
      child.once('spawn', () => {
        child.unref()
        resolve(true)
      })
    } catch {
      resolve(false)
    }
  })
}
