/**
 * Stage files written so that a half-written file is never presented as
 * complete: data goes to `<name>.csv.<pid>.<rand>.tmp`, and only when the
 * input has ended is it renamed to `<name>.csv` (after its schema sidecar).
 * On any failure or early stop the temporary file is removed.
 *
 *     csvTee(path):  Batch -> (write lines) -> Batch     (one-pass run)
 *     csvSink(path): Batch -> (write lines)              (a stage run alone)
 *
 * At most one write is in flight: the batch after it waits, which is the
 * backpressure a slow disk gives. Every SYNC_EVERY characters the file is
 * flushed to disk in the background (fdatasync), so that the fsync before
 * the rename finds little left to write: a 130 MB transformed.csv made the
 * end of a run wait ~0.15 s.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto'
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { Transform, Writable } from 'node:stream'
import { EtlError } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { checkFreeSpace, writeError } from './disk.ts'
import { csvHeader, joinLines } from './format.ts'
import type { Lineage } from './lineage.ts'
import { batchLines } from './lines.ts'
import { sidecarPath } from './schema.ts'
import { stepStream, type Step } from '../step.ts'

/** Characters written between two background fdatasyncs of a stage file. */
const SYNC_EVERY = 16 * 1024 * 1024

/** `<path>.<pid>.<random>.tmp`: the pid tells a later run whose file it was (lib/cli/stale-files.ts). */
export function tmpName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
}

/** Writes a file atomically (temporary name, then rename). Throws ETL_DISK_FULL, ETL_DATA_DIR. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = tmpName(path)
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw await writeError(path, err, Buffer.byteLength(data))
  }
}

/** Options of a StageFileWriter. */
export interface StageFileWriterOptions {
  /** Keep each batch's CSV lines with its rows (see StageFileOptions.keepLines). */
  readonly keepLines?: boolean
  /** This file is an extract: its lineage is this id and its own checksum (lib/csv/lineage.ts). */
  readonly extractId?: string
  /** The lineage of the file this one is made from, asked at the commit. */
  readonly lineage?: () => Lineage | undefined
  /** Bytes the file is expected to take, when known: refused with ETL_DISK_FULL before writing when they do not fit. */
  readonly expectedBytes?: number
}

/** The common core of csvTee and csvSink. */
export class StageFileWriter {
  readonly path: string
  readonly #tmp: string
  #file: FileHandle | undefined
  #columns: readonly Column[] | undefined
  #pending: Promise<unknown> = Promise.resolve()
  /** Every write() in order: discard() waits for the one under way (even mid-open) before removing the file. */
  #queue: Promise<unknown> = Promise.resolve()
  #rows = 0
  /** The background fdatasync under way (never rejects), and the characters written since the last one began. */
  #syncing: Promise<unknown> = Promise.resolve()
  #unsynced = 0
  #done = false
  #discarded = false

  readonly #keepLines: boolean
  readonly #options: StageFileWriterOptions
  /** SHA-256 of every byte written, in order (the sidecar's `sha256`). */
  readonly #hash: Hash = createHash('sha256')
  #bytes = 0
  #checksum: string | undefined
  #lineage: Lineage | undefined

  constructor(path: string, options: StageFileWriterOptions = {}) {
    this.path = path
    this.#tmp = tmpName(path)
    this.#keepLines = options.keepLines === true
    this.#options = options
  }

  get rows(): number {
    return this.#rows
  }

  /** `sha256:<hex>` of the file, once committed. */
  get checksum(): string | undefined {
    return this.#checksum
  }

  /** The extract the committed file descends from (undefined before the commit, or when none was given). */
  get lineage(): Lineage | undefined {
    return this.#lineage
  }

