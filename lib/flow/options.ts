/** Option checks shared by task(), flow() and schedule(): checked once, at construction (STYLE rule 4). */
import { invalidOption } from '../errors.ts'

/** Throws ETL_INVALID_OPTION for a key not in `allowed`. */
export function rejectUnknownKeys(path: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw invalidOption(`${path}.${key}`, `one of ${allowed.join(', ')}`, key)
  }
}

export function checkName(path: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption(path, 'a non-empty string', value)
}

export function checkInteger(path: string, value: unknown, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < min)) throw invalidOption(path, `an integer >= ${min}`, value)
}

export function checkPositive(path: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) throw invalidOption(path, 'a number > 0', value)
}

export function checkNonNegative(path: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) throw invalidOption(path, 'a number >= 0', value)
}

export function checkFunction(path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(path, 'a function', value)
}

/** A list of hook functions, or one. */
export function checkHooks(path: string, value: unknown): void {
  if (value === undefined) return
  const list = Array.isArray(value) ? value : [value]
  if (list.some((f) => typeof f !== 'function')) throw invalidOption(path, 'a function or a list of functions', typeof value)
}
