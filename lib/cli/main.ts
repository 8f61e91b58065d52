/**
 * `etl`: the commands. bin/etl.js only calls main() and sets the exit code.
 * Exit codes: 0 ok, 1 the run failed, 2 bad usage or configuration, 3 the data
 * failed its quality gate.
 */
import { readFileSync } from 'node:fs'
import { withDotEnv } from '../config/config.ts'
import { traceCalls } from '../flow/debug.ts'
import { parseLogLevel } from '../flow/log.ts'
import { asEtlError, EtlError } from '../errors.ts'
import { flagHelp, parseFlags } from './args.ts'
import { commands, type Command } from './commands.ts'
import { startHeartbeat } from './health.ts'
import { makeLogger, signalExitCode, type CommandContext, type Io } from './context.ts'

export interface MainOptions extends Partial<Io> {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly signal?: AbortSignal
}

const ENVIRONMENT = [
  ['DATABASE_URL', 'the source database (postgres://user:password@host:port/database); none: an embedded PostgreSQL'],
  ['PGHOST PGPORT PGUSER', 'libpq variables: the database without DATABASE_URL, and defaults for what it leaves out'],
  ['PGPASSWORD PGDATABASE', ''],
  ['PGOPTIONS', 'session options (-c name=value) for our PostgreSQL sessions'],
  ['HOPSWORKS_HOST HOPSWORKS_PORT', 'the Hopsworks cluster; with HOPSWORKS_API_KEY set, --sink defaults to hopsworks'],
  ['HOPSWORKS_API_KEY', ''],
  ['HOPSWORKS_PROJECT', ''],
  ['ETL_WEBHOOK_SECRET', 'signs webhook bodies (HMAC-SHA256)'],
  ['ETL_QUEUE_URL', 'the queue of --partitions and `etl worker` (default: the source database)'],
  ['TMPDIR', "where the embedded PostgreSQL's data folder goes"],
  ['LOG_LEVEL', 'debug, info (default), warn, error or silent; --log-level wins'],
  ['ETL_PROGRESS_SECONDS', 'seconds between progress lines without a terminal or with --log json (default 5)'],
  ['ETL_HEARTBEAT_FILE', 'a file a running command rewrites every 5 s, for `etl health`'],
  ['ETL_NO_REEXEC=1', 'do not restart node with the memory flags'],
  ['.env', 'read from the working folder (variables already set win)'],
] as const

