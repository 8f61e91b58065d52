/**
 * The five-command mode's lineage checks (lib/csv/lineage.ts): each stage
 * run alone refuses, with ETL_LINEAGE, inputs in the data folder that descend
 * from different extracts, so rows that were not validated can never be
 * loaded on the word of another extract's results.
 *
 *     etl meta-validate  extracted.csv = extract_validation_results.csv + .json
 *     etl transform      its input     = the validation's and the meta-validation's results, when there
 *     etl load           its input     = extract_validation_result.json = meta_extract_validation_result.json
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkLineage, declaredLineage, parseLineage, stageLineage, type Lineage, type LineageInput } from '../csv/lineage.ts'
import { validationFileNames } from '../validate/results.ts'
import { STAGE_FILES } from './files.ts'

const RERUN_VALIDATION = 'the results are of another extract: run `etl validate` and `etl meta-validate` again, then `etl transform`'

/** The lineage a results JSON names (`meta.lineage`); undefined when it names none or cannot be read (its reader says why). */
async function jsonLineage(path: string): Promise<Lineage | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { meta?: { lineage?: unknown } }
    return parseLineage(parsed?.meta?.lineage)
  } catch {
    return undefined
  }
}

/** The validation files of `prefix` present in the folder, with the lineage each names. */
async function resultInputs(dataDir: string, prefix: 'extract' | 'meta_extract'): Promise<LineageInput[]> {
  const files = validationFileNames(dataDir, prefix)
  const out: LineageInput[] = []
  if (existsSync(files.json)) out.push({ file: files.json, lineage: await jsonLineage(files.json) })
  if (existsSync(files.csv)) out.push({ file: files.csv, lineage: (await declaredLineage(files.csv))?.lineage })
  return out
}

/**
 * `etl meta-validate`: the validation's two files and extracted.csv (when
 * there: its counts are read) must name one extract. Resolves it, for the
 * meta-validation's own files. Throws ETL_LINEAGE, ETL_INPUT.
 */
export async function metaValidateLineage(dataDir: string): Promise<Lineage | undefined> {
  const results = await resultInputs(dataDir, 'extract')
  const extracted = join(dataDir, STAGE_FILES.extracted)
  const inputs = existsSync(extracted) ? [{ file: extracted, lineage: await stageLineage(extracted) }, ...results] : results
  return checkLineage(inputs, RERUN_VALIDATION.replace(', then `etl transform`', ''))
}

/**
 * `etl transform`: the lineage of its input (checked against its sidecar's
 * checksum); reading the data folder's own input, also checked against the
 * validation results there, if any. Throws ETL_LINEAGE, ETL_INPUT.
 */
export async function transformLineage(dataDir: string, input: string, fromDataDir: boolean): Promise<Lineage> {
  const own = await stageLineage(input)
  if (fromDataDir) {
    const results = [...(await resultInputs(dataDir, 'extract')), ...(await resultInputs(dataDir, 'meta_extract'))]
    checkLineage([{ file: input, lineage: own }, ...results], RERUN_VALIDATION)
  }
  return own
}

/**
 * `etl load`: the lineage of the file to load, and whether the validation
 * and meta-validation results (when both are there) are of the same extract.
 * Resolves `undefined` when they agree, else the ETL_LINEAGE error to throw
 * (or, with --on-invalid warn, to print as a warning), ending with `rerun`. Throws ETL_LINEAGE
 * when the file is not the one its sidecar describes, ETL_INPUT.
 */
export async function loadLineageProblem(dataDir: string, file: string, rerun: string): Promise<Error | undefined> {
  const own = await stageLineage(file)
  const files = [validationFileNames(dataDir, 'extract').json, validationFileNames(dataDir, 'meta_extract').json]
  const inputs: LineageInput[] = [{ file, lineage: own }]
  for (const f of files) if (existsSync(f)) inputs.push({ file: f, lineage: await jsonLineage(f) })
  try {
    checkLineage(inputs, rerun)
    return undefined
  } catch (err) {
    return err as Error
  }
}
