/**
 * The JSON form of expectation state, for sending it between processes (a
 * worker validating one key range hands its state to the one that merges).
 * State is plain data but may hold Maps and numbers JSON cannot carry
 * (NaN, +-Infinity, -0); they are tagged:
 *
 *     Map       -> {"$map": [[key, value], ...]}
 *     NaN, ...  -> {"$num": "NaN" | "Infinity" | "-Infinity" | "-0"}
 *     {"$x": 1} -> {"$obj": {"$x": 1}}     (an object whose keys start with $)
 *
 * decodeState(JSON.parse(JSON.stringify(encodeState(s)))) is deep-equal to s.
 */

function special(n: number): string | undefined {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (n === 0 && 1 / n < 0) return '-0'
  return undefined
}

/** A JSON-safe copy of a state value (tags Maps and special numbers). */
export function encodeState(v: unknown): unknown {
  if (typeof v === 'number') {
    const s = special(v)
    return s === undefined ? v : { $num: s }
  }
  if (typeof v === 'bigint') return { $big: v.toString() }
  if (v === null || typeof v !== 'object') return v === undefined ? null : v
  if (Array.isArray(v)) return v.map(encodeState)
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [encodeState(k), encodeState(x)]) }
  const out: Record<string, unknown> = {}
  let tagged = false
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) tagged = true
    out[k] = encodeState(x)
  }
  return tagged ? { $obj: out } : out
}

/** The inverse of encodeState. */
export function decodeState(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(decodeState)
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length === 1) {
    if (keys[0] === '$num') return Number(o['$num'] === '-0' ? -0 : o['$num'])
    if (keys[0] === '$big') return BigInt(o['$big'] as string)
    if (keys[0] === '$map') return new Map((o['$map'] as [unknown, unknown][]).map(([k, x]) => [decodeState(k), decodeState(x)]))
    if (keys[0] === '$obj') return decodePlain(o['$obj'] as Record<string, unknown>)
  }
  return decodePlain(o)
}

function decodePlain(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(o)) out[k] = decodeState(x)
  return out
}
