/**
 * Comparing one of our results with a GE test's `out`, as the conformance
 * README says: success equal; observed_value equal (floats within a relative
 * 1e-6, or the test's tolerance; observed_value_list: any listed value);
 * unexpected_list the same values in any order; unexpected_index_list equal
 * after sorting by pk_index; `result` fields one by one; `value_counts`
 * entries present; `error` / traceback_substring: the result reports an error.
 */
import type { ExpectationResult } from '../../lib/expectations/types.ts'
import type { GxTest } from './cases.ts'

export interface Verdict {
  readonly pass: boolean
  readonly reason?: string
  /** A note that does not fail the test (an error message worded differently from GE's). */
  readonly note?: string
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 300 ? s.slice(0, 300) + '...' : s
}

/** Deep equality with a relative tolerance on numbers. */
export function close(a: unknown, b: unknown, rtol: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true
    if (Number.isNaN(a) && Number.isNaN(b)) return true
    return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b))
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i], rtol))
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return close(ka, kb, 0) && ka.every((k) => close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rtol))
  }
  return a === b
}

const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x))

function sameMultiset(ours: unknown, theirs: unknown): boolean {
  if (!Array.isArray(ours) || !Array.isArray(theirs)) return false
  const a = ours.map(canon).sort()
  const b = theirs.map(canon).sort()
  return close(a, b, 0)
}

function byPk(list: unknown): unknown[] | undefined {
  if (!Array.isArray(list)) return undefined
  return [...list].sort((x, y) => Number((x as { pk_index?: number }).pk_index) - Number((y as { pk_index?: number }).pk_index))
}

const LIST_KEYS = new Set(['unexpected_list', 'partial_unexpected_list'])

function compareField(key: string, ours: unknown, theirs: unknown, rtol: number): string | undefined {
  if (LIST_KEYS.has(key)) return sameMultiset(ours, theirs) ? undefined : `${key}: ${show(ours)} != ${show(theirs)}`
  if (key === 'unexpected_index_list') return close(byPk(ours), byPk(theirs), 0) ? undefined : `${key}: ${show(ours)} != ${show(theirs)}`
  return close(ours, theirs, rtol) ? undefined : `${key}: ${show(ours)} != ${show(theirs)}`
}

export function compare(test: GxTest, r: ExpectationResult): Verdict {
  const out = test.out
  const raised = r.exception_info.raised_exception
  const wantsError = test.error !== undefined || 'traceback_substring' in out
  if (wantsError) {
    if (!raised) return { pass: false, reason: `expected an error, got success=${r.success} ${show(r.result)}` }
    if (r.success) return { pass: false, reason: 'an error result must not succeed' }
    const sub = out['traceback_substring']
    const note = typeof sub === 'string' && !(r.exception_info.exception_traceback ?? '').includes(sub)
      ? `message differs from GE's (${show(sub)}): ${r.exception_info.exception_message}`
      : undefined
    if ('success' in out && out['success'] !== r.success) return { pass: false, reason: `success ${r.success} != ${show(out['success'])}` }
    return note ? { pass: true, note } : { pass: true }
  }
  if (raised) return { pass: false, reason: `unexpected error: ${r.exception_info.exception_message}` }
  const rtol = test.tolerance ?? 1e-6
  const result = r.result as Record<string, unknown>
  for (const [key, want] of Object.entries(out)) {
    let problem: string | undefined
    switch (key) {
      case 'success':
        problem = r.success === want ? undefined : `success ${r.success} != ${show(want)}`
        break
      case 'observed_value':
        problem = compareField(key, result['observed_value'], want, rtol)
        break
      case 'observed_value_list':
        problem = (want as unknown[]).some((w) => close(result['observed_value'], w, rtol)) ? undefined : `observed_value ${show(result['observed_value'])} not in ${show(want)}`
        break
      case 'unexpected_list':
      case 'unexpected_index_list':
        problem = compareField(key, result[key], want, rtol)
        break
      case 'value_counts': {
        const got = ((result['details'] as { value_counts?: unknown[] } | undefined)?.value_counts ?? []).map(canon)
        const missing = (want as unknown[]).filter((w) => !got.includes(canon(w)))
        problem = missing.length ? `value_counts lacks ${show(missing)}` : undefined
        break
      }
      case 'result':
        for (const [k, w] of Object.entries(want as Record<string, unknown>)) {
          problem = compareField(k, result[k], w, rtol)
          if (problem) break
        }
        break
      default:
        problem = `unknown key in out: ${key}`
    }
    if (problem) return { pass: false, reason: problem }
  }
  return { pass: true }
}
