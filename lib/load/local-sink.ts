/**
 * The local feature store: the default sink when no Hopsworks is configured.
 *
 *     <dataDir>/feature_store/<name>_<version>/
 *       feature_group.json     the feature group, exactly as it would be sent to Hopsworks
 *       manifest.json          layout: primary key, buckets, rows, loads
 *       part-000.csv ...       the rows (CSV with header), spread over `buckets` files by a
 *                              hash of the primary key
 *
 * Rows are written into a staging folder next to it (`.staging-<name>_<version>-<id>`);
 * commit() merges them with what is there (an upsert on the primary key, as
 * Hopsworks' Hudi tables do: a row whose key exists replaces the old row; the
 * last row of a key within one load wins) and renames the result into place.
 * abort() removes the staging folder; the feature group stays as it was.
 *
 * Cost of the upsert: commit() rewrites every bucket file (old and new rows
 * streamed, never all in memory), two buckets at a time, holding 8 bytes per
 * new key of those buckets (local-merge.ts). Staging writes each bucket's keys
 * beside its rows, so the merge never parses the new rows; a staged bucket
 * file starts with the header, so a new bucket is renamed into place.
 * Staging buffers each bucket's lines up to ~64 KiB before writing them (one
 * write per bucket and batch costed ~16 writes a batch); rows that come with
 * their CSV lines (lib/csv/lines.ts) are not formatted again.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { EtlError, invalidOption } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { csvHeader, formatLines } from '../csv/format.ts'
import { plainLines } from '../csv/lines.ts'
import { assertSameSchema, featureGroupDto, type FeatureGroupDto, type FeatureGroupOptions } from './feature-group.ts'
import { bucketOf, keyLine, keyOf, mergeBucket, recordKeyOf } from './local-merge.ts'
import { syncFiles } from './store-files.ts'
import type { LoadSummary, StagedSink } from './sink.ts'

export interface LocalSinkOptions {
  /** The data folder; the feature group goes to `<dataDir>/feature_store/<name>_<version>/`. */
  readonly dataDir: string
  /** The columns of the data (after transform). */
  readonly columns: readonly Column[]
  /** Name, version, description, primary key, event time (as for Hopsworks). */
  readonly featureGroup?: FeatureGroupOptions
  /** Bucket files of a new feature group (an existing one keeps its own). Default 16. */
  readonly buckets?: number
  /**
   * No primary key repeats within this load (the caller made the keys: nanoid or sequential ids), so a new
   * bucket is renamed into place without reading its keys. Default false: repeats are looked for.
   */
  readonly uniqueKeys?: boolean
}

export interface LocalSink extends StagedSink {
  /** The folder of the feature group. */
  readonly location: string
}

interface Manifest {
  readonly format: 1
  readonly primaryKey: readonly string[]
  readonly buckets: number
  readonly rows: number
  readonly loads: readonly { readonly at: string; readonly rows: number }[]
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}

const partName = (i: number): string => `part-${String(i).padStart(3, '0')}.csv`
const keysName = (i: number): string => `keys-${String(i).padStart(3, '0')}.txt`

/** Buckets merged at once by commit(). */
const MERGE_CONCURRENCY = 2

/** Characters of lines a bucket gathers before they are written. */
const FLUSH_CHARS = 64 * 1024

/** Characters written to a bucket file between two background fdatasyncs. */
const SYNC_EVERY = 4 * 1024 * 1024

/** Characters of writes under way past which a batch waits for them (bounded memory on a slow disk). */
const IN_FLIGHT_CHARS = 4 * 1024 * 1024

/**
 * Prepares a local load. Throws ETL_INVALID_OPTION / ETL_COLUMN_NAME for bad
 * options or columns, ETL_SINK when the feature group exists with another
 * schema (before any data), ETL_DATA_DIR when the folder cannot be written.
 */
