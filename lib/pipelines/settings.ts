/**
 * Everything a pipeline needs, resolved once from the configuration (defaults
 * < etl.config.json < flags) and the environment (database, Hopsworks).
 */
import { resolve } from 'node:path'
import { defaults, type EtlConfig, type MissingPolicy } from '../config/config.ts'
import { EtlError } from '../errors.ts'
import type { SourceSpec } from '../extract/relation.ts'
import { hopsworksConfigFromEnv, type HopsworksConfig } from '../load/hopsworks/index.ts'
import type { FeatureGroupOptions } from '../load/feature-group.ts'
import type { WriteDisposition } from '../load/sink.ts'
import type { IdentityRequest } from '../extract/identity.ts'

/** `--incremental COL` and its window (lib/pipelines/incremental.ts). */
export interface IncrementalSettings {
  readonly column: string
  readonly fullRefresh: boolean
  readonly since: string | undefined
  readonly until: string | undefined
}

export interface Settings {
  readonly source: SourceSpec
  readonly dataDir: string
  readonly suitePath: string
  readonly metaSuitePath: string
  readonly sink: 'local' | 'hopsworks'
  readonly hopsworks: HopsworksConfig | undefined
  readonly onInvalid: 'abort' | 'warn'
  readonly invalidRows: 'keep' | 'quarantine'
  readonly batchSize: number
  readonly retries: number
  readonly retryDelay: number
  readonly timeout: number | undefined
  /** Seconds to wait for the local feature group's lock (config lockTimeout, --lock-timeout). */
  readonly lockTimeout: number
  readonly transform: {
    readonly id: 'nanoid' | 'sequential' | 'derived'
    readonly key: readonly string[] | undefined
    readonly datetime: 'run' | 'row'
    readonly idColumn: string
    readonly datetimeColumn: string
    readonly missing: { readonly default?: MissingPolicy; readonly columns?: Readonly<Record<string, MissingPolicy>> } | undefined
  }
  /** What the load does with the rows already in the feature group (the sinks' `write` option). */
  readonly write: WriteDisposition
  readonly incremental: IncrementalSettings | undefined
  readonly featureGroup: FeatureGroupOptions
  readonly featureView: EtlConfig['featureView']
  readonly pollIntervalMs: number | undefined
  readonly parts: { readonly rows?: number; readonly bytes?: number } | undefined
}

export function resolveSettings(config: Readonly<EtlConfig>, env: NodeJS.ProcessEnv, cwd = process.cwd()): Settings {
  const hopsworks = hopsworksConfigFromEnv(env, { caFile: config.hopsworks?.caFile, insecure: config.hopsworks?.insecure, timeoutSeconds: config.hopsworks?.timeoutSeconds })
  const sink = config.sink ?? (env['HOPSWORKS_API_KEY'] ? 'hopsworks' : 'local')
  if (sink === 'hopsworks' && !hopsworks)
    throw new EtlError('ETL_CONFIG', '--sink hopsworks needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT in the environment (or .env)')
  const id = config.id ?? defaults.id
  const write = writeOf(config, id)
  const incremental = incrementalOf(config, id, write)
  const idColumn = config.idColumn ?? defaults.idColumn
  const datetimeColumn = config.datetimeColumn ?? defaults.datetimeColumn
  return Object.freeze({
    source: config.query ? { query: config.query, values: config.queryValues } : { table: config.table ?? defaults.table },
    dataDir: resolve(cwd, config.dataDir ?? defaults.dataDir),
    suitePath: resolve(cwd, config.suite ?? defaults.suite),
    metaSuitePath: resolve(cwd, config.metaSuite ?? defaults.metaSuite),
    sink,
    hopsworks: sink === 'hopsworks' ? hopsworks : undefined,
    onInvalid: config.onInvalid ?? defaults.onInvalid,
    invalidRows: config.invalidRows ?? defaults.invalidRows,
    batchSize: config.batchSize ?? defaults.batchSize,
    retries: config.retries ?? defaults.retries,
    retryDelay: config.retryDelay ?? defaults.retryDelay,
    timeout: config.timeout,
    lockTimeout: config.lockTimeout ?? 60,
    transform: {
      id,
      key: config.key,
      datetime: config.datetime ?? defaults.datetime,
      idColumn,
      datetimeColumn,
      missing: config.missing,
    },
    write,
    incremental,
    featureGroup: { ...defaults.featureGroup, ...config.featureGroup, primaryKey: [idColumn], eventTime: datetimeColumn },
    featureView: config.featureView,
    pollIntervalMs: config.hopsworks?.pollIntervalSeconds === undefined ? undefined : config.hopsworks.pollIntervalSeconds * 1000,
    parts: config.hopsworks?.partRows || config.hopsworks?.partBytes ? { rows: config.hopsworks.partRows, bytes: config.hopsworks.partBytes } : undefined,
  })
}

