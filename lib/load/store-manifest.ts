/**
 * The manifest of a local feature group: the one file that names its current
 * version. A commit writes the new parts under new names beside the old ones,
 * then replaces `manifest.json` by a single rename; a kill at any instant
 * leaves the old manifest (and the old parts it names) or the new one.
 *
 *     manifest.json   { format: 2, generation, primaryKey, buckets, header, rows,
 *                       parts: [{ file, rows, bytes, sha256 }] (one per bucket),
 *                       loads, checksum }   (checksum: sha256 of the rest)
 *
 * A part file is `part-<bucket>.<generation>.csv`, generation being the load
 * that wrote it (a bucket no load touched keeps its older file). A store of
 * the first layout (format 1: `part-<bucket>.csv`, no part list) is read as
 * it is; its next commit writes format 2.
 */
import { createHash } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { EtlError } from '../errors.ts'
import { eachRecord, IO_BUFFER } from './store-files.ts'

export const MANIFEST = 'manifest.json'
export const FEATURE_GROUP = 'feature_group.json'

export interface PartEntry {
  readonly file: string
  readonly rows: number
  readonly bytes: number
  readonly sha256: string
}

export interface Manifest {
  readonly format: 2
  /** Loads committed so far (the generation of the newest parts). */
  readonly generation: number
  readonly primaryKey: readonly string[]
  readonly buckets: number
  /** The first line of every part. */
  readonly header: string
  readonly rows: number
  readonly parts: readonly PartEntry[]
  readonly loads: readonly { readonly at: string; readonly rows: number; readonly write?: string }[]
  readonly checksum?: string
}

/** A manifest as read: format 2, or a format-1 one (parts unknown: `part-XXX.csv`, no checksums). */
export type StoredManifest = Manifest | { readonly format: 1; readonly primaryKey: readonly string[]; readonly buckets: number; readonly rows: number; readonly loads: Manifest['loads'] }

export const partFile = (bucket: number, generation: number): string => `part-${String(bucket).padStart(3, '0')}${generation ? `.${generation}` : ''}.csv`

function checksumOf(m: Omit<Manifest, 'checksum'>): string {
  return createHash('sha256').update(JSON.stringify({ ...m, checksum: undefined })).digest('hex')
}

/** The manifest's text, its checksum included. */
export function manifestText(m: Omit<Manifest, 'checksum'>): string {
  return JSON.stringify({ ...m, checksum: checksumOf(m) }, null, 2) + '\n'
}

export function integrity(file: string, what: string): EtlError {
  return new EtlError('ETL_STORE_INTEGRITY', `${file}: ${what}; the local feature store is damaged: run \`etl store verify\` (--repair to rebuild what can be rebuilt)`, { details: { file } })
}

/**
 * Reads a feature group's manifest: undefined when there is none. Throws
 * ETL_STORE_INTEGRITY when it cannot be parsed, its checksum differs, or its
 * fields do not agree with each other (another bucket count than parts).
 */
export async function readManifest(location: string): Promise<StoredManifest | undefined> {
  const path = join(location, MANIFEST)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  let m: StoredManifest & { checksum?: string }
  try {
    m = JSON.parse(text) as StoredManifest
  } catch {
    throw integrity(path, 'it is not JSON')
  }
  if (!m || typeof m !== 'object' || !Number.isInteger(m.buckets) || m.buckets < 1 || !Array.isArray(m.primaryKey)) throw integrity(path, 'it lacks its buckets or primary key')
  if (m.format === 1) return m
  if (m.format !== 2) throw integrity(path, `format ${JSON.stringify((m as { format: unknown }).format)} is not one this version reads`)
  if (m.checksum !== checksumOf(m)) throw integrity(path, 'its checksum differs from its content (edited or damaged)')
  if (!Array.isArray(m.parts) || m.parts.length !== m.buckets) throw integrity(path, `it names ${m.parts?.length} parts for ${m.buckets} buckets`)
  const sum = m.parts.reduce((n, p) => n + p.rows, 0)
  if (sum !== m.rows) throw integrity(path, `its parts hold ${sum} rows, it says ${m.rows}`)
  return m
}

/** The part entries of a manifest (format 1: the bucket files, sizes and checksums unknown). */
export function partsOf(m: StoredManifest): readonly (PartEntry | { readonly file: string; readonly rows?: undefined; readonly bytes?: undefined; readonly sha256?: undefined })[] {
  if (m.format === 2) return m.parts
  return Array.from({ length: m.buckets }, (_, i) => ({ file: partFile(i, 0) }))
}

/** What a part file holds: bytes, sha256, and (when `count`) its records after the header. */
export async function measurePart(path: string, count: boolean): Promise<{ bytes: number; sha256: string; rows: number | undefined; header: string }> {
  const file = await open(path, 'r')
  const hash = createHash('sha256')
  let bytes = 0
  let first = ''
  try {
    const buf = Buffer.allocUnsafe(IO_BUFFER)
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null)
      if (bytesRead === 0) break
      if (bytes === 0) first = buf.toString('utf8', 0, Math.min(bytesRead, 64 * 1024))
      hash.update(buf.subarray(0, bytesRead))
      bytes += bytesRead
    }
  } finally {
    await file.close()
  }
  let rows: number | undefined
  if (count) {
    rows = 0
    await eachRecord(path, [], true, () => void rows!++)
  }
  const nl = first.indexOf('\n')
  return { bytes, sha256: hash.digest('hex'), rows, header: nl < 0 ? first : first.slice(0, nl + 1) }
}

async function firstBytes(path: string, n: number): Promise<string> {
  const file = await open(path, 'r')
  try {
    const buf = Buffer.alloc(n)
    const { bytesRead } = await file.read(buf, 0, n, 0)
    return buf.toString('utf8', 0, bytesRead)
  } finally {
    await file.close()
  }
}

/**
 * Checks that a part file is the one the manifest names: size and first line
 * (`size`), also its sha256 (`sha`), also its row count (`full`). Throws
 * ETL_STORE_INTEGRITY naming the file and what differs.
 */
export async function checkPart(location: string, part: PartEntry, header: string, level: 'size' | 'sha' | 'full'): Promise<void> {
  const path = join(location, part.file)
  let size: number
  try {
    size = (await stat(path)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw integrity(path, 'it is missing')
    throw err
  }
  if (size !== part.bytes) throw integrity(path, `it holds ${size} bytes, the manifest says ${part.bytes}`)
  if ((await firstBytes(path, Buffer.byteLength(header))) !== header) throw integrity(path, `its first line is not the header ${JSON.stringify(header.trim())}`)
  if (level === 'size') return
  const got = await measurePart(path, level === 'full')
  if (got.sha256 !== part.sha256) throw integrity(path, `its sha256 is ${got.sha256}, the manifest says ${part.sha256}`)
  if (level === 'full' && got.rows !== part.rows) throw integrity(path, `it holds ${got.rows} rows, the manifest says ${part.rows}`)
}
