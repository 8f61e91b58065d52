/**
 * The extract pipeline: source -> extracted.csv (+ extracted.schema.json).
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Lineage } from '../csv/lineage.ts'
import { csvSink } from '../csv/stage-file.ts'
import type { DbConfig } from '../extract/connect.ts'
import { pgSource } from '../extract/pg-source.ts'
import type { SourceSpec } from '../extract/relation.ts'
import type { IdentityRequest } from '../extract/identity.ts'
import type { Column } from '../types.ts'

export const EXTRACTED_CSV = 'extracted.csv'

export interface ExtractOptions {
  readonly db: DbConfig
  readonly source: SourceSpec
  readonly dataDir: string
  readonly batchSize?: number
  readonly signal?: AbortSignal
  readonly onBatch?: (rows: number) => void
  /** Names this extract in the lineage of every stage file made from it (lib/csv/lineage.ts). Default: a random UUID. */
  readonly extractId?: string
  /** Add the stable id column (derived ids): `etl transform` then passes it through. */
  readonly identity?: IdentityRequest | undefined
}

export interface ExtractSummary {
  readonly rows: number
  readonly columns: readonly Column[]
  readonly file: string
  /** The extract id and the checksum of extracted.csv, as its sidecar records them. */
  readonly lineage: Lineage | undefined
}

export async function extractToCsv(options: ExtractOptions): Promise<ExtractSummary> {
  const file = join(options.dataDir, EXTRACTED_CSV)
  const source = pgSource(options.db, options.source, { batchSize: options.batchSize, signal: options.signal, keepLines: true, ...(options.identity ? { identity: options.identity } : {}) })
  const sink = csvSink(file, { extractId: options.extractId ?? randomUUID() })
  if (options.onBatch) source.on('data', () => options.onBatch?.(source.rowCount))
  await pipeline(source, sink, { signal: options.signal })
  return { rows: sink.writer.rows, columns: await source.columns, file, lineage: sink.writer.lineage }
}