/**
 * The write disposition, by default the one the ids allow: merge for derived ids (a re-run changes nothing),
 * append for nanoid (new random ids each run), replace for sequential (1..N again each run). Throws ETL_USAGE
 * for a combination that would double or mix up rows.
 */
function writeOf(config: Readonly<EtlConfig>, id: Settings['transform']['id']): WriteDisposition {
  const write = config.write ?? (id === 'derived' ? 'merge' : id === 'nanoid' ? 'append' : 'replace')
  if (write === 'append' && id === 'derived')
    throw new EtlError('ETL_USAGE', '--write append with derived ids (the default --id): the same source row gets the same id every run, so appending would store it twice; ' +
      'use --write merge (the default: a re-run changes nothing), or --id nanoid to append rows with new random ids')
  if (id === 'sequential' && write !== 'replace')
    throw new EtlError('ETL_USAGE', `--write ${write} with --id sequential: sequential ids start at 1 again every run, so they would ${write === 'merge' ? 'overwrite unrelated rows' : 'repeat ids already in the feature group'}; ` +
      'use --write replace (the default with sequential), or --id derived (stable ids, merged) or --id nanoid (appended)')
  return write
}

/** `--incremental COL` and its window; ETL_USAGE for the combinations that cannot work. */
function incrementalOf(config: Readonly<EtlConfig>, id: Settings['transform']['id'], write: WriteDisposition): IncrementalSettings | undefined {
  const column = config.incremental
  if (column === undefined) {
    const lone = config.fullRefresh ? '--full-refresh' : config.since !== undefined ? '--since' : config.until !== undefined ? '--until' : undefined
    if (lone) throw new EtlError('ETL_USAGE', `${lone} only applies to an incremental load: add --incremental COL (the cursor column, e.g. updated_at)`)
    return undefined
  }
  if (id !== 'derived')
    throw new EtlError('ETL_USAGE', `--incremental with --id ${id}: an incremental load re-reads the rows at the watermark and relies on stable ids to merge them; use --id derived (the default)`)
  if (write === 'append' || (write === 'replace' && !config.fullRefresh))
    throw new EtlError('ETL_USAGE', `--incremental with --write ${write}: an incremental batch holds only the new and changed rows, so it must be merged into the group (--write merge, the default)` +
      (write === 'replace' ? '; to start over with only the rows there are now, add --full-refresh' : ''))
  if (config.fullRefresh && config.since !== undefined)
    throw new EtlError('ETL_USAGE', '--full-refresh reads every row and --since V only rows from V: give one of them')
  return { column, fullRefresh: config.fullRefresh === true, since: config.since, until: config.until }
}

/** The identity request of pgSource (lib/extract/identity.ts) for derived ids, else undefined. */
export function identityRequest(settings: Settings, onKey?: IdentityRequest['onKey']): IdentityRequest | undefined {
  if (settings.transform.id !== 'derived') return undefined
  return { idColumn: settings.transform.idColumn, key: settings.transform.key, onKey }
}