  /** Hashes and counts a chunk, then writes it. */
  #put(file: FileHandle, text: string): Promise<unknown> {
    const bytes = Buffer.from(text)
    this.#hash.update(bytes)
    this.#bytes += bytes.length
    return file.write(bytes)
  }

  /** Queues a batch; resolves when the previous write has finished (so at most one is in flight). */
  write(batch: Batch): Promise<void> {
    const step = this.#queue.then(() => this.#write(batch))
    this.#queue = step.catch(() => {})
    return step
  }

  async #write(batch: Batch): Promise<void> {
    await this.#pending
    if (this.#discarded) return
    // The lines are kept with the batch: a later stage reuses them rather than formatting the row again (lines.ts).
    let text = joinLines(batchLines(batch, this.#keepLines))
    if (!this.#file) {
      this.#file = await this.#open()
      this.#columns = batch.columns
      text = csvHeader(batch.columns) + text
    }
    this.#rows += batch.rows.length
    const file = this.#file
    const before = this.#bytes
    this.#pending = this.#put(file, text).catch(async (err: unknown) => {
      throw await writeError(this.path, err, this.#bytes - before, before)
    })
    this.#pending.catch(() => {})
    this.#unsynced += text.length
    if (this.#unsynced >= SYNC_EVERY) {
      this.#unsynced = 0
      const written = this.#pending
      this.#syncing = Promise.all([this.#syncing, written]).then(() => file.datasync()).catch(() => {})
    }
  }

  async #open(): Promise<FileHandle> {
    if (this.#options.expectedBytes !== undefined) await checkFreeSpace(this.path, this.#options.expectedBytes)
    try {
      return await open(this.#tmp, 'w')
    } catch (err) {
      throw await writeError(this.path, err, 0)
    }
  }

  /**
   * Waits for the last write, renames the file into place and writes its sidecar (with `extra` fields, e.g.
   * counts). The old sidecar goes first: a stop in between leaves a CSV without a sidecar, which readers refuse
   * (ETL_INPUT), never a new sidecar beside the old CSV, which they would read as if it were the new one.
   */
  async commit(columnsIfEmpty: readonly Column[] = [], extra: Readonly<Record<string, unknown>> = {}): Promise<void> {
    await this.#queue
    await this.#pending
    await this.#syncing
    try {
      if (!this.#file) {
        this.#file = await this.#open()
        this.#columns = columnsIfEmpty
        if (columnsIfEmpty.length) await this.#put(this.#file, csvHeader(columnsIfEmpty))
      }
      await this.#file.sync()
    } catch (err) {
      throw err instanceof EtlError ? err : await writeError(this.path, err, 0, this.#bytes)
    }
    await this.#file.close()
    this.#file = undefined
    const checksum = `sha256:${this.#hash.digest('hex')}`
    const { extractId } = this.#options
    const lineage = extractId !== undefined ? { extractId, checksum } : this.#options.lineage?.()
    try {
      await rm(sidecarPath(this.path), { force: true })
      await rename(this.#tmp, this.path)
    } catch (err) {
      throw new EtlError('ETL_DATA_DIR', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err })
    }
    this.#done = true
    this.#checksum = checksum
    this.#lineage = lineage
    const sidecar = { ...extra, columns: this.#columns, rows: this.#rows, sha256: checksum, ...(lineage ? { lineage } : {}) }
    try {
      await writeFileAtomic(sidecarPath(this.path), JSON.stringify(sidecar, null, 2) + '\n')
    } catch (err) {
      // A CSV without its sidecar is refused by every reader: never one that looks complete beside no description.
      await rm(this.path, { force: true }).catch(() => {})
      throw err
    }
  }

  /** Removes the temporary file. Never throws. */
  async discard(): Promise<void> {
    if (this.#done) return
    this.#discarded = true
    await this.#queue
    await this.#pending.catch(() => {})
    await this.#syncing
    await this.#file?.close().catch(() => {})
    this.#file = undefined
    await rm(this.#tmp, { force: true }).catch(() => {})
  }
}

export interface StageFileOptions extends Omit<StageFileWriterOptions, 'keepLines'> {
  /** Extra fields for the schema sidecar, asked when the input has ended (e.g. `{ dropped }`). */
  readonly sidecar?: () => Readonly<Record<string, unknown>>
  /**
   * Keep each batch's CSV lines with its rows, for the stages after this one
   * (stamp, another csvTee, the sinks) to reuse instead of formatting the rows
   * again (lib/csv/lines.ts). Only when no stage after this one changes a row
   * in place. Default false.
   */
  readonly keepLines?: boolean
  /** Called with each batch as it comes in (progress, counts), before it is written. */
  readonly onBatch?: (batch: Batch) => void
}

/** csvTee's step (lib/step.ts): writes each batch and passes it on; commits at the end, discards on a stop. */
export function csvTeeStep(path: string, options: StageFileOptions = {}): Step & { readonly writer: StageFileWriter } {
  const writer = new StageFileWriter(path, options)
  let columns: readonly Column[] = []
  return {
    writer,
    async batch(batch: Batch): Promise<Batch> {
      columns = batch.columns
      options.onBatch?.(batch)
      await writer.write(batch)
      return batch
    },
    end: () => writer.commit(columns, options.sidecar?.()),
    abort: () => writer.discard(),
  }
}

/** Writes each batch to a stage CSV and passes it on (one-pass run). */
export function csvTee(path: string, options: StageFileOptions = {}): Transform & { readonly writer: StageFileWriter } {
  const step = csvTeeStep(path, options)
  return Object.assign(stepStream(step), { writer: step.writer })
}

/** Writes batches to a stage CSV (renamed into place when input ends). */
export function csvSink(path: string, options: StageFileOptions = {}): Writable & { readonly writer: StageFileWriter } {
  const writer = new StageFileWriter(path, options)
  let columns: readonly Column[] = []
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _enc, cb) {
      columns = batch.columns
      options.onBatch?.(batch)
      writer.write(batch).then(() => cb(), cb)
    },
    final(cb) {
      writer.commit(columns, options.sidecar?.()).then(() => cb(), cb)
    },
    destroy(err, cb) {
      writer.discard().then(() => cb(err))
    },
  })
  return Object.assign(stream, { writer })
}
