/**
 * The validating stage: batches pass through while every row is checked
 * against an expectation suite; the suite result comes out at stream end.
 *
 *     pgSource -> validate({ suite }) -> ...        'invalid' per failing row
 *                      |                           'summary' before 'end'
 *                 (quarantine.csv)                 .summary promise
 *
 * The engine (lib/expectations) is compiled on the first batch, against its
 * columns, and fed each batch column-wise. Rows failing a row-level
 * expectation are reported; with policy `quarantine` they are also taken out
 * of the batch that flows on and handed to the quarantine sink. Bad data is
 * counted, never thrown: only faults (a broken quarantine file, a suite that
 * cannot run with catch_exceptions false) fail the stream.
 */
import type { Transform } from 'node:stream'
import { EtlError, asEtlError, invalidOption } from '../errors.ts'
import { compile, type CompileOptions, type CompiledSuite, type SuiteState } from '../expectations/engine.ts'
import type { Suite, SuiteResult } from '../expectations/types.ts'
import { cachedLines, keepLines } from '../csv/lines.ts'
import { stepStream, type Step } from '../step.ts'
import type { Batch, Column, Row } from '../types.ts'
import type { QuarantineSink } from './quarantine.ts'

/** What happens to rows failing a row-level expectation. */
export type InvalidPolicy = 'keep' | 'quarantine'

/** Options of validate(); the CompileOptions (stats, evaluationParameters, resultFormat, catchExceptions) pass to the engine. */
export interface ValidateOptions extends CompileOptions {
  /** The suite (readSuite / parseSuite). */
  readonly suite: Suite
  /** `keep` (default): failing rows flow on. `quarantine`: they go to `quarantine` instead. */
  readonly policy?: InvalidPolicy
  /** Required with policy `quarantine` (quarantineCsv(path)). */
  readonly quarantine?: QuarantineSink
  /** Extra `meta` of the suite result (run id, source ...). */
  readonly meta?: Readonly<Record<string, unknown>>
  /** Clock for `meta.validation_time`. Default: the real one. */
  readonly clock?: () => Date
  /**
   * A last column the suite does not see when the input has it: the stable id the source added
   * (lib/extract/identity.ts), so that table-shape expectations describe the source's own columns.
   */
  readonly hideColumn?: string
}

/** Counters of the stage. */
export interface ValidationCounts {
  readonly rows: number
  readonly batches: number
  /** Rows that failed at least one row-level expectation. */
  readonly invalidRows: number
  /** Rows taken out of the flow (policy quarantine). */
  readonly quarantinedRows: number
}

/** What `summary` resolves to and `'summary'` carries. */
export interface ValidationSummary extends ValidationCounts {
  /** The suite result, Great Expectations' shape. */
  readonly result: SuiteResult
}

/** The stage: a Transform of Batch with its summary and state. */
export interface ValidateStream extends Transform {
  /** Resolves at stream end (before 'end'); rejects when the stream is destroyed or fails. Never left pending. */
  readonly summary: Promise<ValidationSummary>
  /** Live counters. */
  readonly counts: ValidationCounts
  /** The compiled suite (after the first batch). */
  readonly compiled: CompiledSuite | undefined
  /** The mergeable state so far (after the first batch). */
  readonly state: SuiteState | undefined
  /** The state in JSON-safe form (compiled.toJSON), for sending it to the process that merges. */
  stateJSON(): unknown
}

function sameColumns(a: readonly Column[], b: readonly Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type)
}

/** A reusable list of (row, expectation) failures: no allocation while rows pass. */
class Failures {
  rows: number[] = []
  exps: number[] = []
  add(row: number, expectation: number): void {
    this.rows.push(row)
    this.exps.push(expectation)
  }
  clear(): void {
    this.rows.length = 0
    this.exps.length = 0
  }
}

/**
 * Creates the validating stage (an object-mode Transform of Batch).
 *
 * Events: `'invalid'` (row: Row, ids: string[], rowNumber: number) for each
 * row failing a row-level expectation (rowNumber counts from 0 over the
 * stream); `'summary'` (ValidationSummary), emitted before `'end'`.
 *
 * Errors: ETL_INVALID_OPTION (bad options, at once); ETL_EXPECTATION (an
 * expectation with catch_exceptions false cannot run); ETL_INPUT (the columns
 * change mid-stream); ETL_DATA_DIR (the quarantine file); the summary
 * rejects with the error, or ETL_ABORTED when destroyed before the end.
 */
export function validate(options: ValidateOptions): ValidateStream {
  const step = validateStep(options, {
    onInvalid: (row, ids, n) => stream.emit('invalid', row, ids, n),
    onSummary: (s) => stream.emit('summary', s),
  })
  const stream = stepStream(step)
  Object.defineProperties(stream, {
    summary: { value: step.summary },
    counts: { value: step.counts },
    compiled: { get: () => step.compiled },
    state: { get: () => step.state },
    stateJSON: { value: () => step.stateJSON() },
  })
  return stream as ValidateStream
}

/** What validateStep reports as it goes (the stream turns them into its events). */
export interface ValidateHooks {
  readonly onInvalid?: (row: Row, ids: string[], rowNumber: number) => void
  readonly onSummary?: (summary: ValidationSummary) => void
}

