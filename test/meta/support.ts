/**
 * Helpers of the meta-validation tests: the prostate table in a test schema,
 * a validation over a real PostgreSQL source, and a data folder as
 * `etl extract` + `etl validate` leave it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { csvSink, csvTee } from '../../lib/csv/stage-file.ts'
import { parseSuite, readSuite } from '../../lib/expectations/suite.ts'
import type { Suite, SuiteResult } from '../../lib/expectations/types.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { SourceSpec } from '../../lib/extract/relation.ts'
import { writeValidationFiles } from '../../lib/validate/results.ts'
import { validate, type ValidationSummary } from '../../lib/validate/validate.ts'
import { testDb, type TestDb } from '../support/pg.ts'

export const PROSTATE_SUITE = new URL('../../fixtures/suites/prostate.json', import.meta.url).pathname

interface T {
  teardown(fn: () => unknown): void
}

/** A test schema holding table `prostate` (the 97 rows of fixtures/prostate.csv). */
export async function prostateDb(t: T): Promise<TestDb> {
  const db = await testDb(t)
  await seedProstate(db.config, 'prostate')
  return db
}

export const prostateSuite = (): Promise<Suite> => readSuite(PROSTATE_SUITE)

/** The prostate suite plus more expectations (raw GE JSON). */
export async function prostateSuiteWith(...more: unknown[]): Promise<Suite> {
  const base = await prostateSuite()
  return parseSuite({
    expectation_suite_name: base.name,
    expectations: [...base.expectations.map((e) => e.config), ...more],
  })
}

const drain = (): Writable => new Writable({ objectMode: true, write: (_b, _e, cb) => cb() })

/** Validates a source through the real stage. */
export async function validateSource(client: pg.Client, source: SourceSpec, suite: Suite): Promise<ValidationSummary> {
  const stage = validate({ suite })
  await pipeline(pgSource(client, source), stage, drain())
  return stage.summary
}

/** A fresh temporary folder, removed at teardown. */
export async function tempDir(t: T): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meta-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A data folder as `etl extract` then `etl validate` leave it: extracted.csv
 * (+ sidecar), extract_validation_results.csv (+ sidecar),
 * extract_validation_result.json. Returns the validation summary.
 */
export async function validatedFolder(dir: string, client: pg.Client, source: SourceSpec, suite: Suite): Promise<ValidationSummary> {
  const stage = validate({ suite })
  await pipeline(pgSource(client, source), csvTee(join(dir, 'extracted.csv')), stage, drain())
  const summary = await stage.summary
  await writeValidationFiles(dir, summary.result, 'extract')
  return summary
}

/** Writes `<dir>/<name>` (+ sidecar) from a source, as a later stage would (transformed.csv ...). */
export async function stageFile(dir: string, name: string, client: pg.Client, source: SourceSpec): Promise<void> {
  await pipeline(pgSource(client, source), csvSink(join(dir, name)))
}

/** Ids of the failed results. */
export const failedIds = (r: SuiteResult): unknown[] => r.results.filter((x) => !x.success).map((x) => x.meta['expectation_id'])

/** Ids of the skipped results. */
export const skippedIds = (r: SuiteResult): unknown[] => r.results.filter((x) => x.meta['skipped'] !== undefined).map((x) => x.meta['expectation_id'])

/** The stage counts of a clean one-pass run over n rows. */
export const allCounts = (n: number) => ({ extracted: n, validated: n, quarantined: 0, transformed: n, dropped: 0, loaded: n })

/** A fixed clock, so two results compare equal. */
export const fixedClock = (): Date => new Date('2025-01-02T03:04:05.000Z')
