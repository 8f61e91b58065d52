/** Fixtures and small HTML helpers for the data-docs tests. */
import { readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunRecord } from '../../lib/flow/run-record.ts'
import type { RunSummary } from '../../lib/pipelines/summary.ts'

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url))

/** The recorded runs (see fixtures/record.ts for how each was made). */
export const FIXTURES = ['warn-load', 'gate-abort', 'column-name', 'odd-extract', 'odd-validate', 'odd-meta', 'hopsworks'] as const
export type FixtureName = (typeof FIXTURES)[number]

export function fixture(name: FixtureName): RunRecord {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as RunRecord
}

export function summaryOf(record: RunRecord): RunSummary {
  return record.summary as RunSummary
}

/** A data folder whose runs/ holds the given fixtures as run records; removed at teardown. */
export async function dataDirWith(t: { teardown(fn: () => unknown): void }, names: readonly FixtureName[] = FIXTURES): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'etl-docs-test-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  await mkdir(join(dataDir, 'runs'))
  for (const name of names) await copyFile(join(dir, `${name}.json`), join(dataDir, 'runs', `${fixture(name).id}.json`))
  return dataDir
}

/** The `<tr ...>...</tr>` elements whose opening tag matches `attr` (e.g. `id="validation-`). */
export function rows(page: string, attr: string): string[] {
  return [...page.matchAll(/<tr\b[^>]*>[\s\S]*?<\/tr>/g)].map((m) => m[0]).filter((tr) => tr.slice(0, tr.indexOf('>')).includes(attr))
}

/**
 * Text of an HTML fragment roughly as a reader hears it: head, style and
 * aria-hidden symbols dropped, block ends as spaces, inline tags removed,
 * entities decoded, spaces collapsed.
 */
export function text(fragment: string): string {
  return fragment
    .replace(/<head>[\s\S]*?<\/head>/g, '')
    .replace(/<span aria-hidden="true">[^<]*<\/span>/g, '')
    .replace(/<br>|<\/(?:p|li|td|th|dd|dt|div|h\d|tr|caption|figcaption|pre|ul|ol|dl|section|header|footer|summary)>/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}
