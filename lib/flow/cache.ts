/**
 * Task result cache: `<dataDir>/cache/<key>.json`, written atomically. The
 * file name is the SHA-256 of the task name and the cache key, so any key is
 * a safe file name and two tasks never share an entry.
 *
 * An entry holds the result as JSON: what comes back from a cache hit is the
 * parsed JSON of what the task returned (a Date comes back as a string).
 *
 * An entry is trusted only while it is what was written and what it vouches
 * for is still there: it holds the SHA-256 of its result (`resultSha256`: an
 * edited result is not used) and, when the task names them, the size and
 * SHA-256 of the files the result is about (its input, the files it wrote);
 * an entry whose files changed, or went missing, is not used either.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { fileChecksum } from '../csv/lineage.ts'
import { join } from 'node:path'
import { EtlError } from '../errors.ts'
import { writeJsonAtomic } from './run-store.ts'

/** JSON with object keys sorted, so equal inputs give equal text whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k]
    return sorted
  }) ?? 'undefined'
}

/**
 * A cache key from a task's input: the SHA-256 (hex) of its stable JSON.
 * Prefect's `task_input_hash`. Use as `cacheKeyFn: taskInputHash`.
 */
export function taskInputHash(input: unknown): string {
  return createHash('sha256').update(stableJson(input)).digest('hex')
}

/** The cache entry's file key for a task and a key. */
export function cacheFileKey(taskName: string, key: string): string {
  return createHash('sha256').update(`${taskName}\n${key}`).digest('hex').slice(0, 40)
}

export interface CacheEntry {
  readonly version: 1
  readonly task: string
  readonly createdAt: string
  /** ISO 8601, or null for an entry that never expires. */
  readonly expiresAt: string | null
  readonly result: unknown
  /** `sha256:<hex>` of stableJson(result), written with it. */
  readonly resultSha256?: string
  /** The files the result vouches for, as they were when it was cached. */
  readonly files?: readonly FileStamp[]
}

/** A file as a cache entry saw it. */
export interface FileStamp {
  readonly path: string
  readonly size: number
  readonly sha256: string
}

/** The hash of a result as it comes back from its entry (JSON round trip: a Date as its string, undefined fields gone). */
const resultHash = (result: unknown): string =>
  `sha256:${createHash('sha256').update(stableJson(result === undefined ? null : JSON.parse(JSON.stringify(result)))).digest('hex')}`

/** The size and SHA-256 of each file. Throws ETL_INPUT when one cannot be read. */
export async function fileStamps(paths: readonly string[]): Promise<FileStamp[]> {
  const out: FileStamp[] = []
  for (const path of paths) out.push({ path, size: (await stat(path).catch(() => ({ size: -1 }))).size, sha256: await fileChecksum(path) })
  return out
}

/** Why an entry cannot be trusted (its result edited, a file it vouches for changed or gone), or undefined. */
export async function untrusted(entry: CacheEntry): Promise<string | undefined> {
  if (entry.resultSha256 === undefined || entry.resultSha256 !== resultHash(entry.result)) return 'its result is not the one it was written with'
  for (const f of entry.files ?? []) {
    const size = await stat(f.path).then((s) => s.size, () => undefined)
    if (size === undefined) return `${f.path} is gone`
    if (size !== f.size) return `${f.path} is ${size} bytes, not ${f.size}`
    if ((await fileChecksum(f.path).catch(() => undefined)) !== f.sha256) return `${f.path} changed since`
  }
  return undefined
}

export function cachePath(dataDir: string, fileKey: string): string {
  return join(dataDir, 'cache', `${fileKey}.json`)
}

/** Reads an entry; `undefined` when absent, unreadable, malformed or expired at `nowMs`. */
export async function readCache(dataDir: string, fileKey: string, nowMs: number): Promise<CacheEntry | undefined> {
  let entry: unknown
  try {
    entry = JSON.parse(await readFile(cachePath(dataDir, fileKey), 'utf8'))
  } catch {
    return undefined
  }
  if (typeof entry !== 'object' || entry === null || (entry as { version?: unknown }).version !== 1) return undefined
  const { expiresAt } = entry as { expiresAt?: unknown }
  if (expiresAt !== null && (typeof expiresAt !== 'string' || !(Date.parse(expiresAt) > nowMs))) return undefined
  return entry as CacheEntry
}

/** Writes an entry atomically. Throws ETL_DATA_DIR, or ETL_INTERNAL when the result is not JSON. */
export async function writeCache(dataDir: string, fileKey: string, entry: CacheEntry): Promise<void> {
  let text: string | undefined
  try {
    text = JSON.stringify(entry.result)
  } catch (err) {
    throw new EtlError('ETL_INTERNAL', `task ${entry.task}: result cannot be cached as JSON: ${(err as Error).message}`, { cause: err })
  }
  if (text === undefined && entry.result !== undefined) {
    throw new EtlError('ETL_INTERNAL', `task ${entry.task}: result cannot be cached as JSON (${typeof entry.result})`)
  }
  try {
    await mkdir(join(dataDir, 'cache'), { recursive: true })
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot create ${join(dataDir, 'cache')}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  await writeJsonAtomic(cachePath(dataDir, fileKey), { ...entry, resultSha256: resultHash(entry.result) })
}
