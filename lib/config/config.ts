/**
 * Configuration: defaults < etl.config.json < flags. Secrets and connections
 * come from the environment (or `.env` in the working folder), never from the
 * config file.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { ErrorObject } from 'ajv'
import { EtlError } from '../errors.ts'
import { validate as generatedCheck } from './config-check.generated.ts'

export type MissingPolicy = 'keep' | 'drop' | { readonly fill: unknown }

export interface Notification {
  readonly url: string
  readonly onCompletion?: boolean
  readonly onFailure?: boolean
}

export interface EtlConfig {
  readonly table?: string
  readonly query?: string
  readonly queryValues?: readonly unknown[]
  readonly suite?: string
  readonly metaSuite?: string
  readonly dataDir?: string
  readonly input?: string
  readonly sink?: 'local' | 'hopsworks'
  readonly onInvalid?: 'abort' | 'warn'
  readonly invalidRows?: 'keep' | 'quarantine'
  readonly id?: 'nanoid' | 'sequential' | 'derived'
  readonly key?: readonly string[]
  readonly datetime?: 'run' | 'row'
  readonly write?: 'merge' | 'append' | 'replace'
  readonly incremental?: string
  readonly fullRefresh?: boolean
  readonly since?: string
  readonly until?: string
  readonly idColumn?: string
  readonly datetimeColumn?: string
  readonly missing?: { readonly default?: MissingPolicy; readonly columns?: Readonly<Record<string, MissingPolicy>> }
  readonly batchSize?: number
  readonly retries?: number
  readonly retryDelay?: number
  readonly timeout?: number
  /** Seconds a load waits for another live load of the same local feature group before ETL_LOCKED (default 60). */
  readonly lockTimeout?: number
  readonly notifications?: readonly Notification[]
  readonly featureGroup?: { readonly name?: string; readonly version?: number; readonly description?: string; readonly onlineEnabled?: boolean }
  readonly featureView?: boolean | { readonly name?: string; readonly version?: number; readonly features?: readonly string[] }
  readonly hopsworks?: { readonly caFile?: string; readonly insecure?: boolean; readonly pollIntervalSeconds?: number; readonly timeoutSeconds?: number; readonly partRows?: number; readonly partBytes?: number }
  readonly cron?: string
  /** Time zone of `cron` (`etl schedule`): UTC (default), local or an IANA name. */
  readonly timezone?: string
  /** What the data folder keeps of its history (defaults: 500 runs, 90 days). */
  readonly retention?: { readonly keepRuns?: number; readonly keepDays?: number }
  readonly log?: 'text' | 'json'
  readonly quiet?: boolean
  readonly json?: boolean
}

/** configSchema (schema.ts) as ajv compiles it, compiled ahead of time (scripts/config-check.ts): no ajv at run time. */
const check = generatedCheck as unknown as ((data: unknown) => data is EtlConfig) & { errors?: ErrorObject[] | null }

/** The folder of the package (for fixtures/suites/*.json defaults). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DEFAULT_SUITE = resolve(PACKAGE_ROOT, 'fixtures/suites/prostate.json')
export const DEFAULT_META_SUITE = resolve(PACKAGE_ROOT, 'fixtures/suites/meta.json')

export const defaults = Object.freeze({
  table: 'prostate',
  suite: DEFAULT_SUITE,
  metaSuite: DEFAULT_META_SUITE,
  dataDir: './data',
  onInvalid: 'abort',
  invalidRows: 'keep',
  id: 'derived',
  datetime: 'run',
  idColumn: 'user_id',
  datetimeColumn: 'datetime',
  batchSize: 1000,
  retries: 0,
  retryDelay: 1,
  featureGroup: Object.freeze({ name: 'prostate_group', version: 1, description: 'Prostate for Classification ML workflow', onlineEnabled: false }),
} as const)

function describeAjvError(e: ErrorObject): string {
  const path = e.instancePath || '/'
  if (e.keyword === 'additionalProperties') return `${path}: unknown setting ${JSON.stringify(e.params['additionalProperty'])}`
  if (e.keyword === 'enum') return `${path}: must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
  return `${path}: ${e.message ?? 'is invalid'}`
}

/** Checks a config object against the schema. Throws ETL_CONFIG naming every offending path. */
export function parseConfig(input: unknown, source = 'etl.config.json'): Readonly<EtlConfig> {
  if (!check(input)) {
    const errors = (check.errors ?? []).filter((e) => e.keyword !== 'oneOf' || check.errors?.length === 1)
    const lines = [...new Set(errors.map(describeAjvError))]
    throw new EtlError('ETL_CONFIG', `invalid ${source}:\n  ${lines.join('\n  ')}`, { details: { errors: check.errors } })
  }
  if (input.table && input.query) throw new EtlError('ETL_CONFIG', `invalid ${source}: give either table or query, not both`)
  return Object.freeze(input)
}

/** Reads `etl.config.json` (or the given file). A missing default file is fine; a missing named file is not. */
export function loadConfigFile(path?: string, cwd = process.cwd()): Readonly<EtlConfig> {
  const file = resolve(cwd, path ?? 'etl.config.json')
  if (!existsSync(file)) {
    if (path) throw new EtlError('ETL_CONFIG', `config file not found: ${file}`)
    return {}
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new EtlError('ETL_CONFIG', `invalid ${file}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  return parseConfig(parsed, file)
}

/**
 * The environment with `.env` from the working folder under it: a new object
 * (`env` and process.env are left alone), variables already in `env` win.
 * Read with util.parseEnv, as `node --env-file` reads it. Throws ETL_CONFIG.
 */
export function withDotEnv(cwd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = resolve(cwd, '.env')
  if (!existsSync(file)) return env
  let parsed: Record<string, string>
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (err) {
    throw new EtlError('ETL_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  return { ...parsed, ...env }
}

/** Flags over file over defaults (flags that were not given are undefined and do not override). */
export function mergeConfig(file: Readonly<EtlConfig>, flags: Partial<EtlConfig>): Readonly<EtlConfig> {
  // Both given as flags: which one wins would be a guess (each used to drop the other, leaving the default table).
  if (flags.table !== undefined && flags.query !== undefined) throw new EtlError('ETL_USAGE', 'give either --table or --query, not both')
  const merged: Record<string, unknown> = { ...file }
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v
  if (flags.retention && file.retention) merged['retention'] = { ...file.retention, ...flags.retention }
  if (flags.query !== undefined) delete merged['table']
  if (flags.table !== undefined) delete merged['query']
  return parseConfig(merged, 'configuration (etl.config.json and flags)')
}
