/**
 * `etl transform` as a function: a stage CSV in (extracted.csv, typed by its
 * schema sidecar), stamped, a stage CSV out (transformed.csv + sidecar with
 * the two new columns), written under a temporary name and renamed when done.
 *
 *     csvSource(input) -> stamp(options) -> csvSink(output)
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { csvSource } from '../csv/read.ts'
import { readSidecar } from '../csv/schema.ts'
import type { Lineage } from '../csv/lineage.ts'
import { csvSink } from '../csv/stage-file.ts'
import { EtlError, invalidOption } from '../errors.ts'
import type { StampOptions } from './options.ts'
import { stamp } from './stamp.ts'
import type { TransformSummary } from './stamper.ts'

export interface TransformCsvOptions extends Omit<StampOptions, 'columns'> {
  /** The stage CSV to read (its `.schema.json` sidecar beside it). */
  readonly input: string
  /** The stage CSV to write (and its sidecar). */
  readonly output: string
  /** Rows per batch read (default 1000). */
  readonly batchSize?: number | undefined
  /** The extract the input descends from, named in the output's sidecar (lib/csv/lineage.ts). */
  readonly lineage?: Lineage | undefined
  /** Stops the run: the output is not written, the promise rejects. */
  readonly signal?: AbortSignal | undefined
}

/**
 * Reads `input`, stamps every row (stamp() options), writes `output` and its
 * sidecar; resolves with the summary plus `file` (the output path) and
 * `durationMs`. The columns are planned from the input's sidecar before any
 * row is read.
 *
 * Errors: ETL_INVALID_OPTION (options; input and output the same file);
 * ETL_INPUT (input or sidecar missing or unreadable, a value not of its type);
 * ETL_COLUMN_NAME (a column name that cannot be a feature name, a clash with
 * idColumn/datetimeColumn); ETL_TRANSFORM (a NULL key of a derived id);
 * ETL_DATA_DIR (the output cannot be written); an AbortError on `signal`.
 * On any error no output file is left behind (nor a temporary one).
 */
export async function transformCsv(options: TransformCsvOptions): Promise<TransformSummary & { readonly file: string; readonly durationMs: number }> {
  const started = Date.now()
  const { input, output, batchSize = 1000, signal, lineage, ...stampOptions } = options
  if (typeof input !== 'string' || !input) throw invalidOption('input', 'a file path', input)
  if (typeof output !== 'string' || !output) throw invalidOption('output', 'a file path', output)
  if (resolve(input) === resolve(output)) throw invalidOption('output', 'a file other than input', output)
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidOption('batchSize', 'a positive integer', batchSize)
  let inputBytes: number
  try {
    inputBytes = (await stat(input)).size
  } catch (err) {
    throw new EtlError('ETL_INPUT', `input file not found: ${input}`, { cause: err })
  }
  const { columns } = await readSidecar(input)
  const stamper = stamp({ ...stampOptions, columns })
  await pipeline(csvSource(input, { batchSize }), stamper, csvSink(output, {
    sidecar: () => ({ dropped: stamper.counts.dropped }),
    lineage: () => lineage,
    // The output holds every input row and two more columns: at least the input's size.
    expectedBytes: inputBytes,
  }), { signal })
  const summary = await stamper.summary
  return { ...summary, file: output, durationMs: Date.now() - started }
}
