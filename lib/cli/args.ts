/**
 * Flags -> a partial EtlConfig (plus the command's own switches). One table of
 * flags serves every command; each command lists the flags it takes, and an
 * unknown flag is a usage error (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { EtlConfig, MissingPolicy } from '../config/config.ts'
import { EtlError, invalidOption } from '../errors.ts'

type FlagSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string; help: string; arg?: string }

export const flags = {
  table: { type: 'string', arg: 'T', help: 'source table, schema.table allowed (default prostate)' },
  query: { type: 'string', arg: 'SQL', help: 'source query instead of a table' },
  suite: { type: 'string', arg: 'FILE', help: 'expectation suite (default fixtures/suites/prostate.json)' },
  'meta-suite': { type: 'string', arg: 'FILE', help: 'meta-validation suite (default fixtures/suites/meta.json)' },
  'data-dir': { type: 'string', arg: 'DIR', help: 'data folder for stage files, runs and the local store (default ./data)' },
  input: { type: 'string', arg: 'CSV', help: "the stage CSV to read (default: the previous stage's file in the data folder)" },
  sink: { type: 'string', arg: 'local|hopsworks', help: 'where to load (default hopsworks when HOPSWORKS_API_KEY is set, else local)' },
  'on-invalid': { type: 'string', arg: 'abort|warn', help: 'when validation or meta-validation fails: abort (exit 3, load nothing) or warn' },
  'invalid-rows': { type: 'string', arg: 'keep|quarantine', help: 'rows failing a row-level expectation: keep them, or move them to quarantine.csv' },
  id: { type: 'string', arg: 'derived|nanoid|sequential', help: 'how user_id is made: derived (default: stable, from the primary key, else every column + occurrence), nanoid (random, appends), sequential (1..N, replaces)' },
  key: { type: 'string', arg: 'COLS', help: 'key columns of --id derived, comma-separated (default: the primary key)' },
  write: { type: 'string', arg: 'merge|append|replace', help: 'merge (default: upsert on user_id), append (nanoid ids), replace (the group holds exactly this run)' },
  incremental: { type: 'string', arg: 'COL', help: 'read only rows with COL >= the last committed watermark (a serial id or an updated_at)' },
  'full-refresh': { type: 'boolean', help: 'with --incremental: read every row and start the watermark over' },
  since: { type: 'string', arg: 'V', help: 'with --incremental: read rows with COL >= V (a backfill; the watermark is not moved back)' },
  until: { type: 'string', arg: 'V', help: 'with --incremental: read rows with COL < V' },
  datetime: { type: 'string', arg: 'run|row', help: 'one run time for all rows (default) or the time each row was stamped' },
  missing: { type: 'string', multiple: true, arg: 'POLICY', help: 'missing values: keep|drop|fill:VALUE for all, or COL=keep|drop|fill:VALUE (repeatable)' },
  'id-column': { type: 'string', arg: 'NAME', help: 'name of the id column (default user_id)' },
  'datetime-column': { type: 'string', arg: 'NAME', help: 'name of the datetime column (default datetime)' },
  'feature-group': { type: 'string', arg: 'NAME', help: 'feature group name (default prostate_group)' },
  'feature-group-version': { type: 'string', arg: 'N', help: 'feature group version (default 1)' },
  'feature-view': { type: 'boolean', help: 'also create a feature view over the feature group' },
  'batch-size': { type: 'string', arg: 'N', help: 'rows per cursor fetch and per batch (default 1000)' },
  retries: { type: 'string', arg: 'N', help: 'retries for steps that touch the database or Hopsworks (default 0)' },
  'retry-delay': { type: 'string', arg: 'SECONDS', help: 'first retry delay, doubled each time, with jitter (default 1)' },
  timeout: { type: 'string', arg: 'SECONDS', help: 'time limit of the whole run' },
  repair: { type: 'boolean', help: 'etl store verify: remove leftovers, rebuild what can be rebuilt, say what is lost' },
  'lock-timeout': { type: 'string', arg: 'SECONDS', help: 'wait for another run in the same data folder, or load of the same local feature group (default 60), then ETL_LOCKED' },
  webhook: { type: 'string', multiple: true, arg: 'URL', help: 'POST a JSON notification on failure (repeatable)' },
  notify: { type: 'string', arg: 'failure|always', help: 'when webhooks fire (default failure)' },
  cron: { type: 'string', arg: 'EXPR', help: 'cron expression (5 fields, or 6 with seconds)' },
  tz: { type: 'string', arg: 'ZONE', help: 'time zone of the cron expression: UTC (default), local, or an IANA name such as Europe/Oslo' },
  distributed: { type: 'boolean', help: 'register the schedule in the queue database for `etl worker`s (one run per tick across them) instead of running it here' },
  name: { type: 'string', arg: 'NAME', help: 'name of a distributed schedule (default etl-run)' },
  missed: { type: 'string', arg: 'skip|once', help: 'a distributed schedule\'s ticks missed while no worker was up: skip them (default) or run once' },
  remove: { type: 'string', arg: 'NAME', help: 'remove the distributed schedule NAME' },
  'keep-runs': { type: 'string', arg: 'N', help: 'run records (and docs pages) the data folder keeps, newest first (default 500)' },
  'keep-days': { type: 'string', arg: 'D', help: 'remove run records older than D days; 0: any age (default 90)' },
  test: { type: 'string', arg: 'URL', help: 'send a sample notification (signed with ETL_WEBHOOK_SECRET) to URL' },
  'max-failures': { type: 'string', arg: 'N', help: 'stop the schedule (non-zero exit) after N failed runs in a row (default: never)' },
  config: { type: 'string', arg: 'FILE', help: 'config file (default ./etl.config.json if present)' },
  json: { type: 'boolean', help: 'print the result (run record) as JSON on stdout' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress, only errors' },
  log: { type: 'string', arg: 'text|json', help: 'log format on stderr' },
  open: { type: 'boolean', help: 'open the page after building it' },
  limit: { type: 'string', arg: 'N', help: 'how many runs to list (default 20)' },
  partitions: { type: 'string', arg: 'N', help: 'split the source into N key ranges run by `etl worker`s' },
  'partition-key': { type: 'string', arg: 'COL', help: 'numeric or timestamp column to split on' },
  concurrency: { type: 'string', arg: 'K', help: 'partitions a worker runs at once (default 1)' },
  out: { type: 'string', arg: 'FILE', help: 'where to write the suggested suite (default: stdout)' },
  'max-age': { type: 'string', arg: 'SECONDS', help: 'etl health: the oldest heartbeat that counts as alive (default 30)' },
  'log-level': { type: 'string', arg: 'LEVEL', help: 'debug|info|warn|error|silent (default LOG_LEVEL, else info); debug shows the SQL sent and each HTTP call' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies Record<string, FlagSpec>

export type FlagName = keyof typeof flags
export type FlagValues = { [K in FlagName]?: (typeof flags)[K]['type'] extends 'boolean' ? boolean : (typeof flags)[K] extends { multiple: true } ? string[] : string }

export function parseFlags(argv: readonly string[], allowed: readonly FlagName[]): { values: FlagValues; positionals: string[] } {
  const options: ParseArgsConfig['options'] = {}
  for (const name of [...allowed, 'log-level' as const, 'help' as const]) {
    const f: FlagSpec = flags[name]
    options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
    return { values: values as FlagValues, positionals }
  } catch (err) {
    throw new EtlError('ETL_USAGE', (err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), { cause: err })
  }
}

function int(name: string, v: string | undefined, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw invalidOption(`--${name}`, max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, v)
  return n
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw invalidOption(`--${name}`, 'a number >= 0', v)
  return n
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v)) throw invalidOption(`--${name}`, allowed.join(' or '), v)
  return v as T
}

function policy(text: string): MissingPolicy {
  if (text === 'keep' || text === 'drop') return text
  if (text.startsWith('fill:')) {
    const raw = text.slice(5)
    try {
      return { fill: JSON.parse(raw) as unknown }
    } catch {
      return { fill: raw }
    }
  }
  throw invalidOption('--missing', 'keep, drop or fill:VALUE (optionally COL=...)', text)
}

/** The config part of the flags. */
export function configFromFlags(v: FlagValues): Partial<EtlConfig> {
  let missing: EtlConfig['missing']
  if (v.missing?.length) {
    let all: MissingPolicy | undefined
    const columns: Record<string, MissingPolicy> = {}
    for (const m of v.missing) {
      const eq = m.indexOf('=')
      if (eq > 0 && !m.startsWith('fill:')) columns[m.slice(0, eq)] = policy(m.slice(eq + 1))
      else all = policy(m)
    }
    missing = { ...(all ? { default: all } : {}), ...(Object.keys(columns).length ? { columns } : {}) }
  }
  const fgName = v['feature-group']
  const fgVersion = int('feature-group-version', v['feature-group-version'], 1)
  const notifyAlways = oneOf('notify', v.notify, ['failure', 'always'] as const) === 'always'
  return {
    table: v.table,
    query: v.query,
    suite: v.suite,
    metaSuite: v['meta-suite'],
    dataDir: v['data-dir'],
    input: v.input,
    sink: oneOf('sink', v.sink, ['local', 'hopsworks'] as const),
    onInvalid: oneOf('on-invalid', v['on-invalid'], ['abort', 'warn'] as const),
    invalidRows: oneOf('invalid-rows', v['invalid-rows'], ['keep', 'quarantine'] as const),
    id: oneOf('id', v.id, ['nanoid', 'sequential', 'derived'] as const),
    write: oneOf('write', v.write, ['merge', 'append', 'replace'] as const),
    incremental: v.incremental,
    fullRefresh: v['full-refresh'],
    since: v.since,
    until: v.until,
    key: v.key === undefined ? undefined : v.key.split(',').map((s) => s.trim()).filter(Boolean),
    datetime: oneOf('datetime', v.datetime, ['run', 'row'] as const),
    idColumn: v['id-column'],
    datetimeColumn: v['datetime-column'],
    missing,
    featureGroup: fgName !== undefined || fgVersion !== undefined ? { ...(fgName ? { name: fgName } : {}), ...(fgVersion ? { version: fgVersion } : {}) } : undefined,
    featureView: v['feature-view'] ? true : undefined,
    batchSize: int('batch-size', v['batch-size'], 1, 100000),
    retries: int('retries', v.retries, 0, 100),
    retryDelay: num('retry-delay', v['retry-delay']),
    timeout: num('timeout', v.timeout),
    lockTimeout: num('lock-timeout', v['lock-timeout']),
    notifications: v.webhook?.map((url) => ({ url, onFailure: true, onCompletion: notifyAlways })),
    cron: v.cron,
    timezone: v.tz,
    retention: v['keep-runs'] !== undefined || v['keep-days'] !== undefined
      ? { ...(v['keep-runs'] !== undefined ? { keepRuns: int('keep-runs', v['keep-runs'], 1, 100000) } : {}), ...(v['keep-days'] !== undefined ? { keepDays: num('keep-days', v['keep-days']) } : {}) }
      : undefined,
    log: oneOf('log', v.log, ['text', 'json'] as const),
    quiet: v.quiet,
    json: v.json,
  }
}

/** The help text of a command's flags. */
export function flagHelp(names: readonly FlagName[]): string {
  return [...names, 'log-level' as const, 'help' as const]
    .map((n) => {
      const f: FlagSpec = flags[n]
      const left = `  ${f.short ? `-${f.short}, ` : ''}--${n}${f.arg ? ` ${f.arg}` : ''}`
      return `${left.padEnd(36)} ${f.help}`
    })
    .join('\n')
}
