/**
 * Prostate-shaped test data, as the transform stage hands it to a sink: the
 * nine prostate columns plus `user_id` and `datetime`. Deterministic.
 */
import { Readable } from 'node:stream'
import type { Batch, Column, Row } from '../../../lib/types.ts'
import { HopsworksEmulator, type EmulatorOptions } from '../hopsworks-emulator.ts'

export const prostateColumns: readonly Column[] = Object.freeze([
  { name: 'lcavol', type: 'float8' }, { name: 'lweight', type: 'float8' }, { name: 'age', type: 'int4' },
  { name: 'lbph', type: 'float8' }, { name: 'lcp', type: 'float8' }, { name: 'gleason', type: 'int4' },
  { name: 'pgg45', type: 'int4' }, { name: 'lpsa', type: 'float8' }, { name: 'target', type: 'int4' },
  { name: 'user_id', type: 'text' }, { name: 'datetime', type: 'timestamptz' },
].map((c) => Object.freeze(c)))

/** Row i (0-based); `idPrefix` makes the user_id (`${idPrefix}${i}`). */
export function prostateRow(i: number, idPrefix = 'u'): Row {
  const x = Math.sin(i + 1)
  return [
    Math.round(x * 1e6) / 1e6, 3 + Math.round(Math.cos(i) * 1e5) / 1e5, 40 + (i % 40), -1.386294, i % 7 === 0 ? null : 0.5 * (i % 5),
    6 + (i % 4), (i * 7) % 100, Math.round(x * 3e5) / 1e5, i % 2,
    `${idPrefix}${i}`, new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  ]
}

export function prostateRows(n: number, idPrefix = 'u', from = 0): Row[] {
  return Array.from({ length: n }, (_, k) => prostateRow(from + k, idPrefix))
}

/** A readable of batches of `size` rows (at least one batch, maybe empty). */
export function batches(columns: readonly Column[], rows: readonly Row[], size = 1000): Readable {
  const out: Batch[] = []
  for (let i = 0; i < rows.length; i += size) out.push({ columns, rows: rows.slice(i, i + size) })
  if (out.length === 0) out.push({ columns, rows: [] })
  return Readable.from(out, { objectMode: true })
}

/** Fast timings for tests: tiny poll interval and backoff. */
export const fast = Object.freeze({ pollIntervalMs: 2, http: { retryBaseMs: 2, retryMaxMs: 20, timeoutMs: 5000 } })

/** Starts an emulator closed at the test's teardown. */
export async function startEmulator(t: { teardown(fn: () => unknown): void }, options?: EmulatorOptions): Promise<HopsworksEmulator> {
  const emu = await HopsworksEmulator.start(options)
  t.teardown(() => emu.close())
  return emu
}
