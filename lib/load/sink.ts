import type { Writable } from 'node:stream'
import type { Column } from '../types.ts'

/**
 * The quality gate's side of a sink. A sink *stages* every batch it receives
 * (nothing is visible to readers of the store yet); the run then either
 * commits (meta-validation passed, or `--on-invalid warn`) or aborts (the
 * store stays exactly as it was and the staged data is removed).
 *
 *     pgSource -> validate -> stamp -> sink.writable      (stage)
 *                                       |
 *                      gate passes -> sink.commit()       (make visible)
 *                      gate fails  -> sink.abort()        (remove staged)
 */
export interface StagedSink {
  /** Object-mode Writable of `Batch`es. Its `final` resolves only when every staged part is durable. */
  readonly writable: Writable
  /** Makes the staged data visible: the local sink renames, the Hopsworks sink starts and polls the ingestion job. */
  commit(): Promise<LoadSummary>
  /** Removes what was staged. Idempotent; safe after a failure or before anything was written. */
  abort(): Promise<void>
}

export interface FeatureGroupRef {
  readonly name: string
  readonly version: number
}

/**
 * What a load does with the rows already in the feature group (names as dlt's):
 * - `merge` (default): upsert on the primary key; a re-run of unchanged data changes nothing.
 * - `append`: add the rows (only for keys the run made: nanoid, sequential).
 * - `replace`: afterwards the group holds exactly this load's rows.
 */
export type WriteDisposition = 'merge' | 'append' | 'replace'

/**
 * What the store holds after a commit. A figure the store cannot tell (a Hopsworks server that does
 * not report it) is `null`, shown as "unknown"; never a guess.
 */
export interface LoadReport {
  readonly write: WriteDisposition
  /** Rows whose key was not in the group before. */
  readonly inserted: number | null
  /** Rows whose key was there with other values. */
  readonly updated: number | null
  /** Rows whose key was there with the same values. */
  readonly unchanged: number | null
  /** Rows that were in the group and are not any more (replace). */
  readonly deleted: number | null
  /** The group's rows before and after the commit. */
  readonly rowsBefore: number | null
  readonly rowsAfter: number | null
}

export interface LoadSummary {
  readonly sink: 'local' | 'hopsworks'
  /** Rows this load sent (staged and committed). */
  readonly rows: number
  /** What the store holds now (see LoadReport). */
  readonly report: LoadReport
  readonly featureGroup: FeatureGroupRef
  /** Local: the folder of the feature group. Hopsworks: the ingestion data path. */
  readonly location: string
  /** Columns as loaded (after transform). */
  readonly columns: readonly Column[]
  /** Hopsworks only: the ingestion job and its final status. */
  readonly job?: { readonly name: string; readonly executionId: number; readonly finalStatus: string; readonly state: string }
  /** Hopsworks only: the feature view, when one was made. */
  readonly featureView?: FeatureGroupRef
  /**
   * What went wrong after the commit succeeded (a validation report, feature view or suite that
   * could not be attached, a cleanup that failed). The data is committed: these never fail the load.
   */
  readonly warnings?: readonly string[]
}
