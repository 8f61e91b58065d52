/**
 * One partition, as a worker runs it: the same stream as `etl run`'s first
 * step, over the rows of one key range, into part files of its own.
 *
 *     pgSource(range) -> [csvTee(p<i>/extracted.csv) -> validate(suite) -> stamp() -> csvTee(p<i>/transformed.csv)
 *                                                   └ p<i>/quarantine.csv          -> (local store) buckets in p<i>/store/]
 *                                                                                  p<i>/state.json (mergeable state)
 *
 * The part folder is `<parts>/p<i>`, named by the run and the partition only:
 * a retried partition first empties it and then writes the same names again,
 * so it replaces its parts and never adds to them. The folder of the run
 * (`<parts>`) is made by the coordinator; when the coordinator has given up and
 * removed it, a late worker cannot recreate it (mkdir is not recursive) and
 * its job fails instead of leaving files behind.
 *
 * The job's output (what the coordinator reads back) holds the counts, the
 * transform's per-column tallies and the state file's name; the state itself
 * can be large (exact medians keep each distinct value), so it stays a file.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { csvTeeStep, writeFileAtomic } from '../csv/stage-file.ts'
import { EtlError } from '../errors.ts'
import type { ColumnStats, Suite } from '../expectations/types.ts'
import type { DbConfig } from '../extract/connect.ts'
import { pgSource } from '../extract/pg-source.ts'
import type { SourceSpec } from '../extract/relation.ts'
import type { IdentityKey } from '../extract/identity.ts'
import type { Settings } from '../pipelines/settings.ts'
import { STAGE_FILES } from '../pipelines/files.ts'
import { BucketStager } from '../load/bucket-stage.ts'
import { fuse, type Step } from '../step.ts'
import { stampStep } from '../transform/stamp.ts'
import { quarantineCsv } from '../validate/quarantine.ts'
import { validateStep } from '../validate/validate.ts'

/** What the coordinator sends for one key range (JSON; never a secret: workers take credentials from their own environment). */
export interface PartitionJob {
  readonly runId: string
  readonly index: number
  readonly count: number
  /** The range's rows: a query over the table, its bounds written in as literals. */
  readonly source: SourceSpec & { readonly query: string }
  /** Absolute folder of the run's parts (made by the coordinator). */
  readonly parts: string
  readonly suite: Suite
  /** z-score statistics over the whole table (the coordinator's prepass), so every partition judges by the same mean. */
  readonly stats: Readonly<Record<string, ColumnStats>> | undefined
  readonly batchSize: number
  readonly invalidRows: Settings['invalidRows']
  readonly transform: Omit<Settings['transform'], 'id'> & { readonly id: 'nanoid' | 'derived'; readonly runTime: string }
  /**
   * The run loads into the local store: also stage the transformed rows into its buckets (`p<i>/store/`, as
   * BucketStager writes them), which the coordinator's sink adopts instead of reading transformed.csv again.
   */
  readonly store?: { readonly buckets: number; readonly primaryKey: readonly string[] }
  /** Derived ids: the key the coordinator resolved; the range query gets the id column (lib/extract/identity.ts). */
  readonly identity?: { readonly idColumn: string; readonly resolved: IdentityKey }
}

export interface PartitionOutput {
  readonly index: number
  /** The pg-boss attempt (retryCount) that produced these parts. */
  readonly attempt: number
  readonly extracted: number
  readonly validated: number
  readonly invalid: number
  readonly quarantined: number
  readonly transformed: number
  readonly dropped: number
  readonly missing: Readonly<Record<string, number>>
  readonly filled: Readonly<Record<string, number>>
  readonly durationMs: number
}

/** The files of partition `index` under the run's parts folder. */
export function partFiles(parts: string, index: number) {
  const dir = join(parts, `p${index}`)
  return {
    dir,
    extracted: join(dir, STAGE_FILES.extracted),
    transformed: join(dir, STAGE_FILES.transformed),
    quarantine: join(dir, STAGE_FILES.quarantine),
    state: join(dir, 'state.json'),
    store: join(dir, 'store'),
  }
}

/** A step staging each batch into the local store's buckets in `dir` (made on the first batch, which carries the columns). */
function storeStep(dir: string, store: NonNullable<PartitionJob['store']>): Step {
  let stager: BucketStager | undefined
  return {
    async batch(batch) {
      if (!stager) {
        await mkdir(dir)
        stager = new BucketStager(dir, batch.columns, store.primaryKey, store.buckets)
      }
      await stager.write(batch)
      return batch
    },
    async end() {
      await stager?.finish()
    },
    async abort() {
      await stager?.close()
    },
  }
}

/** Runs one partition; resolves with the job output. `onRows`: rows read so far. */
export async function runPartition(job: PartitionJob, db: DbConfig, options: { readonly signal?: AbortSignal; readonly attempt?: number; readonly onRows?: (rows: number) => void } = {}): Promise<PartitionOutput> {
  const started = Date.now()
  const files = partFiles(job.parts, job.index)
  await rm(files.dir, { recursive: true, force: true })
  try {
    await mkdir(files.dir)
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot make the part folder ${files.dir} (was the run given up?): ${(err as Error).message}`, { cause: err })
  }
  const source = pgSource(db, job.source, { batchSize: job.batchSize, keepLines: true, ...(options.signal ? { signal: options.signal } : {}), ...(job.identity ? { identity: job.identity } : {}) })
  const quarantine = job.invalidRows === 'quarantine' ? quarantineCsv(files.quarantine) : undefined
  const validator = validateStep({ suite: job.suite, policy: job.invalidRows, quarantine, stats: job.stats, meta: { run_id: job.runId, partition: job.index }, hideColumn: job.identity?.idColumn })
  const { runTime, ...transform } = job.transform
  const stamper = stampStep({ ...transform, runTime: new Date(runTime) })
  try {
    await pipeline(
      source,
      fuse([
        csvTeeStep(files.extracted, { keepLines: true }), validator, stamper, csvTeeStep(files.transformed, { sidecar: () => ({ dropped: stamper.counts.dropped }) }),
        ...(job.store ? [storeStep(files.store, job.store)] : []),
      ]),
      new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(_batch, _e, cb) {
          options.onRows?.(source.rowCount)
          cb()
        },
      }),
      ...(options.signal ? [{ signal: options.signal }] : []),
    )
    const v = await validator.summary
    const t = await stamper.summary
    const state = validator.stateJSON()
    if (state === undefined) throw new EtlError('ETL_INTERNAL', `partition ${job.index}: the validation has no state`)
    await writeFileAtomic(files.state, JSON.stringify(state))
    return {
      index: job.index, attempt: options.attempt ?? 0, extracted: source.rowCount, validated: v.rows, invalid: v.invalidRows, quarantined: v.quarantinedRows,
      transformed: t.rows, dropped: t.dropped, missing: t.missing, filled: t.filled, durationMs: Date.now() - started,
    }
  } catch (err) {
    source.destroy()
    await quarantine?.discard()
    await rm(files.dir, { recursive: true, force: true }).catch(() => {})
    throw err
  }
}
