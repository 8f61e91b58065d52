/**
 * Each row is serialized once per run. Formatting numbers is the most costly
 * step of `etl run` (a double becomes text in ~0.2 µs), and a row used to be
 * formatted three times: for extracted.csv, for transformed.csv and for the
 * sink's parts. Now the first stage that writes a batch keeps its CSV lines
 * beside the batch's rows array; the transform makes its lines from them
 * (the input line + `,id,time`, unless it filled a value), and the
 * transformed.csv tee and the sinks reuse those.
 *
 * The lines live in a WeakMap keyed by the `rows` array, so they go when the
 * batch goes, and the Batch shape (the public data model) does not change.
 * Keeping them is opt-in (`csvTee(path, { keepLines: true })`): a kept line
 * is only right while nobody changes the row in place, which `etl run`'s
 * pipeline never does, but a library user's own stage might. Stages that
 * build a new rows array from rows with kept lines (quarantine, transform)
 * keep the new lines too. Lines are always what formatLines(rows, columns) gives;
 * `plain` says whether they also equal formatLines(rows) without columns
 * (they do unless a json/jsonb/array column wrote a scalar as JSON text),
 * which is how the sinks' parts are written.
 */
import type { Batch, Column, Row } from '../types.ts'
import { formatLines, jsonFlags } from './format.ts'

interface Entry {
  readonly lines: readonly string[]
  readonly plain: boolean
}

const cache = new WeakMap<readonly Row[], Entry>()

/**
 * The lines of `batch`: the kept ones, else formatted now (and kept when
 * `keep`: only for a stream whose rows nobody changes in place afterwards).
 */
export function batchLines(batch: Batch, keep = false): readonly string[] {
  const hit = cachedLines(batch.rows)
  if (hit) return hit
  const lines = formatLines(batch.rows, batch.columns)
  if (keep) keepLines(batch.rows, lines, batch.columns)
  return lines
}

/** The kept lines of `rows`, if any (formatted with the batch's columns). */
export function cachedLines(rows: readonly Row[]): readonly string[] | undefined {
  const hit = cache.get(rows)
  return hit && hit.lines.length === rows.length ? hit.lines : undefined
}

/** The kept lines of `rows` when they equal formatLines(rows) without columns (as sink parts are written). */
export function plainLines(rows: readonly Row[]): readonly string[] | undefined {
  const hit = cache.get(rows)
  return hit && hit.plain && hit.lines.length === rows.length ? hit.lines : undefined
}

/** Keeps `lines` (= formatLines(rows, columns), one per row) for `rows`. */
export function keepLines(rows: readonly Row[], lines: readonly string[], columns: readonly Column[]): void {
  cache.set(rows, { lines, plain: jsonFlags(columns) === null })
}
