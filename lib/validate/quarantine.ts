/**
 * Where the validating stage puts rows it takes out of the flow (policy
 * `quarantine`): `quarantine.csv` holds each such row's columns plus
 * `failed_expectations`, the ids of the expectations it failed joined by `;`
 * (ids as in the suite: `meta.id`, else `meta.label`, else `type(column)`).
 * Written like every stage file: under a temporary name, renamed into place
 * (with its schema sidecar) when the input has ended, removed on failure.
 */
import { StageFileWriter, type StageFileWriterOptions } from '../csv/stage-file.ts'
import type { Column, Row } from '../types.ts'

/** Where quarantined rows go (quarantineCsv, or anything with the same contract). */
export interface QuarantineSink {
  /** Stores rows; `ids[i]` are the expectation ids row `i` failed. Resolves when written (one write in flight). */
  write(columns: readonly Column[], rows: readonly Row[], ids: readonly (readonly string[])[]): Promise<void>
  /** Makes the file visible (even with no row in it). */
  commit(columns: readonly Column[]): Promise<void>
  /** Removes what was written. Never throws. */
  discard(): Promise<void>
}

/** The name of the extra column. */
export const FAILED_COLUMN = 'failed_expectations'

const withFailed = (columns: readonly Column[]): Column[] => [...columns, { name: FAILED_COLUMN, type: 'text' }]

/** A QuarantineSink writing `path` (normally `<data-dir>/quarantine.csv`). */
export function quarantineCsv(path: string, options: StageFileWriterOptions = {}): QuarantineSink & { readonly path: string; readonly rows: number } {
  const writer = new StageFileWriter(path, options)
  let cols: Column[] | undefined
  return {
    path,
    get rows() {
      return writer.rows
    },
    async write(columns, rows, ids) {
      cols ??= withFailed(columns)
      await writer.write({ columns: cols, rows: rows.map((r, i) => [...r, (ids[i] ?? []).join(';')]) })
    },
    commit: (columns) => writer.commit(cols ?? withFailed(columns)),
    discard: () => writer.discard(),
  }
}