export async function localSink(options: LocalSinkOptions): Promise<LocalSink> {
  const dto: FeatureGroupDto = featureGroupDto(options.columns, options.featureGroup)
  const primaryKey = dto.features.filter((f) => f.primary).map((f) => f.name)
  const keyIdx = primaryKey.map((k) => options.columns.findIndex((c) => c.name === k))
  const root = resolve(options.dataDir, 'feature_store')
  const location = join(root, `${dto.name}_${dto.version}`)
  const staging = join(root, `.staging-${dto.name}_${dto.version}-${randomBytes(4).toString('hex')}`)

  const existing = (await readJson(join(location, 'manifest.json'))) as Manifest | undefined
  if (existing) {
    const fgJson = (await readJson(join(location, 'feature_group.json'))) as FeatureGroupDto | undefined
    assertSameSchema(dto, fgJson ?? {}, `the local feature store (${location})`, 'ETL_SINK')
  }
  const buckets = existing?.buckets ?? options.buckets ?? 16
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1024) throw invalidOption('local.buckets', 'an integer from 1 to 1024', buckets)
  try {
    await mkdir(join(staging, 'incoming'), { recursive: true })
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err })
  }

  const files: (FileHandle | undefined)[] = new Array(buckets).fill(undefined)
  const keyFiles: (FileHandle | undefined)[] = new Array(buckets).fill(undefined)
  // Per bucket: text not yet written (one flat piece per batch: no row or line of a batch stays alive), and its length.
  const textBuf: string[][] = Array.from({ length: buckets }, () => [])
  const keyBuf: string[][] = Array.from({ length: buckets }, () => [])
  const bufChars: number[] = new Array<number>(buckets).fill(0)
  const bucketRows: number[] = new Array<number>(buckets).fill(0) // staged rows per bucket (the merge sizes its key hashes by it)
  // Scratch lists of the batch being spread over the buckets (reused).
  const lineLists: string[][] = Array.from({ length: buckets }, () => [])
  const keyLists: string[][] = Array.from({ length: buckets }, () => [])
  let rows = 0
  let state: 'open' | 'staged' | 'committing' | 'committed' | 'aborted' = 'open'
  let checked: readonly Column[] | undefined
  const header = csvHeader(options.columns) // the first line of every bucket file, staged ones too (a new bucket is renamed into place)
  const names = options.columns.map((c) => c.name).join(',')
  const what = (): string => primaryKey.join(', ')

  // Writes under way, chained per bucket (so a bucket's writes stay in order), and the characters they hold. A batch
  // does not wait for them (one await per flush made the run wait on the disk ~0.4 ms a batch) unless they hold more
  // than IN_FLIGHT_CHARS; the first failure is kept and thrown by the next write or by the end of the input.
  const writing: Promise<void>[] = new Array<Promise<void>>(buckets).fill(Promise.resolve())
  let inFlight = 0
  let failure: unknown
  // Background fdatasyncs (as stage files do), so that commit()'s fsync finds little left: characters since the last, per bucket.
  const unsynced: number[] = new Array<number>(buckets).fill(0)
  const syncing: Promise<unknown>[] = []

  function flushBucket(i: number): void {
    const texts = textBuf[i]!
    if (!texts.length) return
    const keys = keyBuf[i]!
    const chars = bufChars[i]!
    textBuf[i] = []
    keyBuf[i] = []
    bufChars[i] = 0
    inFlight += chars
    const step = writing[i]!.then(async () => {
      const first = !files[i]
      files[i] ??= await open(join(staging, 'incoming', partName(i)), 'w')
      keyFiles[i] ??= await open(join(staging, 'incoming', keysName(i)), 'w')
      await Promise.all([files[i]!.write(first ? header + texts.join('') : texts.join('')), keyFiles[i]!.write(keys.join(''))])
      unsynced[i]! += chars
      if (unsynced[i]! >= SYNC_EVERY) {
        unsynced[i] = 0
        syncing.push(files[i]!.datasync().catch(() => {}))
      }
    }).finally(() => {
      inFlight -= chars
    })
    step.catch((err: unknown) => {
      failure ??= err
    })
    writing[i] = step
  }

  /** Waits for every write under way; throws the first failure. */
  async function drain(): Promise<void> {
    await Promise.allSettled(writing)
    if (failure !== undefined) throw failure
  }

  async function writeBatch(batch: Batch): Promise<void> {
    if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the local load was aborted')
    if (batch.columns !== checked) {
      if (batch.columns.map((c) => c.name).join(',') !== names)
        throw new EtlError('ETL_SINK', `the local sink was prepared for columns ${names} but a batch has ${batch.columns.map((c) => c.name).join(',')}`)
      checked = batch.columns
    }
    const all = batch.rows
    const lines = plainLines(all) ?? formatLines(all)
    for (let r = 0; r < all.length; r++) {
      const row = all[r]!
      const key = keyOf(row, keyIdx, what)
      const i = bucketOf(key, buckets)
      lineLists[i]!.push(lines[r]!)
      bucketRows[i]!++
      keyLists[i]!.push(keyLine(recordKeyOf(row, keyIdx, key)))
    }
    for (let i = 0; i < buckets; i++) {
      const list = lineLists[i]!
      if (!list.length) continue
      list.push('')
      const text = list.join('\n')
      list.length = 0
      const keys = keyLists[i]!
      keys.push('')
      keyBuf[i]!.push(keys.join('\n'))
      keys.length = 0
      textBuf[i]!.push(text)
      bufChars[i]! += text.length
    }
    for (let i = 0; i < buckets; i++) if (bufChars[i]! >= FLUSH_CHARS) flushBucket(i)
    rows += all.length
    if (failure !== undefined || inFlight > IN_FLIGHT_CHARS) await drain()
  }

  async function closeFiles(): Promise<void> {
    await Promise.allSettled(writing)
    await Promise.all(syncing.splice(0))
    await Promise.allSettled([...files, ...keyFiles].map((f) => f?.close()))
    files.fill(undefined)
    keyFiles.fill(undefined)
  }

  const writable = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _enc, cb) {
      writeBatch(batch).then(() => cb(), (err: unknown) => cb(err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err })))
    },
    final(cb) {
      for (let i = 0; i < buckets; i++) flushBucket(i)
      drain().then(closeFiles).then(() => {
        if (state === 'open') state = 'staged'
        cb()
      }, (err: unknown) => cb(err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err })))
    },
    destroy(err, cb) {
      closeFiles().then(() => cb(err))
    },
  })

  async function commit(): Promise<LoadSummary> {
    if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the local load was aborted; nothing to commit')
    if (state !== 'staged') throw new EtlError('ETL_SINK', state === 'open' ? 'commit() before the sink\'s input ended' : 'commit() was already called')
    state = 'committing'
    const out = join(staging, 'out')
    try {
      await mkdir(out)
      const merged = Array.from({ length: buckets }, (_, i) => join(out, partName(i)))
      // A few buckets at a time: one bucket's reads and writes wait on the disk while another's keys are hashed.
      let next = 0
      const mergeSome = async (): Promise<number> => {
        let rows = 0
        for (let i = next++; i < buckets; i = next++)
          rows += await mergeBucket(join(staging, 'incoming', partName(i)), join(staging, 'incoming', keysName(i)), join(location, partName(i)), merged[i]!, header, keyIdx, { sync: false, keys: bucketRows[i]!, unique: options.uniqueKeys === true })
        return rows
      }
      const settled = await Promise.allSettled(Array.from({ length: Math.min(MERGE_CONCURRENCY, buckets) }, mergeSome))
      const failed = settled.find((s) => s.status === 'rejected')
      if (failed) throw failed.reason
      const total = settled.reduce((sum, s) => sum + (s.status === 'fulfilled' ? s.value : 0), 0)
      // Durable before the rename, as before; synced together rather than one bucket after the other.
      await syncFiles(merged)
      const manifest: Manifest = { format: 1, primaryKey, buckets, rows: total, loads: [...(existing?.loads ?? []), { at: new Date().toISOString(), rows }] }
      await writeFile(join(out, 'feature_group.json'), JSON.stringify(dto, null, 2) + '\n')
      await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
      // Swap: the old folder moves aside, the new one takes its name, the old one goes.
      if (existing) await rename(location, join(staging, 'old'))
      try {
        await rename(out, location)
      } catch (err) {
        if (existing) await rename(join(staging, 'old'), location) // put the old one back
        throw err
      }
    } catch (err) {
      state = 'staged'
      await rm(out, { recursive: true, force: true }).catch(() => {})
      throw err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot commit the local feature group ${location}: ${(err as Error).message}`, { cause: err })
    }
    state = 'committed'
    await rm(staging, { recursive: true, force: true }).catch(() => {}) // only the old copy and the incoming rows are left in it
    return { sink: 'local', rows, featureGroup: { name: dto.name, version: dto.version }, location, columns: options.columns }
  }

  async function abort(): Promise<void> {
    if (state === 'committed' || state === 'committing' || state === 'aborted') return
    state = 'aborted'
    // A writer still attached (a running pipeline) hears why; with nobody listening, a plain destroy.
    if (!writable.destroyed) writable.destroy(writable.listenerCount('error') > 0 && !writable.writableFinished ? new EtlError('ETL_ABORTED', 'the local load was aborted') : undefined)
    await closeFiles()
    await rm(staging, { recursive: true, force: true })
  }

  return { writable, commit, abort, location }
}
