/**
 * Retention: what a data folder keeps of its history, applied after each run
 * (`--keep-runs N`, `--keep-days D`, config `retention`).
 *
 *     runs/<id>.json      the newest `keepRuns` records, none older than `keepDays`; never a Running one
 *     cache/<key>.json    entries past their expiry are deleted (a fresh one is kept whatever its age)
 *
 * Run ids start with their UTC start time (run-store.ts), so the age and the
 * order of a record come from its name: a pass lists the folder (bounded by
 * `keepRuns`, since every pass trims it) and reads only the records it is
 * about to delete, to spare a run still going. The caller removes what hangs
 * off a removed run (its docs page) from the ids it gets back.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { invalidOption } from '../errors.ts'
import { readRun, runsDir } from './run-store.ts'

export interface RetentionPolicy {
  /** Records kept, newest first. Default 500; at most 100000. */
  readonly keepRuns?: number
  /** Records older than this many days are removed; 0 keeps any age (within keepRuns). Default 90. */
  readonly keepDays?: number
}

export const RETENTION_DEFAULTS = Object.freeze({ keepRuns: 500, keepDays: 90 })

export interface RetentionResult {
  /** Ids of the run records removed. */
  readonly runs: readonly string[]
  /** Expired cache entries removed. */
  readonly cacheEntries: number
}

const idTime = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[A-Za-z0-9_-]+$/

/** The start time in ms encoded in a run id, or undefined for a name that is not a run id. */
export function runIdTime(id: string): number | undefined {
  const m = idTime.exec(id)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[]
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!)
  return Number.isNaN(t) ? undefined : t
}

/** The policy with defaults; throws ETL_INVALID_OPTION naming `path`. */
export function retentionPolicy(p: RetentionPolicy = {}, path = 'retention'): Required<RetentionPolicy> {
  const keepRuns = p.keepRuns ?? RETENTION_DEFAULTS.keepRuns
  const keepDays = p.keepDays ?? RETENTION_DEFAULTS.keepDays
  if (!Number.isInteger(keepRuns) || keepRuns < 1 || keepRuns > 100_000) throw invalidOption(`${path}.keepRuns`, 'an integer from 1 to 100000', keepRuns)
  if (typeof keepDays !== 'number' || !Number.isFinite(keepDays) || keepDays < 0) throw invalidOption(`${path}.keepDays`, 'a number of days >= 0', keepDays)
  return { keepRuns, keepDays }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/**
 * Applies `policy` to `dataDir`: removes run records past the policy (never
 * `keep`'s, never a Running one) and expired cache entries. Resolves with what
 * it removed. A file that cannot be removed is left for the next pass.
 */
export async function applyRetention(
  dataDir: string, policy: RetentionPolicy = {}, options: { readonly keep?: string; readonly now?: number } = {},
): Promise<RetentionResult> {
  const { keepRuns, keepDays } = retentionPolicy(policy)
  const now = options.now ?? Date.now()
  const ids = (await names(runsDir(dataDir))).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5))
    .filter((id) => runIdTime(id) !== undefined).sort().reverse()
  const cutoff = keepDays > 0 ? now - keepDays * 86_400_000 : -Infinity
  const removed: string[] = []
  for (const [i, id] of ids.entries()) {
    if (id === options.keep) continue
    if (i < keepRuns && (runIdTime(id) as number) >= cutoff) continue
    const record = await readRun(dataDir, id).catch(() => undefined)
    if (record?.state === 'Running') continue
    try {
      await rm(join(runsDir(dataDir), `${id}.json`))
      removed.push(id)
    } catch {
      // still there next time
    }
  }
  let cacheEntries = 0
  const cache = join(dataDir, 'cache')
  for (const name of await names(cache)) {
    if (!name.endsWith('.json')) continue
    let expiresAt: unknown
    try {
      expiresAt = (JSON.parse(await readFile(join(cache, name), 'utf8')) as { expiresAt?: unknown }).expiresAt
    } catch {
      continue // unreadable: the cache treats it as a miss and rewrites it; not ours to judge
    }
    if (typeof expiresAt === 'string' && Date.parse(expiresAt) <= now) {
      await rm(join(cache, name), { force: true }).then(() => cacheEntries++, () => {})
    }
  }
  return { runs: removed, cacheEntries }
}
