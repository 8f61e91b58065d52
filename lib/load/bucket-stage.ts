/**
 * The staging half of the local store (local-sink.ts): rows spread over
 * bucket files by a hash of their primary key, each bucket's keys beside it.
 *
 *     <dir>/part-000.csv   the header, then the rows of bucket 0 (their CSV lines)
 *     <dir>/keys-000.txt   one key per row (keyLine), in the same order
 *     ...
 *
 * The local sink stages into its own folder; a partition worker of
 * `etl run --partitions` stages into its part folder, and the coordinator's
 * sink adopts those folders (LocalSink.adopt) instead of reading the rows again.
 *
 * Writes are chained per bucket and not awaited batch by batch (one await per
 * flush made a run wait on the disk ~0.4 ms a batch) unless they hold more
 * than IN_FLIGHT_CHARS; the first failure is thrown by the next write or by
 * finish(). Bucket files are flushed to disk in the background as they grow.
 * Rows that come with their CSV lines (lib/csv/lines.ts) are not formatted again.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { EtlError } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { csvHeader, formatLines } from '../csv/format.ts'
import { cachedLines } from '../csv/lines.ts'
import { bucketOf, keyLine, keyOf, recordKeyOf } from './local-merge.ts'

export const partName = (i: number): string => `part-${String(i).padStart(3, '0')}.csv`
export const keysName = (i: number): string => `keys-${String(i).padStart(3, '0')}.txt`
/** What finish() leaves beside the bucket files: { buckets, rows, bucketRows }. */
export const STAGED_NAME = 'staged.json'

/** Characters of lines a bucket gathers before they are written. */
const FLUSH_CHARS = 64 * 1024

/** Characters written to a bucket file between two background fdatasyncs. */
const SYNC_EVERY = 4 * 1024 * 1024

/** Characters of writes under way past which a batch waits for them (bounded memory on a slow disk). */
const IN_FLIGHT_CHARS = 4 * 1024 * 1024

/** What a finished staging holds. */
export interface StagedBuckets {
  readonly buckets: number
  /** The CSV header of the bucket files (the columns). */
  readonly header: string
  readonly rows: number
  /** Rows per bucket (the merge sizes its key hashes by it). */
  readonly bucketRows: readonly number[]
}

export class BucketStager {
  readonly #dir: string
  readonly #buckets: number
  readonly #keyIdx: readonly number[]
  readonly #header: string
  readonly #names: string
  readonly #what: () => string
  readonly #files: (FileHandle | undefined)[]
  readonly #keyFiles: (FileHandle | undefined)[]
  // Per bucket: text not yet written (one flat piece per batch: no row or line of a batch stays alive), and its length.
  #textBuf: string[][]
  #keyBuf: string[][]
  readonly #bufChars: number[]
  readonly #bucketRows: number[]
  // Scratch lists of the batch being spread over the buckets (reused).
  readonly #lineLists: string[][]
  readonly #keyLists: string[][]
  readonly #writing: Promise<void>[]
  readonly #unsynced: number[]
  readonly #syncing: Promise<unknown>[] = []
  #inFlight = 0
  #failure: unknown
  #checked: readonly Column[] | undefined
  #rows = 0