function environment(): string[] {
  const width = Math.max(...ENVIRONMENT.map(([k]) => k.length))
  return ['Environment:', ...ENVIRONMENT.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`.trimEnd())]
}

/** A few command lines per command, for its --help. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: ['etl run', 'DATABASE_URL=postgres://etl@db/clinic etl run --table public.prostate --id derived --key lcavol,age', 'etl run --sink hopsworks --log json --json'],
  extract: ['etl extract --table public.prostate', "etl extract --query 'SELECT * FROM prostate WHERE age > 60'"],
  validate: ['etl validate', 'etl validate --suite my-suite.json --invalid-rows quarantine'],
  'meta-validate': ['etl meta-validate'],
  transform: ['etl transform --id sequential --missing pgg45=fill:0'],
  load: ['etl load --sink local', 'etl load --sink hopsworks --feature-group prostate_group --feature-group-version 2'],
  schedule: ['etl schedule --cron "0 2 * * *"', 'etl schedule --cron "*/30 * * * * *" --log json'],
  runs: ['etl runs', 'etl runs --json', 'etl runs <id>'],
  docs: ['etl docs --open'],
  worker: ['ETL_QUEUE_URL=postgres://etl@queue/etl etl worker --concurrency 2'],
  health: ['ETL_HEARTBEAT_FILE=/tmp/etl-heartbeat etl health --max-age 30'],
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length))
  return [
    'Usage: etl <command> [flags]',
    '',
    'Moves a PostgreSQL table into the Hopsworks feature store, validated on the way.',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Examples:',
    '  etl run                      the whole job on the embedded PostgreSQL and the local store',
    '  etl run --table public.prostate --sink hopsworks',
    '  etl help run                 the flags of a command (also etl run --help)',
    '',
    ...environment(),
    '',
    'Exit codes: 0 success, 1 the run failed, 2 bad usage or configuration, 3 the data failed its quality gate,',
    '130/143 stopped by SIGINT/SIGTERM.',
    `prostate-etl ${version()} (etl --version)`,
  ].join('\n')
}

export function commandHelp(name: string, c: Command): string {
  return [
    `Usage: etl ${name}${c.usage ? ` ${c.usage}` : ''} [flags]`,
    '',
    c.summary,
    ...(c.description ? ['', c.description] : []),
    '',
    'Flags:',
    flagHelp(c.flags),
    ...(EXAMPLES[name]?.length ? ['', 'Examples:', ...EXAMPLES[name]!.map((e) => `  ${e}`)] : []),
    '',
    ...environment(),
  ].join('\n')
}

let cachedVersion: string | undefined

/** The version in package.json (next to lib/ in a checkout, next to dist/ when installed). */
export function version(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cachedVersion
}

/** Edit distance (insert, delete, substitute, swap of neighbours), for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/** The closest of `names` to `word`, if close enough to be a typo (or a unique prefix). */
export function closest(word: string, names: readonly string[]): string | undefined {
  const prefixed = names.filter((n) => n.startsWith(word))
  if (word.length >= 2 && prefixed.length === 1) return prefixed[0]
  let best: string | undefined
  let bestD = Infinity
  for (const n of names) {
    const dist = distance(word, n)
    if (dist < bestD) [best, bestD] = [n, dist]
  }
  return bestD <= Math.max(1, Math.min(2, Math.floor(word.length / 3))) ? best : undefined
}

/** A usage error for an unknown flag, with the closest flag of this command (or which command takes it). */
function flagSuggestion(err: EtlError, name: string, command: Command): EtlError {
  const m = /^Unknown option '(-{1,2})([^']+)'/.exec(err.message)
  if (!m) return err
  const given = m[2]!
  const own = [...command.flags, 'help'] as string[]
  if (m[1] === '--' && !own.includes(given)) {
    const near = closest(given, own)
    if (near) return new EtlError('ETL_USAGE', `${err.message}. Did you mean --${near}?`, { cause: err })
    const elsewhere = Object.entries(commands).filter(([, c]) => (c.flags as readonly string[]).includes(given)).map(([n]) => `etl ${n}`)
    if (elsewhere.length) return new EtlError('ETL_USAGE', `${err.message}: etl ${name} does not take it (${elsewhere.slice(0, 3).join(', ')} ${elsewhere.length > 1 ? 'do' : 'does'})`, { cause: err })
  }
  return err
}

/** Runs the command line; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  let ctx: CommandContext = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  }
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    ctx.stdout.write(usage() + '\n')
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v' || name === '-V' || name === 'version') {
    ctx.stdout.write(`prostate-etl ${version()}\n`)
    return 0
  }
  const helpFor = name === 'help' ? rest[0]! : undefined
  const command = commands[helpFor ?? name]
  let json = false
  try {
    if (!command) {
      const word = helpFor ?? name
      const near = closest(word, Object.keys(commands))
      throw new EtlError('ETL_USAGE', `unknown command: ${word}. ${near ? `Did you mean \`etl ${near}\`? ` : ''}Run \`etl --help\` for the list.`)
    }
    if (helpFor !== undefined) {
      ctx.stdout.write(commandHelp(helpFor, command) + '\n')
      return 0
    }
    let parsed
    try {
      parsed = parseFlags(rest, command.flags)
    } catch (err) {
      throw err instanceof EtlError ? flagSuggestion(err, name, command) : err
    }
    const { values, positionals } = parsed
    json = values.log === 'json'
    if (values.help) {
      ctx.stdout.write(commandHelp(name, command) + '\n')
      return 0
    }
    const env = withDotEnv(ctx.cwd, ctx.env)
    const levelText = values['log-level'] ?? (env['LOG_LEVEL'] || undefined)
    ctx = { ...ctx, env, ...(levelText ? { logLevel: parseLogLevel(levelText, values['log-level'] ? '--log-level' : 'LOG_LEVEL') } : {}) }
    const heartbeat = name === 'health' ? undefined : startHeartbeat(ctx.env, name)
    const untrace = ctx.logLevel === 'debug' ? traceCalls(makeLogger(ctx, { log: json ? 'json' : 'text' }).debug) : undefined
    try {
      return await command.run(ctx, values, positionals)
    } finally {
      untrace?.()
      await heartbeat?.stop()
    }
  } catch (err) {
    const e = ctx.signal.aborted && !(err instanceof EtlError) ? new EtlError('ETL_CANCELLED', 'stopped by a signal', { cause: err }) : asEtlError(err)
    const log = makeLogger(ctx, { log: json ? 'json' : 'text' })
    log.done()
    log.error(`${e.code}: ${e.message}`, { code: e.code })
    if (e.code === 'ETL_USAGE' && command) log.error(`Run \`etl ${name} --help\` for its flags.`)
    return (e.code === 'ETL_CANCELLED' && signalExitCode(ctx.signal)) || e.exitCode
  }
}

/**
 * The process around main(), for bin/etl.js: SIGINT/SIGTERM abort the command
 * (nothing is committed). A command stopped that way exits 128 + the signal's
 * number (130, 143), as a shell reports a command stopped by a signal, unless
 * it has a failure of its own to report (`etl schedule`'s last failed run); a
 * second signal exits at once with that code.
 */
export async function runCommandLine(argv: readonly string[]): Promise<void> {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const codeOf = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : 143)
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (received) process.exit(codeOf(received))
      received = sig
      controller.abort(Object.assign(new Error(`received ${sig}`), { signal: sig }))
    })
  }
  const code = await main(argv, { signal: controller.signal })
  process.exitCode = received && code === 0 ? codeOf(received) : code
}
