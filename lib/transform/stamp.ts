/**
 * The transform stage: the stream shell around the stamper.
 *
 *     ... -> validate() -> stamp(options) -> csvTee(transformed.csv) -> sink
 *                             'summary' before 'end', .summary promise, .counts
 */
import { Transform } from 'node:stream'
import { EtlError, asEtlError } from '../errors.ts'
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
  const core = createStamper(options)
  const { promise: summary, resolve, reject } = Promise.withResolvers<TransformSummary>()
  summary.catch(() => {})
  let sent = false

  const stream = new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(batch: Batch, _enc, cb) {
      let out: Batch
      if (!batch || !Array.isArray(batch.rows) || !Array.isArray(batch.columns)) {
        cb(new EtlError('ETL_TRANSFORM', 'the transform takes batches ({columns, rows}), not single rows'))
        return
      }
      try {
        out = core.stampBatch(batch)
      } catch (err) {
        cb(asEtlError(err, 'ETL_TRANSFORM'))
        return
      }
      if (out.rows.length === 0 && sent) {
        cb()
        return
      }
      sent = true
      cb(null, out)
    },
    flush(cb) {
      const s = core.summary()
      if (!sent && s.columns.length) stream.push({ columns: s.columns, rows: [] } satisfies Batch)
      stream.emit('summary', s)
      resolve(s)
      cb()
    },
    destroy(err, cb) {
      // No error, or an AbortError (a consumer's `break`, an abort signal): an early stop.
      const early = !err || (err as { code?: unknown }).code === 'ABORT_ERR'
      reject(early ? new EtlError('ETL_ABORTED', 'the transform stopped before its input ended', { cause: err ?? undefined }) : err)
      cb(err)
    },
  })
  Object.defineProperty(stream, 'counts', { get: () => core.counts(), enumerable: true })
  return Object.assign(stream, { summary }) as StampStream
}
