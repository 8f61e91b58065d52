/** Reading the local feature store as a user would, for the store's tests: every row through the manifest, and what else lies about. */
import { spawn } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'

export interface StoreState {
  /** user_id -> the row's age, read through the parts the manifest names (undefined: no manifest). */
  readonly rows: Map<string, string> | undefined
  /** Keys seen more than once. */
  readonly duplicates: number
  /** The manifest's own count. */
  readonly manifestRows: number | undefined
  /** Files in the feature_store folder the store does not need (staging, locks, unnamed parts, tmp), with their bytes. */
  readonly leftovers: readonly string[]
  readonly leftoverBytes: number
}

async function bytesOf(path: string): Promise<number> {
  const s = await stat(path)
  if (!s.isDirectory()) return s.size
  let n = 0
  for (const e of await readdir(path)) n += await bytesOf(join(path, e))
  return n
}

export async function storeState(dataDir: string, group = 'prostate_group_1'): Promise<StoreState> {
  const root = join(dataDir, 'feature_store')
  const location = join(root, group)
  const leftovers: string[] = []
  let leftoverBytes = 0
  for (const e of await readdir(root).catch(() => [] as string[])) {
    if (e === group) continue
    leftovers.push(e)
    leftoverBytes += await bytesOf(join(root, e))
  }
  const text = await readFile(join(location, 'manifest.json'), 'utf8').catch(() => undefined)
  const manifest = text === undefined ? undefined : (JSON.parse(text) as { rows: number; parts: { file: string }[] })
  const named = new Set(['manifest.json', 'feature_group.json', ...(manifest?.parts.map((p) => p.file) ?? [])])
  for (const e of await readdir(location).catch(() => [] as string[])) {
    if (named.has(e)) continue
    leftovers.push(`${group}/${e}`)
    leftoverBytes += await bytesOf(join(location, e))
  }
  if (!manifest) return { rows: undefined, duplicates: 0, manifestRows: undefined, leftovers, leftoverBytes }
  const rows = new Map<string, string>()
  let duplicates = 0
  for (const p of manifest.parts) {
    for (const r of parse(await readFile(join(location, p.file)), { columns: true }) as Record<string, string>[]) {
      if (rows.has(r['user_id']!)) duplicates++
      rows.set(r['user_id']!, r['age']!)
    }
  }
  return { rows, duplicates, manifestRows: manifest.rows, leftovers, leftoverBytes }
}

const loader = fileURLToPath(new URL('./store-load.ts', import.meta.url))

export interface LoadRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly out: string
  /** The report line, parsed (when the load committed). */
  readonly report?: Record<string, number | string>
}

/** Runs test/support/store-load.ts with `args`; `env` adds variables (ETL_TEST_STORE_KILL). `onStaged` is called when it has staged. */
export function storeLoad(args: Record<string, unknown>, env: Record<string, string> = {}, onStaged?: () => void): Promise<LoadRun> & { pid: () => number | undefined; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [loader, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (!out.includes('staged') && (out + d).includes('staged\n')) onStaged?.()
    out += d
  })
  const done = new Promise<LoadRun>((resolve) => child.on('close', (code, signal) => {
    const line = out.split('\n').find((l) => l.startsWith('{'))
    resolve({ code, signal, out, ...(line ? { report: JSON.parse(line) as Record<string, number | string> } : {}) })
  }))
  return Object.assign(done, { pid: () => child.pid, kill: (s: NodeJS.Signals) => void child.kill(s) })
}
