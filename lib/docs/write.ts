/**
 * Writing the data docs under the data folder:
 *
 *     <dataDir>/runs/<id>.json  ──renderRunPage──>  <dataDir>/docs/runs/<id>.html
 *     every record (slimmed)    ──renderIndex────>  <dataDir>/docs/index.html
 *
 * Each file is written atomically (temporary name, then rename), so a reader
 * never sees half a page. Records are read one at a time and only what the
 * index needs is kept, so thousands of runs need little memory.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../csv/stage-file.ts'
import { EtlError, invalidOption } from '../errors.ts'
import type { RunRecord } from '../flow/run-record.ts'
import { readRun, runsDir } from '../flow/run-store.ts'
import { renderIndex } from './index-page.ts'
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

async function writePage(dir: string, record: RunRecord): Promise<string> {
  const path = join(dir, `${record.id}.html`)
  await writeFileAtomic(path, renderRunPage(record))
  return path
}

/**
 * Writes the page of `record` (or, without one, of every recorded run) and
 * rewrites the index from every run record of `dataDir` (plus `record`, which
 * wins over its stored version). Resolves the paths written.
 *
 * Throws ETL_INVALID_OPTION when `record.id` is not a run id (letters, digits,
 * `-` and `_`: it becomes a file name), ETL_DATA_DIR when the folder cannot be
 * read or written.
 */
export async function writeDocs(dataDir: string, record?: RunRecord): Promise<DocsPaths> {
  if (record && !idPattern.test(String(record.id))) throw invalidOption('record.id', 'a run id (letters, digits, - and _)', record.id)
  const dir = join(docsDir(dataDir), 'runs')
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  const pages: string[] = []
  const entries: RunRecord[] = []
  for (const id of await recordIds(dataDir)) {
    if (record && id === record.id) continue
    const stored = await readRun(dataDir, id)
    if (!stored || stored.id !== id) continue
    if (!record) pages.push(await writePage(dir, stored))
    entries.push(slim(stored))
  }
  if (record) {
    pages.push(await writePage(dir, record))
    entries.push(slim(record))
  }
  const index = join(docsDir(dataDir), 'index.html')
  await writeFileAtomic(index, renderIndex(entries))
  return { index, pages }
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
