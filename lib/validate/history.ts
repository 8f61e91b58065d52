/**
 * What each aggregate expectation observed in earlier runs, kept in the data
 * folder for the drift charts of the data docs and for `meta.history` checks
 * (lib/expectations/history.ts):
 *
 *     <dataDir>/history/<suite>.json   { format: 1, expectations: { <id>: [{ run, at, value, success }] } }
 *
 * One file per suite, the last 100 values of each expectation, written
 * atomically after each run that validated. Only numeric observed values are
 * kept. A file that cannot be read is treated as no history (and rewritten by
 * the next run): the band is then not applied until enough runs are recorded
 * again, and each result says how many earlier runs it had.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../csv/stage-file.ts'
import type { HistoryLookup } from '../expectations/history.ts'
import type { SuiteResult } from '../expectations/types.ts'

export const HISTORY_KEEP = 100

export interface HistoryPoint {
  readonly run: string
  readonly at: string
  readonly value: number
  readonly success: boolean
}

export interface History {
  readonly format: 1
  readonly expectations: Readonly<Record<string, readonly HistoryPoint[]>>
}

const EMPTY: History = Object.freeze({ format: 1, expectations: Object.freeze({}) })

/** `<dataDir>/history/<suite>.json`, the suite name made a safe file name. */
export function historyPath(dataDir: string, suiteName: string): string {
  return join(dataDir, 'history', `${suiteName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'suite'}.json`)
}

export async function readHistory(dataDir: string, suiteName: string): Promise<History> {
  try {
    const h = JSON.parse(await readFile(historyPath(dataDir, suiteName), 'utf8')) as History
    return h && h.format === 1 && typeof h.expectations === 'object' && h.expectations ? h : EMPTY
  } catch {
    return EMPTY
  }
}

/** The lookup CompileOptions.history takes: the values of the runs in which the expectation passed, oldest first. */
export function historyLookup(history: History): HistoryLookup {
  return (id) => (history.expectations[id] ?? []).filter((p) => p.success).map((p) => p.value)
}

/** Adds a run's observed values to the suite's history file. */
export async function recordHistory(dataDir: string, runId: string, at: string, result: SuiteResult): Promise<void> {
  const name = String(result.meta?.['expectation_suite_name'] ?? 'suite')
  const history = await readHistory(dataDir, name)
  const expectations: Record<string, HistoryPoint[]> = { ...(history.expectations as Record<string, HistoryPoint[]>) }
  let added = 0
  for (const r of result.results) {
    const id = r.meta?.['expectation_id']
    const value = r.result?.observed_value
    if (typeof id !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) continue
    const points = (expectations[id] ?? []).filter((p) => p.run !== runId)
    points.push({ run: runId, at, value, success: r.success })
    expectations[id] = points.slice(-HISTORY_KEEP)
    added++
  }
  if (!added) return
  await mkdir(join(dataDir, 'history'), { recursive: true })
  await writeFileAtomic(historyPath(dataDir, name), JSON.stringify({ format: 1, expectations }) + '\n')
}
