/**
 * The feature group a load writes to, described once for both sinks: the
 * Hopsworks sink sends it (`cachedFeaturegroupDTO`), the local sink writes the
 * same object to `feature_group.json`. Pure functions, no I/O.
 *
 * Feature types from PostgreSQL types (Hive types, lowercase, as the Hopsworks
 * client writes them; ../shared/hopsworks/API.md section 5):
 *
 * | PostgreSQL                          | feature type |
 * | ----------------------------------- | ------------ |
 * | int2, int4                          | int          |
 * | int8                                | bigint       |
 * | float4                              | float        |
 * | float8, numeric                     | double       |
 * | bool                                | boolean      |
 * | date                                | date         |
 * | timestamp, timestamptz              | timestamp    |
 * | text, varchar, uuid, json, jsonb, arrays, anything else | string (arrays and JSON as JSON text) |
 *
 * A value a type cannot hold exactly (a numeric past 15 digits, a date past 9999) is refused by
 * hopsworks/exact.ts before it is staged.
 */
import { EtlError, invalidOption } from '../errors.ts'
import type { Column } from '../types.ts'

/** Hopsworks' name rule for feature groups, feature views and features (FeaturestoreConstants.java). */
export const HOPSWORKS_NAME = /^(?=.{1,63}$)[a-z][a-z0-9_]*$/

const hiveTypes: Readonly<Record<string, string>> = {
  int2: 'int', int4: 'int', int8: 'bigint', float4: 'float', float8: 'double', numeric: 'double',
  bool: 'boolean', date: 'date', timestamp: 'timestamp', timestamptz: 'timestamp',
}

/** The feature type of a PostgreSQL type (see the table above). */
export function featureType(pgType: string): string {
  return hiveTypes[pgType] ?? 'string'
}

export interface FeatureDto {
  readonly name: string
  readonly type: string
  readonly primary: boolean
  readonly partition: boolean
  readonly description?: string
}

/** The body of a feature group create; also the content of the local `feature_group.json`. */
export interface FeatureGroupDto {
  readonly type: 'cachedFeaturegroupDTO'
  readonly name: string
  readonly version: number
  readonly description: string
  readonly onlineEnabled: boolean
  /** HUDI: the offline table upserts on the primary key (NONE would append). */
  readonly timeTravelFormat: 'HUDI'
  readonly eventTime?: string
  readonly features: readonly FeatureDto[]
  readonly statisticsConfig: { readonly enabled: boolean; readonly histograms: boolean; readonly correlations: boolean; readonly exactUniqueness: boolean; readonly columns: readonly string[] }
}

export interface FeatureGroupOptions {
  /** Default `prostate_group`. Must match `^[a-z][a-z0-9_]*$`, at most 63 characters. */
  readonly name?: string
  /** Default 1. */
  readonly version?: number
  /** Default "Prostate for Classification ML workflow" (at most 256 characters). */
  readonly description?: string
  /** Default false. */
  readonly onlineEnabled?: boolean
  /** Primary key columns. Default `['user_id']`. */
  readonly primaryKey?: readonly string[]
  /** Event time column (type timestamp, date or bigint), or null for none. Default `'datetime'`. */
  readonly eventTime?: string | null
  /** Compute statistics on insert (Hopsworks). Default true. */
  readonly statistics?: boolean
}

export const FEATURE_GROUP_DEFAULTS = Object.freeze({
  name: 'prostate_group',
  version: 1,
  description: 'Prostate for Classification ML workflow',
  onlineEnabled: false,
  primaryKey: Object.freeze(['user_id']),
  eventTime: 'datetime',
})

const EVENT_TIME_TYPES = new Set(['timestamp', 'date', 'bigint'])

/**
 * Builds the feature group for a list of columns. Throws ETL_INVALID_OPTION for
 * a bad name, version or description, or a primary key / event time column
 * that is not among the columns (or an event time of the wrong type), and
 * ETL_COLUMN_NAME for a column name Hopsworks does not accept (it must be
 * lowercase: `^[a-z][a-z0-9_]*$`), before anything is sent anywhere.
 */
