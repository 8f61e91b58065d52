/**
 * What a run puts in its record's `summary` (RunRecord.summary): one entry per
 * stage, filled as the stages end. An HTML report, `etl runs`, the webhooks and
 * the meta-validation read it.
 */
import type { SuiteResult, SuiteStatistics } from '../expectations/types.ts'
import type { LoadSummary } from '../load/sink.ts'
import type { Column } from '../types.ts'
import type { incrementalSummary } from './incremental.ts'

export interface ExtractStageSummary {
  readonly source: string
  readonly rows: number
  readonly columns: readonly Column[]
  readonly file?: string
  readonly durationMs: number
}

export interface ValidationStageSummary {
  readonly success: boolean
  readonly statistics: SuiteStatistics
  readonly rows: number
  readonly invalidRows: number
  readonly quarantinedRows: number
  /** The whole suite result (Great Expectations' shape). */
  readonly result: SuiteResult
  readonly files?: readonly string[]
  readonly durationMs: number
}

export interface TransformStageSummary {
  readonly rows: number
  readonly dropped: number
  /** Missing (NULL) values per column, counted before any policy. */
  readonly missing: Readonly<Record<string, number>>
  /** Values filled per column by a `fill` policy. */
  readonly filled: Readonly<Record<string, number>>
  readonly id: 'nanoid' | 'sequential' | 'derived'
  readonly datetime: 'run' | 'row'
  readonly runTime: string
  readonly columns: readonly Column[]
  readonly file?: string
  readonly durationMs: number
}

export interface StageCountsSummary {
  readonly extracted?: number
  readonly validated?: number
  readonly quarantined?: number
  readonly transformed?: number
  readonly dropped?: number
  readonly loaded?: number
}

export interface GateSummary {
  readonly passed: boolean
  readonly policy: 'abort' | 'warn'
  /** Labels/ids of the failed expectations (data and meta). */
  readonly failed: readonly string[]
  readonly committed: boolean
}

/** `etl run --partitions N` (lib/scale): the key and each range's rows, attempts and time. */
export interface PartitionsStageSummary {
  readonly key: string
  readonly ranges: readonly { readonly index: number; readonly range: string; readonly rows: number; readonly attempts: number; readonly durationMs: number }[]
  readonly durationMs: number
  /** Who staged the rows in the sink: the workers (the local store's buckets, adopted) or the coordinator (it read the joined rows). */
  readonly staging?: 'workers' | 'coordinator'
}

/** Where the stable ids came from (`--id derived`, lib/extract/identity.ts). */
export interface IdentitySummary {
  readonly kind: 'primary-key' | 'key' | 'row'
  readonly columns: readonly string[]
  /** In words, as the CLI and the docs show it. */
  readonly description: string
}

export interface RunSummary {
  identity?: IdentitySummary
  /** `--incremental`: the window read and the watermark after the commit (lib/pipelines/incremental.ts). */
  incremental?: ReturnType<typeof incrementalSummary>
  /** What went wrong after the commit (the run stays Completed): lib/pipelines/warnings.ts. */
  warnings?: string[]
  partitions?: PartitionsStageSummary
  extract?: ExtractStageSummary
  validation?: ValidationStageSummary
  meta?: ValidationStageSummary
  transform?: TransformStageSummary
  counts?: StageCountsSummary
  gate?: GateSummary
  load?: LoadSummary & { readonly durationMs: number }
}
