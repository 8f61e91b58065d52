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

export interface LoadSummary {
  readonly sink: 'local' | 'hopsworks'
  readonly rows: number
  readonly featureGroup: FeatureGroupRef
  /** Local: the folder of the feature group. Hopsworks: the ingestion data path. */
  readonly location: string
  /** Columns as loaded (after transform). */
  readonly columns: readonly Column[]
  /** Hopsworks only: the ingestion job and its final status. */
  readonly job?: { readonly name: string; readonly executionId: number; readonly finalStatus: string; readonly state: string }
  /** Hopsworks only: the feature view, when one was made. */
  readonly featureView?: FeatureGroupRef
}
