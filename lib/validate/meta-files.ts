/**
 * `etl meta-validate`: meta-validation from the data folder.
 *
 *     extract_validation_results.csv (+ sidecar) ──csvSource──> results table ─┐
 *     extracted / quarantine / transformed sidecars, validation JSON ─> counts ─┼─> meta suite
 *     suite file ─> declared ids                                               ─┘      │
 *                          meta_extract_validation_results.csv + .json <──────────────┘
 *
 * Counts found in the folder:
 * - extracted: `rows` of extracted.schema.json;
 * - validated: `meta.row_count` of extract_validation_result.json, else the
 *   largest element_count of the results CSV;
 * - quarantined: `meta.quarantined_rows` of the validation JSON when it has
 *   one, else `rows` of quarantine.schema.json, else 0 (validated known: the
 *   validation quarantined nothing);
 * - transformed: `rows` of transformed.schema.json; dropped: its `dropped`
 *   when recorded, else 0 (fail closed: rows lost in the transform without
 *   being recorded as dropped make the reconciliation fail, not skip);
 * - loaded: never (meta-validation runs before the load).
 * A quarantine or transformed sidecar older than extracted.schema.json is
 * left out: it belongs to an earlier extraction.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { csvSource } from '../csv/read.ts'
import type { Lineage } from '../csv/lineage.ts'
import { sidecarPath } from '../csv/schema.ts'
import { EtlError } from '../errors.ts'
import { readSuite } from '../expectations/suite.ts'
import type { SuiteResult } from '../expectations/types.ts'
import type { StageCountsSummary } from '../pipelines/summary.ts'
import type { Batch, Column, Row } from '../types.ts'
import { metaValidateTable, type MetaCommonOptions } from './meta-run.ts'
import { resultsTable } from './meta-tables.ts'
import { validationFileNames, writeValidationFiles, type ValidationFiles } from './results.ts'

/** The stage files whose sidecars give counts. */
const FILES = { extracted: 'extracted.csv', quarantine: 'quarantine.csv', transformed: 'transformed.csv' } as const

/** Options of metaValidateFiles. */
export interface MetaFilesOptions extends Omit<MetaCommonOptions, 'declared' | 'counts' | 'metaSuite'> {
  /** The data folder: reads extract_validation_results.csv, writes meta_extract_validation_results.csv and .json. */
  readonly dataDir: string
  /** The suite the validation ran (fixtures/suites/prostate.json by default in `etl`). */
  readonly suitePath: string
  /** The meta suite file. Default: fixtures/suites/meta.json. */
  readonly metaSuitePath?: string
  /** The extract the validation results are of (lib/csv/lineage.ts): named by the meta-validation's files too. */
  readonly lineage?: Lineage
  /** Counts that win over the ones found in the folder (e.g. from a run record). */
  readonly counts?: StageCountsSummary
}

/** What metaValidateFiles resolves to. */
export interface MetaFilesResult {
  readonly result: SuiteResult
  /** The counts the meta suite saw. */
  readonly counts: StageCountsSummary
  readonly files: ValidationFiles
}

interface SidecarInfo {
  readonly rows: number | undefined
  readonly dropped: number | undefined
  readonly mtimeMs: number
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0

async function readJson(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new EtlError('ETL_INPUT', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

async function sidecarInfo(csvPath: string): Promise<SidecarInfo | undefined> {
  const path = sidecarPath(csvPath)
  const json = await readJson(path)
  if (json === undefined) return undefined
  const o = (typeof json === 'object' && json !== null ? json : {}) as { rows?: unknown; dropped?: unknown }
  const { mtimeMs } = await stat(path)
  return { rows: isCount(o.rows) ? o.rows : undefined, dropped: isCount(o.dropped) ? o.dropped : undefined, mtimeMs }
}

/**
 * The stage counts the data folder holds (see the module comment).
 * `results` (the results table's rows and columns) gives `validated` when
 * the validation JSON is absent. Throws ETL_INPUT (a file that exists but
 * cannot be read).
 */
export async function countsFromDataDir(dataDir: string, results?: { readonly columns: readonly Column[]; readonly rows: readonly Row[] }): Promise<StageCountsSummary> {
  const extracted = await sidecarInfo(join(dataDir, FILES.extracted))
  const fresh = (s: SidecarInfo | undefined): SidecarInfo | undefined => (s && (!extracted || s.mtimeMs >= extracted.mtimeMs) ? s : undefined)
  const json = (await readJson(validationFileNames(dataDir, 'extract').json)) as { meta?: { row_count?: unknown; quarantined_rows?: unknown } } | undefined
  let validated = isCount(json?.meta?.row_count) ? json.meta.row_count : undefined
  if (validated === undefined && results) {
    const at = results.columns.findIndex((c) => c.name === 'element_count')
    const counts = at < 0 ? [] : results.rows.map((r) => r[at]).filter(isCount)
    if (counts.length) validated = Math.max(...counts)
  }
  const quarantine = fresh(await sidecarInfo(join(dataDir, FILES.quarantine)))
  const quarantined = isCount(json?.meta?.quarantined_rows) ? json.meta.quarantined_rows : (quarantine?.rows ?? (validated === undefined ? undefined : 0))
  const transformed = fresh(await sidecarInfo(join(dataDir, FILES.transformed)))
  const counts: Record<string, number> = {}
  const put = (name: string, v: number | undefined): void => {
    if (v !== undefined) counts[name] = v
  }
  put('extracted', extracted?.rows)
  put('validated', validated)
  put('quarantined', quarantined)
  put('transformed', transformed?.rows)
  put('dropped', transformed?.rows === undefined ? undefined : (transformed.dropped ?? 0))
  return counts as StageCountsSummary
}

/** Reads the results CSV (one row per expectation: a small table, kept whole). */
async function readResults(path: string): Promise<Batch> {
  const source = csvSource(path)
  const rows: Row[] = []
  try {
    for await (const batch of source) rows.push(...(batch as Batch).rows)
  } catch (err) {
    if (err instanceof EtlError && /not found/.test(err.message))
      throw new EtlError('ETL_INPUT', `${err.message} (run \`etl validate\` first)`, { cause: err })
    throw err
  }
  return resultsTable(await source.columns, rows)
}

/**
 * Meta-validates the data folder's extraction validation and writes
 * meta_extract_validation_results.csv (+ sidecar) and
 * meta_extract_validation_result.json, in the validation stage's shapes.
 * Gives the same result as metaValidate over the same validation and counts.
 *
 * Throws ETL_INPUT (results CSV or its sidecar missing or unreadable),
 * ETL_SUITE (a suite file), ETL_EXPECTATION (a meta expectation with
 * catch_exceptions false cannot run), ETL_DATA_DIR (writing the files).
 */
export async function metaValidateFiles(options: MetaFilesOptions): Promise<MetaFilesResult> {
  const { dataDir, suitePath, metaSuitePath } = options
  const declared = await readSuite(suitePath)
  const metaSuite = metaSuitePath === undefined ? undefined : await readSuite(metaSuitePath)
  const table = await readResults(validationFileNames(dataDir, 'extract').csv)
  const counts = { ...(await countsFromDataDir(dataDir, table)), ...options.counts }
  const result = metaValidateTable(table, { ...options, declared, counts, metaSuite })
  const files = await writeValidationFiles(dataDir, result, 'meta_extract', options.lineage)
  return { result, counts, files }
}
