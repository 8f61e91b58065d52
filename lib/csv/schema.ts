/**
 * The schema sidecar of a stage CSV: `<name>.schema.json` holds the column
 * names and PostgreSQL types, so a later stage reads the values back typed.
 */
import { readFile } from 'node:fs/promises'
import { EtlError } from '../errors.ts'
import type { Column } from '../types.ts'

export interface SchemaSidecar {
  readonly columns: readonly Column[]
  /** Rows in the CSV, when known. */
  readonly rows?: number
}

/** `data/extracted.csv` -> `data/extracted.schema.json` */
export function sidecarPath(csvPath: string): string {
  return csvPath.replace(/\.csv$/i, '') + '.schema.json'
}

export async function readSidecar(csvPath: string): Promise<SchemaSidecar> {
  const path = sidecarPath(csvPath)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new EtlError('ETL_INPUT', `schema sidecar not found: ${path} (written next to the CSV by the stage that made it)`, { cause: err })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new EtlError('ETL_INPUT', `schema sidecar is not valid JSON: ${path}`, { cause: err })
  }
  const cols = (parsed as { columns?: unknown }).columns
  if (!Array.isArray(cols) || !cols.every((c) => typeof c?.name === 'string' && typeof c?.type === 'string'))
    throw new EtlError('ETL_INPUT', `schema sidecar ${path} must hold {"columns": [{"name", "type"}, ...]}`)
  const seen = new Set<string>()
  for (const c of cols as Column[]) {
    if (seen.has(c.name))
      throw new EtlError('ETL_COLUMN_NAME', `${csvPath} has the column ${JSON.stringify(c.name)} twice (schema sidecar ${path}): a stage could check or load only one of them`, { details: { column: c.name } })
    seen.add(c.name)
  }
  return { columns: Object.freeze(cols.map((c: Column) => Object.freeze({ name: c.name, type: c.type }))), rows: (parsed as { rows?: number }).rows }
}
