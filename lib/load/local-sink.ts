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
 * Cost of the upsert: commit() rewrites every bucket file (old rows streamed,
 * never all in memory) and holds one bucket of the new load in memory at a
 * time (about load size / buckets).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { EtlError, invalidOption } from '../errors.ts'
import type { Batch, Column, Row } from '../types.ts'
import { partLines } from './batch-parts.ts'
import { csvHeader } from '../csv/format.ts'
import { assertSameSchema, featureGroupDto, type FeatureGroupDto, type FeatureGroupOptions } from './feature-group.ts'
import { bucketOf, keyOf, mergeBucket } from './local-merge.ts'
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
  let rows = 0
  let state: 'open' | 'staged' | 'committing' | 'committed' | 'aborted' = 'open'
  let checked: readonly Column[] | undefined
  const names = options.columns.map((c) => c.name).join(',')

  async function writeBatch(batch: Batch): Promise<void> {
    if (state === 'aborted') throw new EtlError('ETL_ABORTED', 'the local load was aborted')
    if (batch.columns !== checked) {
      if (batch.columns.map((c) => c.name).join(',') !== names)
        throw new EtlError('ETL_SINK', `the local sink was prepared for columns ${names} but a batch has ${batch.columns.map((c) => c.name).join(',')}`)
      checked = batch.columns
    }
    const groups: Row[][] = Array.from({ length: buckets }, () => [])
    for (const row of batch.rows) groups[bucketOf(keyOf(row, keyIdx, () => primaryKey.join(', ')), buckets)]!.push(row)
    for (let i = 0; i < buckets; i++) {
      const g = groups[i]!
      if (!g.length) continue
      files[i] ??= await open(join(staging, 'incoming', partName(i)), 'w')
      await files[i]!.write(partLines(g))
    }
    rows += batch.rows.length
  }

  async function closeFiles(): Promise<void> {
    await Promise.allSettled(files.map((f) => f?.close()))
    files.fill(undefined)
  }

  const writable = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(batch: Batch, _enc, cb) {
      writeBatch(batch).then(() => cb(), (err: unknown) => cb(err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err })))
    },
    final(cb) {
      closeFiles().then(() => {
        if (state === 'open') state = 'staged'
        cb()
      }, cb)
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
      const header = csvHeader(options.columns)
      let total = 0
      for (let i = 0; i < buckets; i++)
        total += await mergeBucket(join(staging, 'incoming', partName(i)), join(location, partName(i)), join(out, partName(i)), header, keyIdx)
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
