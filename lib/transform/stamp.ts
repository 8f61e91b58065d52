/**
 * The transform stage: the stream shell around the stamper.
 *
 *     ... -> validate() -> stamp(options) -> csvTee(transformed.csv) -> sink
 *                             'summary' before 'end', .summary promise, .counts
 */
import type { Transform } from 'node:stream'
import { EtlError, asEtlError } from '../errors.ts'
import { stepStream, type Step } from '../step.ts'
import type { Batch } from '../types.ts'
import type { StampOptions } from './options.ts'
import { createStamper, type TransformCounts, type TransformSummary } from './stamper.ts'

/** The stage: a Transform of Batch with its summary and live counts. */
export interface StampStream extends Transform {
  /** Resolves at stream end (before 'end'); rejects with the stream's error, or ETL_ABORTED when destroyed before the end. Never left pending. */
  readonly summary: Promise<TransformSummary>
  /** Live counters (a new snapshot on each read). */
  readonly counts: TransformCounts
}

/**
 * Creates the transform stage: an object-mode Transform of Batch -> Batch.
 * Each output batch holds new rows (input rows are never mutated): the input
 * values under their feature names (lowercased), a NULL handled by the
 * missing-value policy (`keep`, `drop` the row, `{fill: value}`), then the id
 * (`idColumn`) and the time (`datetimeColumn`). The output `columns` is one
 * frozen array for the whole stream. A batch whose rows are all dropped is not
 * passed on, except that the first batch always is (it carries the columns);
 * with `columns` given and no batch in, one empty batch comes out at the end.
 *
 * Options (StampOptions): `id` ('nanoid' default | 'sequential' | 'derived'),
 * `key` (derived), `start` (sequential, default 1), `datetime` ('run' default |
 * 'row'), `runTime` (default new Date() now), `now` (default Date.now),
 * `idColumn` (default 'user_id'), `datetimeColumn` (default 'datetime'),
 * `missing` ({default, columns}, default keep), `columns` (plan at once).
 *
 * Events: `'summary'` (TransformSummary), emitted before `'end'`.
 *
 * Errors: thrown at once: ETL_INVALID_OPTION (bad options), and with `columns`
 * what planColumns throws. In the stream: ETL_COLUMN_NAME / ETL_INVALID_OPTION
 * (the plan, on the first batch, before any row moves); ETL_TRANSFORM (a NULL
 * key value of a derived id; the columns changing mid-stream).
 */
export function stamp(options: StampOptions = {}): StampStream {
  const step = stampStep(options, { onSummary: (s) => stream.emit('summary', s) })
  const stream = stepStream(step)
  Object.defineProperty(stream, 'counts', { get: () => step.counts, enumerable: true })
  return Object.assign(stream, { summary: step.summary }) as StampStream
}

/** stamp()'s step (lib/step.ts), for a fused chain: `summary` and `counts` as on the stream. */
export function stampStep(options: StampOptions = {}, hooks: { readonly onSummary?: (s: TransformSummary) => void } = {}): Step & { readonly summary: Promise<TransformSummary>; readonly counts: TransformCounts } {
  const core = createStamper(options)
  const { promise: summary, resolve, reject } = Promise.withResolvers<TransformSummary>()
  summary.catch(() => {})
  let sent = false
  return {
    summary,
    get counts() {
      return core.counts()
    },
    batch(batch: Batch): Batch | undefined {
      if (!batch || !Array.isArray(batch.rows) || !Array.isArray(batch.columns))
        throw new EtlError('ETL_TRANSFORM', 'the transform takes batches ({columns, rows}), not single rows')
      let out: Batch
      try {
        out = core.stampBatch(batch)
      } catch (err) {
        throw asEtlError(err, 'ETL_TRANSFORM')
      }
      if (out.rows.length === 0 && sent) return undefined
      sent = true
      return out
    },
    end(): Batch | undefined {
      const s = core.summary()
      hooks.onSummary?.(s)
      resolve(s)
      return !sent && s.columns.length ? { columns: s.columns, rows: [] } : undefined
    },
    abort(err: Error | null): void {
      // No error, or an AbortError (a consumer's `break`, an abort signal): an early stop.
      const early = !err || (err as { code?: unknown }).code === 'ABORT_ERR'
      reject(early ? new EtlError('ETL_ABORTED', 'the transform stopped before its input ended', { cause: err ?? undefined }) : err)
    },
  }
}
