/**
 * The local feature store: the default sink when no Hopsworks is configured.
 *
 *     <dataDir>/feature_store/
 *       <name>_<version>/            the feature group
 *         manifest.json              the current version: names every part with its rows, bytes and sha256
 *                                    (store-manifest.ts); a commit replaces it by one rename
 *         feature_group.json         the feature group, exactly as it would be sent to Hopsworks
 *         part-000.<gen>.csv ...     the rows (CSV with header), spread over `buckets` files by a hash of
 *                                    the primary key; <gen> is the load that wrote the file
 *       .<name>_<version>.lock       the writer's lock (lock.ts), from the start of staging to the end of the commit
 *       .staging-<name>_<version>-<id>/   a load under way: owner.json (its run), incoming/ (staged rows),
 *                                    out/ (merged parts), commit.json (the journal of its commit)
 *
 * One writer per feature group: localSink() takes the group's lock (waiting
 * up to `lockTimeoutMs` for a live holder, then ETL_LOCKED), puts right what
 * dead loads left (store-recover.ts), checks the parts against the manifest
 * (ETL_STORE_INTEGRITY), and stages. commit() merges the staged rows with the
 * stored ones bucket by bucket (local-merge.ts: upsert on the primary key, as
 * Hopsworks' Hudi tables do; `write: 'append'` adds, `'replace'` keeps only
 * this load's rows), moves the new parts in beside the old ones, and replaces
 * manifest.json by a single rename: a kill at any instant leaves the old store
 * or the new one. The old parts go after that rename. A failed commit removes
 * its staged copy and its new parts before it reports; abort() removes the
 * staging folder. Both release the lock; the group stays as it was.
 *
 * Cost of the upsert: commit() rewrites every bucket that gets rows (old and
 * new rows streamed, never all in memory), two buckets at a time, holding 8
 * bytes per new key of those buckets; a bucket no row goes to keeps its file
 * (merge, append). Staging writes each bucket's keys beside its rows, so the
 * merge never parses the new rows unless a key meets an old row; a new bucket
 * is renamed into place. Every old part the merge reads is checked against its
 * sha256 first, and every new part measured once.
 * Staging is bucket-stage.ts (BucketStager): through `writable`, or done by
 * partition workers elsewhere and taken over with adopt().
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, rmdir, stat, statfs, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { EtlError, invalidOption } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { csvHeader } from '../csv/format.ts'
import { BucketStager, keysName, partName, STAGED_NAME, type StagedBuckets } from './bucket-stage.ts'
import { assertSameSchema, FEATURE_GROUP_DEFAULTS, featureGroupDto, type FeatureGroupDto, type FeatureGroupOptions } from './feature-group.ts'
import { mergeBucket, type BucketFigures } from './local-merge.ts'
import { acquireLock, type Lock } from './lock.ts'
import { appendFile, syncFiles } from './store-files.ts'
import { checkPart, FEATURE_GROUP, integrity, manifestText, MANIFEST, measurePart, partFile, partsOf, readManifest, type Manifest, type PartEntry, type StoredManifest } from './store-manifest.ts'
import { JOURNAL, OWNER, recoverGroup, stagingPrefix, type CommitJournal } from './store-recover.ts'
import type { LoadReport, LoadSummary, StagedSink, WriteDisposition } from './sink.ts'

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
  /** merge (default): upsert on the primary key; append: add the rows; replace: the group holds exactly this load's rows. */
  readonly write?: WriteDisposition
  /** How long to wait for another live load of the same group before ETL_LOCKED. Default 60,000 ms. */
  readonly lockTimeoutMs?: number
  /** Names this load in the lock (and in another load's refusal). Default a random id. */
  readonly runId?: string
  /** Stops the wait for the lock (ETL_CANCELLED). */
  readonly signal?: AbortSignal
}

export interface LocalSink extends StagedSink {
  /** The folder of the feature group. */
  readonly location: string
  /** Its bucket files (an existing feature group's own count). */
  readonly buckets: number
  /** Stages the buckets BucketStagers wrote into `dirs` as this load, instead of rows through `writable`; resolves with their rows. */
  adopt(dirs: readonly string[]): Promise<number>
}

/** Buckets merged at once by commit(). */
const MERGE_CONCURRENCY = 2