export function featureGroupDto(columns: readonly Column[], options: FeatureGroupOptions = {}): FeatureGroupDto {
  const name = options.name ?? FEATURE_GROUP_DEFAULTS.name
  const version = options.version ?? FEATURE_GROUP_DEFAULTS.version
  const description = options.description ?? FEATURE_GROUP_DEFAULTS.description
  const primaryKey = options.primaryKey ?? FEATURE_GROUP_DEFAULTS.primaryKey
  const eventTime = options.eventTime === undefined ? FEATURE_GROUP_DEFAULTS.eventTime : options.eventTime
  if (!HOPSWORKS_NAME.test(name)) throw invalidOption('featureGroup.name', 'a lowercase name matching ^[a-z][a-z0-9_]*$ (at most 63 characters)', name)
  if (!Number.isInteger(version) || version < 1) throw invalidOption('featureGroup.version', 'a positive integer', version)
  if (typeof description !== 'string' || description.length > 256) throw invalidOption('featureGroup.description', 'a string of at most 256 characters', description)
  if (columns.length === 0) throw new EtlError('ETL_SINK', 'cannot make a feature group without columns')
  const seen = new Set<string>()
  for (const c of columns) {
    if (!HOPSWORKS_NAME.test(c.name))
      throw new EtlError('ETL_COLUMN_NAME', `column ${JSON.stringify(c.name)} cannot be a Hopsworks feature: feature names must match ^[a-z][a-z0-9_]*$ (lowercase, at most 63 characters)`, { details: { column: c.name } })
    if (seen.has(c.name)) throw new EtlError('ETL_COLUMN_NAME', `column ${JSON.stringify(c.name)} appears twice`, { details: { column: c.name } })
    seen.add(c.name)
  }
  if (!Array.isArray(primaryKey) || primaryKey.length === 0) throw invalidOption('featureGroup.primaryKey', 'a non-empty list of column names', primaryKey)
  for (const k of primaryKey)
    if (!seen.has(k)) throw invalidOption('featureGroup.primaryKey', `columns of the data (${[...seen].join(', ')})`, k)
  const features = columns.map((c): FeatureDto => ({ name: c.name, type: featureType(c.type), primary: primaryKey.includes(c.name), partition: false }))
  if (eventTime !== null) {
    const f = features.find((x) => x.name === eventTime)
    if (!f) throw invalidOption('featureGroup.eventTime', `a column of the data (${[...seen].join(', ')}) or null`, eventTime)
    if (!EVENT_TIME_TYPES.has(f.type))
      throw invalidOption('featureGroup.eventTime', 'a column of type timestamp, date or bigint', `${eventTime} (${f.type})`)
  }
  return {
    type: 'cachedFeaturegroupDTO',
    name,
    version,
    description,
    onlineEnabled: options.onlineEnabled ?? FEATURE_GROUP_DEFAULTS.onlineEnabled,
    timeTravelFormat: 'HUDI',
    ...(eventTime !== null ? { eventTime } : {}),
    features,
    statisticsConfig: { enabled: options.statistics ?? true, histograms: false, correlations: false, exactUniqueness: false, columns: [] },
  }
}

/** What an existing feature group is compared on. Tolerant of what a server adds (ids, online types, upper-case types). */
export interface ExistingFeatureGroup {
  readonly features?: readonly { readonly name?: unknown; readonly type?: unknown; readonly primary?: unknown }[]
  readonly eventTime?: unknown
}

/**
 * The differences between the feature group a load needs and one that exists:
 * an empty list when they agree (same feature names, types and primary key;
 * order does not matter, because the ingestion matches columns by name).
 */
export function schemaDifferences(wanted: FeatureGroupDto, existing: ExistingFeatureGroup): string[] {
  const diffs: string[] = []
  const have = new Map<string, { type: string; primary: boolean }>()
  for (const f of existing.features ?? [])
    if (typeof f.name === 'string') have.set(f.name.toLowerCase(), { type: String(f.type ?? '').toLowerCase(), primary: f.primary === true })
  for (const f of wanted.features) {
    const h = have.get(f.name)
    if (!h) diffs.push(`feature ${f.name} (${f.type}) is missing`)
    else {
      if (h.type !== f.type) diffs.push(`feature ${f.name} is ${h.type}, the data has ${f.type}`)
      if (h.primary !== f.primary) diffs.push(`feature ${f.name} is ${h.primary ? '' : 'not '}part of the primary key there`)
    }
  }
  const names = new Set(wanted.features.map((f) => f.name))
  for (const [n, h] of have) if (!names.has(n)) diffs.push(`feature ${n} (${h.type}) is not in the data`)
  if (typeof existing.eventTime === 'string' && existing.eventTime !== (wanted.eventTime ?? '')) diffs.push(`event time is ${existing.eventTime}, wanted ${wanted.eventTime ?? 'none'}`)
  return diffs
}

/** Throws ETL_HOPSWORKS_SCHEMA (or the given code) naming every difference, when there is any. */
export function assertSameSchema(wanted: FeatureGroupDto, existing: ExistingFeatureGroup, where: string, code: 'ETL_HOPSWORKS_SCHEMA' | 'ETL_SINK' = 'ETL_HOPSWORKS_SCHEMA'): void {
  const diffs = schemaDifferences(wanted, existing)
  if (diffs.length === 0) return
  throw new EtlError(code, `feature group ${wanted.name} version ${wanted.version} already exists in ${where} with a different schema: ${diffs.join('; ')}. Load into a new version (featureGroup.version) or make the data match; nothing was sent.`, { details: { featureGroup: wanted.name, version: wanted.version, differences: diffs } })
}
