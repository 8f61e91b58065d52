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
import { randomBytes } from 'node:crypto'
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { Transform, Writable } from 'node:stream'
import { EtlError } from '../errors.ts'
import type { Batch, Column } from '../types.ts'
import { csvHeader, joinLines } from './format.ts'
import { batchLines } from './lines.ts'
import { sidecarPath } from './schema.ts'
import { stepStream, type Step } from '../step.ts'

/** Characters written between two background fdatasyncs of a stage file. */
const SYNC_EVERY = 16 * 1024 * 1024

function tmpName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
}

/** Writes a file atomically (temporary name, then rename). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = tmpName(path)
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw new EtlError('ETL_DATA_DIR', `cannot write ${path}: ${(err as Error).message}`, { cause: err })
  }
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

  constructor(path: string, options: { readonly keepLines?: boolean } = {}) {
    this.path = path
    this.#tmp = tmpName(path)
    this.#keepLines = options.keepLines === true
  }

  get rows(): number {
    return this.#rows
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
    this.#pending = file.write(text).catch((err: unknown) => {
      throw new EtlError('ETL_DATA_DIR', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err })
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
    try {
      return await open(this.#tmp, 'w')
    } catch (err) {
      throw new EtlError('ETL_DATA_DIR', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err })
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
    if (!this.#file) {
      this.#file = await this.#open()
      this.#columns = columnsIfEmpty
      if (columnsIfEmpty.length) await this.#file.write(csvHeader(columnsIfEmpty))
    }
    await this.#file.sync()
    await this.#file.close()
    this.#file = undefined
    try {
      await rm(sidecarPath(this.path), { force: true })
      await rename(this.#tmp, this.path)
    } catch (err) {
      throw new EtlError('ETL_DATA_DIR', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err })
    }
    this.#done = true
    await writeFileAtomic(sidecarPath(this.path), JSON.stringify({ ...extra, columns: this.#columns, rows: this.#rows }, null, 2) + '\n')
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

export interface StageFileOptions {
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
