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
 * Staging is bucket-stage.ts (BucketStager): through `writable`, or done by
 * partition workers elsewhere and taken over with adopt().
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { EtlError, invalidOption } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { csvHeader } from '../csv/format.ts'
import { BucketStager, keysName, partName, STAGED_NAME, type StagedBuckets } from './bucket-stage.ts'
import { assertSameSchema, FEATURE_GROUP_DEFAULTS, featureGroupDto, type FeatureGroupDto, type FeatureGroupOptions } from './feature-group.ts'
import { mergeBucket } from './local-merge.ts'
import { appendFile, syncFiles } from './store-files.ts'
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
  /** Its bucket files (an existing feature group's own count). */
  readonly buckets: number
  /** Stages the buckets BucketStagers wrote into `dirs` as this load, instead of rows through `writable`; resolves with their rows. */
  adopt(dirs: readonly string[]): Promise<number>
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


/** Buckets merged at once by commit(). */
const MERGE_CONCURRENCY = 2


/**
 * How many bucket files a load into the local feature group uses: an existing
 * one's own count, else `buckets` (default 16). What partition workers stage
 * by (see LocalSink.adopt).
 */
export async function localStoreBuckets(dataDir: string, featureGroup: FeatureGroupOptions = {}, buckets = 16): Promise<number> {
  const name = featureGroup.name ?? FEATURE_GROUP_DEFAULTS.name
  const version = featureGroup.version ?? FEATURE_GROUP_DEFAULTS.version
  const existing = (await readJson(join(resolve(dataDir, 'feature_store'), `${name}_${version}`, 'manifest.json'))) as Manifest | undefined
  return existing?.buckets ?? buckets
}

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

  const incoming = join(staging, 'incoming')
  const stager = new BucketStager(incoming, options.columns, primaryKey, buckets)
  let bucketRows: readonly number[] = new Array<number>(buckets).fill(0) // staged rows per bucket (the merge sizes its key hashes by it)
  let rows = 0
  let state: 'open' | 'staged' | 'committing' | 'committed' | 'aborted' = 'open'
  const header = csvHeader(options.columns) // the first line of every bucket file, staged ones too (a new bucket is renamed into place)
  const wrap = (err: unknown): EtlError => (err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err }))

  const writable = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _enc, cb) {
      if (state === 'aborted') return cb(new EtlError('ETL_ABORTED', 'the local load was aborted'))
      stager.write(batch).then(() => cb(), (err: unknown) => cb(wrap(err)))
    },
    final(cb) {
      stager.finish().then((staged) => {
        bucketRows = staged.bucketRows
        rows = staged.rows
        if (state === 'open') state = 'staged'
        cb()
      }, (err: unknown) => cb(wrap(err)))
    },
    destroy(err, cb) {
      stager.close().then(() => cb(err))
    },
  })

  /**
   * Takes as this load the buckets that BucketStagers wrote into `dirs` (partition workers of `etl run
   * --partitions`), in that order, instead of rows through `writable`. Each must hold this feature group's bucket
   * count and columns (its header); a bucket's files are joined by copying bytes. Throws ETL_SINK otherwise.
   */
  async function adopt(dirs: readonly string[]): Promise<number> {
    if (state !== 'open' || writable.writableLength || writable.writableEnded) throw new EtlError('ETL_SINK', 'adopt() takes the place of the writable: call it once, on a sink nothing was written to')
    const staged: StagedBuckets[] = []
    for (const dir of dirs) {
      const s = (await readJson(join(dir, STAGED_NAME))) as StagedBuckets | undefined
      if (!s || s.buckets !== buckets || s.header !== header || !Array.isArray(s.bucketRows) || s.bucketRows.length !== buckets)
        throw new EtlError('ETL_SINK', `${dir} holds no staged buckets for this feature group (${buckets} buckets of ${header.trim()})`)
      staged.push(s)
    }
    const skip = Buffer.byteLength(header)
    try {
      for (let i = 0; i < buckets; i++) {
        const parts = dirs.filter((_, d) => staged[d]!.bucketRows[i]! > 0)
        if (!parts.length) continue
        const part = await open(join(incoming, partName(i)), 'w')
        const keys = await open(join(incoming, keysName(i)), 'w')
        try {
          await part.write(header)
          for (const dir of parts) {
            await appendFile(part, join(dir, partName(i)), skip)
            await appendFile(keys, join(dir, keysName(i)))
          }
        } finally {
          await Promise.allSettled([part.close(), keys.close()])
        }
      }
    } catch (err) {
      throw wrap(err)
    }
    bucketRows = Array.from({ length: buckets }, (_, i) => staged.reduce((n, s) => n + s.bucketRows[i]!, 0))
    rows = staged.reduce((n, s) => n + s.rows, 0)
    state = 'staged'
    writable.destroy()
    return rows
  }

  async function commit(): Promise<LoadSummary> {
    if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the local load was aborted; nothing to commit')
    if (state !== 'staged') throw new EtlError('ETL_SINK', state === 'open' ? 'commit() before the sink\'s input ended' : 'commit() was already called')
    state = 'committing'
    const out = join(staging, 'out')
    let total = 0
    try {
      await mkdir(out)
      const merged = Array.from({ length: buckets }, (_, i) => join(out, partName(i)))
      // A few buckets at a time: one bucket's reads and writes wait on the disk while another's keys are hashed.
      let next = 0
      const mergeSome = async (): Promise<number> => {
        let rows = 0
        for (let i = next++; i < buckets; i = next++)
          rows += await mergeBucket(join(staging, 'incoming', partName(i)), join(staging, 'incoming', keysName(i)), join(location, partName(i)), merged[i]!, header, keyIdx, { sync: false, keys: bucketRows[i] ?? 0, unique: options.uniqueKeys === true })
        return rows
      }
      const settled = await Promise.allSettled(Array.from({ length: Math.min(MERGE_CONCURRENCY, buckets) }, mergeSome))
      const failed = settled.find((s) => s.status === 'rejected')
      if (failed) throw failed.reason
      total = settled.reduce((sum, s) => sum + (s.status === 'fulfilled' ? s.value : 0), 0)
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
    const report = { write: 'merge', inserted: null, updated: null, unchanged: null, deleted: null, rowsBefore: existing?.rows ?? 0, rowsAfter: total } as const
    return { sink: 'local', rows, report, featureGroup: { name: dto.name, version: dto.version }, location, columns: options.columns }
  }

  async function abort(): Promise<void> {
    if (state === 'committed' || state === 'committing' || state === 'aborted') return
    state = 'aborted'
    // A writer still attached (a running pipeline) hears why; with nobody listening, a plain destroy.
    if (!writable.destroyed) writable.destroy(writable.listenerCount('error') > 0 && !writable.writableFinished ? new EtlError('ETL_ABORTED', 'the local load was aborted') : undefined)
    await stager.close()
    await rm(staging, { recursive: true, force: true })
  }

  return { writable, commit, abort, adopt, location, buckets }
}