/** The steps of a commit, where ETL_TEST_STORE_KILL=<step> makes the process SIGKILL itself (the fault tests). */
export const COMMIT_STEPS = ['staged', 'merged', 'journal', 'moving', 'moved', 'manifest', 'committed'] as const
function step(name: (typeof COMMIT_STEPS)[number]): void {
  if (process.env['ETL_TEST_STORE_KILL'] === name) process.kill(process.pid, 'SIGKILL')
}

/** ENOSPC / EDQUOT: no space on the store's device. */
function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir)
    return s.bavail * s.bsize
  } catch {
    return undefined
  }
}

/**
 * How many bucket files a load into the local feature group uses: an existing
 * one's own count, else `buckets` (default 16). What partition workers stage
 * by (see LocalSink.adopt).
 */
export async function localStoreBuckets(dataDir: string, featureGroup: FeatureGroupOptions = {}, buckets = 16): Promise<number> {
  const name = featureGroup.name ?? FEATURE_GROUP_DEFAULTS.name
  const version = featureGroup.version ?? FEATURE_GROUP_DEFAULTS.version
  const existing = await readManifest(join(resolve(dataDir, 'feature_store'), `${name}_${version}`)).catch(() => undefined)
  return existing?.buckets ?? buckets
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_DATA_DIR', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/** Checks every part the manifest names: present, its size and header (`size`), or also its sha256 and rows (`full`). */
export async function checkStore(location: string, manifest: StoredManifest, header: string, level: 'size' | 'full'): Promise<void> {
  if (manifest.format !== 2) return
  if (manifest.header !== header) throw integrity(join(location, MANIFEST), `its header ${JSON.stringify(manifest.header.trim())} is not the columns' ${JSON.stringify(header.trim())}`)
  for (const part of manifest.parts) await checkPart(location, part, header, level)
}

/**
 * Prepares a local load: takes the group's lock, puts right what dead loads
 * left, checks the stored parts, makes the staging folder. Throws
 * ETL_INVALID_OPTION / ETL_COLUMN_NAME for bad options or columns, ETL_LOCKED
 * when another live load holds the group past `lockTimeoutMs`,
 * ETL_STORE_INTEGRITY when a stored file differs from the manifest, ETL_SINK
 * when the feature group exists with another schema (before any data),
 * ETL_DATA_DIR when the folder cannot be written, ETL_DISK_FULL when it is full.
 */
export async function localSink(options: LocalSinkOptions): Promise<LocalSink> {
  const dto: FeatureGroupDto = featureGroupDto(options.columns, options.featureGroup)
  const write = options.write ?? 'merge'
  if (write !== 'merge' && write !== 'append' && write !== 'replace') throw invalidOption('write', 'merge, append or replace', write)
  const primaryKey = dto.features.filter((f) => f.primary).map((f) => f.name)
  const keyIdx = primaryKey.map((k) => options.columns.findIndex((c) => c.name === k))
  // The event time is stamped by each run: a row equal but for it is unchanged (and keeps its first event time).
  const eventIdx = dto.eventTime === undefined ? -1 : options.columns.findIndex((c) => c.name === dto.eventTime)
  const root = resolve(options.dataDir, 'feature_store')
  const group = `${dto.name}_${dto.version}`
  const location = join(root, group)
  const runId = options.runId ?? randomBytes(6).toString('hex')
  const staging = join(root, `${stagingPrefix(group)}${randomBytes(4).toString('hex')}`)
  const header = csvHeader(options.columns) // the first line of every bucket file, staged ones too (a new bucket is renamed into place)
  const diskFull = (err: unknown, doing: string): EtlError =>
    new EtlError('ETL_DISK_FULL', `no space left in ${root} while ${doing}; free some space there and run again (nothing was committed)`, { cause: err, details: { path: root } })
  const wrap = (err: unknown): EtlError =>
    err instanceof EtlError ? err : isDiskFull(err) ? diskFull(err, 'staging the rows') : new EtlError('ETL_DATA_DIR', `cannot write ${staging}: ${(err as Error).message}`, { cause: err })

  try {
    await mkdir(root, { recursive: true })
  } catch (err) {
    throw isDiskFull(err) ? diskFull(err, 'making the store folder') : new EtlError('ETL_DATA_DIR', `cannot write ${root}: ${(err as Error).message}`, { cause: err })
  }
  const lock: Lock = await acquireLock(join(root, `.${group}.lock`), { runId, timeoutMs: options.lockTimeoutMs ?? 60_000, signal: options.signal, what: `the feature group ${group} (${location})` })
  let existing: StoredManifest | undefined
  let buckets: number
  try {
    await recoverGroup(root, group)
    existing = await readManifest(location)
    if (existing) {
      const fgJson = (await readJson(join(location, FEATURE_GROUP))) as FeatureGroupDto | undefined
      assertSameSchema(dto, fgJson ?? {}, `the local feature store (${location})`, 'ETL_SINK')
      await checkStore(location, existing, header, 'size')
    }
    buckets = existing?.buckets ?? options.buckets ?? 16
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1024) throw invalidOption('local.buckets', 'an integer from 1 to 1024', buckets)
    await mkdir(join(staging, 'incoming'), { recursive: true })
    await writeFile(join(staging, OWNER), JSON.stringify(lock.holder) + '\n')
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => {})
    await lock.release()
    throw wrap(err)
  }

  const incoming = join(staging, 'incoming')
  const stager = new BucketStager(incoming, options.columns, primaryKey, buckets)
  let bucketRows: readonly number[] = new Array<number>(buckets).fill(0) // staged rows per bucket (the merge sizes its key hashes by it)
  let rows = 0
  let state: 'open' | 'staged' | 'committing' | 'committed' | 'failed' | 'aborted' = 'open'

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
    if (state === 'failed') throw new EtlError('ETL_SINK', 'the commit failed and its staged copy is gone; run the load again')
    if (state !== 'staged') throw new EtlError('ETL_SINK', state === 'open' ? 'commit() before the sink\'s input ended' : 'commit() was already called')
    state = 'committing'
    step('staged')
    const out = join(staging, 'out')
    const old = existing
    const generation = (old?.format === 2 ? old.generation : 0) + 1
    const oldParts = old ? partsOf(old) : []
    const adds: string[] = []
    let journaled = false
    let stagedBytes = 0
    let committed = false
    const figures: (BucketFigures | undefined)[] = new Array(buckets).fill(undefined)
    try {
      // A bucket no row goes to keeps its file (merge, append); the others are merged into out/.
      const keep = (i: number): boolean => old?.format === 2 && write !== 'replace' && (bucketRows[i] ?? 0) === 0
      const todo = Array.from({ length: buckets }, (_, i) => i).filter((i) => !keep(i))
      // Space: a merged bucket is written afresh before its old file goes. It holds at least the new rows (append:
      // exactly the old and the new ones); a commit that cannot fit even that is refused before it writes anything.
      let needed = 0
      for (const i of todo) stagedBytes += await stat(join(incoming, partName(i))).then((x) => x.size, () => 0)
      for (const i of todo) needed += (write === 'append' ? ((oldParts[i] as PartEntry | undefined)?.bytes ?? 0) : 0) + (await stat(join(incoming, partName(i))).then((x) => x.size, () => 0))
      const free = await freeBytes(root)
      if (free !== undefined && needed > free)
        throw new EtlError('ETL_DISK_FULL', `no space left in ${root} for the commit: it needs at least ${mb(needed)}, ${mb(free)} are free; free some space there and run again (nothing was committed)`, { details: { path: root, needed, free } })
      await mkdir(out)
      const merged = Array.from({ length: buckets }, (_, i) => join(out, partName(i)))
      let next = 0
      // A few buckets at a time: one bucket's reads and writes wait on the disk while another's keys are hashed.
      const mergeSome = async (): Promise<void> => {
        for (let k = next++; k < todo.length; k = next++) {
          const i = todo[k]!
          const prev = oldParts[i]
          const oldPath = join(location, prev?.file ?? partFile(i, 0))
          if (prev?.sha256 !== undefined) await checkPart(location, prev as PartEntry, header, 'sha')
          const f = await mergeBucket(join(incoming, partName(i)), join(incoming, keysName(i)), oldPath, merged[i]!, header, keyIdx, { sync: false, keys: bucketRows[i] ?? 0, unique: options.uniqueKeys === true, write, ...(eventIdx >= 0 ? { ignore: eventIdx } : {}) })
          if (prev?.rows !== undefined && f.before !== prev.rows) throw integrity(oldPath, `it holds ${f.before} rows, the manifest says ${prev.rows}`)
          figures[i] = f
        }
      }
      const settled = await Promise.allSettled(Array.from({ length: Math.min(MERGE_CONCURRENCY, todo.length) }, mergeSome))
      const failed = settled.find((x) => x.status === 'rejected')
      if (failed) throw failed.reason
      // Durable before the manifest names them; synced together rather than one bucket after the other.
      await syncFiles(todo.map((i) => merged[i]!))
      step('merged')
      const parts: PartEntry[] = []
      for (let i = 0; i < buckets; i++) {
        if (keep(i)) {
          parts.push(oldParts[i] as PartEntry)
          continue
        }
        const m = await measurePart(merged[i]!, false)
        parts.push({ file: partFile(i, generation), rows: figures[i]!.rows, bytes: m.bytes, sha256: m.sha256 })
      }
      const names = new Set(parts.map((p) => p.file))
      const journal: CommitJournal = { generation, adds: todo.map((i) => parts[i]!.file), obsolete: oldParts.map((p) => p.file).filter((f) => !names.has(f)), created: !old }
      await writeFile(join(staging, JOURNAL), JSON.stringify(journal) + '\n', { flush: true })
      journaled = true
      step('journal')
      await mkdir(location, { recursive: true })
      if (!old) {
        const tmp = join(location, `${FEATURE_GROUP}.${runId}.tmp`)
        await writeFile(tmp, JSON.stringify(dto, null, 2) + '\n', { flush: true })
        await rename(tmp, join(location, FEATURE_GROUP))
      }
      for (const i of todo) {
        await rename(merged[i]!, join(location, parts[i]!.file))
        adds.push(parts[i]!.file)
        if (adds.length === 1) step('moving')
      }
      step('moved')
      const total = parts.reduce((n, p) => n + p.rows, 0)
      const manifest: Omit<Manifest, 'checksum'> = { format: 2, generation, primaryKey, buckets, header, rows: total, parts, loads: [...(old?.loads ?? []), { at: new Date().toISOString(), rows, write }] }
      const tmp = join(location, `${MANIFEST}.${runId}.tmp`)
      await writeFile(tmp, manifestText(manifest), { flush: true })
      step('manifest')
      await rename(tmp, join(location, MANIFEST)) // the commit
      committed = true
      await syncDir(location)
      step('committed')
      for (const f of journal.obsolete) await unlink(join(location, f)).catch(() => {})
    } catch (err) {
      if (!committed) {
        state = 'failed'
        // Nothing visible changed: the new parts the manifest never named go, and the staged copy.
        if (journaled) {
          const named = new Set(old ? partsOf(old).map((p) => p.file) : [])
          for (const f of adds) if (!named.has(f)) await unlink(join(location, f)).catch(() => {})
          await unlink(join(location, `${MANIFEST}.${runId}.tmp`)).catch(() => {})
          if (!old) {
            await unlink(join(location, FEATURE_GROUP)).catch(() => {})
            await rmdir(location).catch(() => {})
          }
        }
        await stager.close()
        await rm(staging, { recursive: true, force: true }).catch(() => {})
        await lock.release()
        if (err instanceof EtlError) throw err
        if (isDiskFull(err)) throw diskFull(err, `committing (merging ${mb(stagedBytes)} of staged rows with the stored ones)`)
        throw new EtlError('ETL_DATA_DIR', `cannot commit the local feature group ${location}: ${(err as Error).message}`, { cause: err })
      }
      // Committed: only the cleanup failed; the next load finishes it (store-recover.ts).
    }
    state = 'committed'
    await rm(staging, { recursive: true, force: true }).catch(() => {})
    await lock.release()
    const sum = (k: keyof BucketFigures): number => figures.reduce((n, f) => n + (f?.[k] ?? 0), 0)
    const rowsBefore = old?.rows ?? 0
    const rowsAfter = rowsBefore + sum('rows') - sum('before')
    const report: LoadReport = { write, inserted: sum('inserted'), updated: sum('updated'), unchanged: sum('unchanged'), deleted: sum('deleted'), rowsBefore, rowsAfter }
    return { sink: 'local', rows, report, featureGroup: { name: dto.name, version: dto.version }, location, columns: options.columns }
  }

  async function abort(): Promise<void> {
    if (state === 'committed' || state === 'committing' || state === 'aborted' || state === 'failed') return
    state = 'aborted'
    // A writer still attached (a running pipeline) hears why; with nobody listening, a plain destroy.
    if (!writable.destroyed) writable.destroy(writable.listenerCount('error') > 0 && !writable.writableFinished ? new EtlError('ETL_ABORTED', 'the local load was aborted') : undefined)
    await stager.close()
    await rm(staging, { recursive: true, force: true })
    await lock.release()
  }

  return { writable, commit, abort, adopt, location, buckets }
}

/** fsync of a folder: the renames into it are durable. */
async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r')
  try {
    await fd.sync()
  } finally {
    await fd.close()
  }
}