  /** Stages rows of `columns` into `dir` (which must exist), in `buckets` files by the columns named in `primaryKey`. */
  constructor(dir: string, columns: readonly Column[], primaryKey: readonly string[], buckets: number) {
    this.#dir = dir
    this.#buckets = buckets
    this.#keyIdx = primaryKey.map((k) => columns.findIndex((c) => c.name === k))
    if (this.#keyIdx.some((i) => i < 0)) throw new EtlError('ETL_SINK', `the primary key ${primaryKey.join(', ')} is not among the columns ${columns.map((c) => c.name).join(', ')}`)
    this.#header = csvHeader(columns)
    this.#names = columns.map((c) => c.name).join(',')
    this.#what = () => primaryKey.join(', ')
    const lists = (): string[][] => Array.from({ length: buckets }, () => [])
    this.#files = new Array(buckets).fill(undefined)
    this.#keyFiles = new Array(buckets).fill(undefined)
    this.#textBuf = lists()
    this.#keyBuf = lists()
    this.#lineLists = lists()
    this.#keyLists = lists()
    this.#bufChars = new Array<number>(buckets).fill(0)
    this.#bucketRows = new Array<number>(buckets).fill(0)
    this.#unsynced = new Array<number>(buckets).fill(0)
    this.#writing = new Array<Promise<void>>(buckets).fill(Promise.resolve())
  }

  get rows(): number {
    return this.#rows
  }

  /** Spreads a batch over the buckets. Resolves at once unless the writes under way hold too much. */
  async write(batch: Batch): Promise<void> {
    if (batch.columns !== this.#checked) {
      if (batch.columns.map((c) => c.name).join(',') !== this.#names)
        throw new EtlError('ETL_SINK', `the local sink was prepared for columns ${this.#names} but a batch has ${batch.columns.map((c) => c.name).join(',')}`)
      this.#checked = batch.columns
    }
    const all = batch.rows
    // With the columns: a JSON string scalar keeps its quotes (`"123"` is not `123`).
    const lines = cachedLines(all) ?? formatLines(all, batch.columns)
    const keyIdx = this.#keyIdx
    for (let r = 0; r < all.length; r++) {
      const row = all[r]!
      const key = keyOf(row, keyIdx, this.#what)
      const i = bucketOf(key, this.#buckets)
      this.#lineLists[i]!.push(lines[r]!)
      this.#bucketRows[i]!++
      this.#keyLists[i]!.push(keyLine(recordKeyOf(row, keyIdx, key)))
    }
    for (let i = 0; i < this.#buckets; i++) {
      const list = this.#lineLists[i]!
      if (!list.length) continue
      list.push('')
      const text = list.join('\n')
      list.length = 0
      const keys = this.#keyLists[i]!
      keys.push('')
      this.#keyBuf[i]!.push(keys.join('\n'))
      keys.length = 0
      this.#textBuf[i]!.push(text)
      this.#bufChars[i]! += text.length
    }
    for (let i = 0; i < this.#buckets; i++) if (this.#bufChars[i]! >= FLUSH_CHARS) this.#flush(i)
    this.#rows += all.length
    if (this.#failure !== undefined || this.#inFlight > IN_FLIGHT_CHARS) await this.#drain()
  }

  /** Writes what is left, closes the files, leaves staged.json; resolves with what was staged. */
  async finish(): Promise<StagedBuckets> {
    for (let i = 0; i < this.#buckets; i++) this.#flush(i)
    await this.#drain()
    await this.close()
    const staged: StagedBuckets = { buckets: this.#buckets, header: this.#header, rows: this.#rows, bucketRows: [...this.#bucketRows] }
    await writeFile(join(this.#dir, STAGED_NAME), JSON.stringify(staged) + '\n')
    return staged
  }

  /** Waits for the writes under way and closes the files (never throws); the caller removes the folder. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#writing)
    await Promise.all(this.#syncing.splice(0))
    await Promise.allSettled([...this.#files, ...this.#keyFiles].map((f) => f?.close()))
    this.#files.fill(undefined)
    this.#keyFiles.fill(undefined)
  }

  #flush(i: number): void {
    const texts = this.#textBuf[i]!
    if (!texts.length) return
    const keys = this.#keyBuf[i]!
    const chars = this.#bufChars[i]!
    this.#textBuf[i] = []
    this.#keyBuf[i] = []
    this.#bufChars[i] = 0
    this.#inFlight += chars
    const files = this.#files
    const keyFiles = this.#keyFiles
    const step = this.#writing[i]!.then(async () => {
      const first = !files[i]
      files[i] ??= await open(join(this.#dir, partName(i)), 'w')
      keyFiles[i] ??= await open(join(this.#dir, keysName(i)), 'w')
      // Every bucket file starts with the header: a new bucket is renamed into place as it is.
      await Promise.all([files[i]!.write(first ? this.#header + texts.join('') : texts.join('')), keyFiles[i]!.write(keys.join(''))])
      this.#unsynced[i]! += chars
      if (this.#unsynced[i]! >= SYNC_EVERY) {
        this.#unsynced[i] = 0
        this.#syncing.push(files[i]!.datasync().catch(() => {}))
      }
    }).finally(() => {
      this.#inFlight -= chars
    })
    step.catch((err: unknown) => {
      this.#failure ??= err
    })
    this.#writing[i] = step
  }

  /** Waits for every write under way; throws the first failure. */
  async #drain(): Promise<void> {
    await Promise.allSettled(this.#writing)
    if (this.#failure !== undefined) throw this.#failure
  }
}