/** validate()'s step (lib/step.ts), for a fused chain: the stream's summary, counts and state, its events as hooks. */
export type ValidateStep = Step & Pick<ValidateStream, 'summary' | 'counts' | 'compiled' | 'state' | 'stateJSON'>

export function validateStep(options: ValidateOptions, hooks: ValidateHooks = {}): ValidateStep {
  const { suite, policy = 'keep', quarantine, meta, clock = () => new Date() } = options
  if (policy !== 'keep' && policy !== 'quarantine') throw invalidOption('policy', '"keep" or "quarantine"', policy)
  if (policy === 'quarantine' && !quarantine) throw invalidOption('quarantine', 'a quarantine sink when policy is "quarantine"', quarantine)
  if (!suite || !Array.isArray(suite.expectations)) throw invalidOption('suite', 'a suite read by readSuite/parseSuite', suite)

  const { promise: summary, resolve, reject } = Promise.withResolvers<ValidationSummary>()
  summary.catch(() => {})
  let compiled: CompiledSuite | undefined
  let state: SuiteState | undefined
  let columns: readonly Column[] | undefined
  let batches = 0
  let invalidRows = 0
  let quarantinedRows = 0
  const failures = new Failures()

  function ensureCompiled(allColumns: readonly Column[]): void {
    if (allColumns === columns) return
    const hidden = options.hideColumn !== undefined && allColumns.at(-1)?.name === options.hideColumn
    const batchColumns = hidden ? allColumns.slice(0, -1) : allColumns
    if (compiled) {
      if (!sameColumns(compiled.columns, batchColumns))
        throw new EtlError('ETL_INPUT', `the columns changed mid-stream: ${compiled.columns.map((c) => c.name).join(',')} then ${batchColumns.map((c) => c.name).join(',')}`)
    } else {
      compiled = compile(suite, batchColumns, options)
      state = compiled.init()
    }
    columns = allColumns
  }

  /** Groups this batch's failures by row (ascending) and reports them. Returns the failing rows' ids by row index. */
  function report(rows: readonly Row[], base: number): Map<number, string[]> {
    const byRow = new Map<number, string[]>()
    const exps = compiled!.expectations
    for (let k = 0; k < failures.rows.length; k++) {
      const r = failures.rows[k]!
      const id = exps[failures.exps[k]!]!.id
      const list = byRow.get(r)
      if (list) list.push(id)
      else byRow.set(r, [id])
    }
    const ordered = new Map([...byRow].sort((x, y) => x[0] - y[0]))
    invalidRows += ordered.size
    for (const [r, ids] of ordered) hooks.onInvalid?.(rows[r]!, ids, base + r)
    return ordered
  }

  // Synchronous unless rows go to quarantine (then the write is awaited): a fused chain stays synchronous.
  function batch(batch: Batch): Batch | Promise<Batch> {
    try {
      ensureCompiled(batch.columns)
      const base = state!.rows
      failures.clear()
      compiled!.update(state!, batch.rows, failures)
      batches++
      if (failures.rows.length === 0) return batch
      const bad = report(batch.rows, base)
      if (policy === 'keep') return batch
      const kept: Row[] = []
      const out: Row[] = []
      const ids: string[][] = []
      const lines = cachedLines(batch.rows)
      const keptLines: string[] = []
      batch.rows.forEach((row, i) => {
        const failed = bad.get(i)
        if (failed) {
          out.push(row)
          ids.push(failed)
        } else {
          kept.push(row)
          if (lines) keptLines.push(lines[i]!)
        }
      })
      if (lines) keepLines(kept, keptLines, batch.columns)
      quarantinedRows += out.length
      return quarantine!.write(batch.columns, out, ids).then(
        (): Batch => ({ columns: batch.columns, rows: kept }),
        (err: unknown) => {
          throw asEtlError(err, 'ETL_DATA_DIR')
        },
      )
    } catch (err) {
      throw asEtlError(err)
    }
  }

  async function end(): Promise<void> {
    try {
      if (!compiled) {
        compiled = compile(suite, [], options)
        state = compiled.init()
      }
      const result = compiled.finish(state!, { validationTime: clock().toISOString(), meta })
      if (quarantine) await quarantine.commit(columns ?? [])
      const s: ValidationSummary = { result, rows: state!.rows, batches, invalidRows, quarantinedRows }
      hooks.onSummary?.(s)
      resolve(s)
    } catch (err) {
      throw asEtlError(err)
    }
  }

  async function abort(err: Error | null): Promise<void> {
    // No error, or an AbortError (a consumer's `break`, an abort signal): an early stop.
    const early = !err || (err as { code?: string }).code === 'ABORT_ERR'
    // The summary rejects once the quarantine file is gone, so whoever awaits it sees a clean folder.
    if (quarantine) await quarantine.discard().catch(() => {})
    reject(early ? new EtlError('ETL_ABORTED', 'validation stopped before its input ended', { cause: err ?? undefined }) : err)
  }

  const counts: ValidationCounts = {
    get rows() { return state?.rows ?? 0 },
    get batches() { return batches },
    get invalidRows() { return invalidRows },
    get quarantinedRows() { return quarantinedRows },
  }
  return {
    batch,
    end,
    abort,
    summary,
    counts,
    get compiled() {
      return compiled
    },
    get state() {
      return state
    },
    stateJSON: () => (compiled && state ? compiled.toJSON(state) : undefined),
  }
}
