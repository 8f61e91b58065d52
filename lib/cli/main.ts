/**
 * `etl`: the commands. bin/etl.js only calls main() and sets the exit code.
 * Exit codes: 0 ok, 1 the run failed, 2 bad usage or configuration, 3 the data
 * failed its quality gate.
 */
import { loadDotEnv } from '../config/config.ts'
import { asEtlError, EtlError } from '../errors.ts'
import { flagHelp, parseFlags } from './args.ts'
import { commands, type Command } from './commands.ts'
import { makeLogger, signalExitCode, type CommandContext, type Io } from './context.ts'

export interface MainOptions extends Partial<Io> {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly signal?: AbortSignal
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
    'Run `etl <command> --help` for its flags.',
    'Exit codes: 0 success, 1 the run failed, 2 bad usage or configuration, 3 the data failed its quality gate.',
  ].join('\n')
}

export function commandHelp(name: string, c: Command): string {
  return [`Usage: etl ${name}${c.usage ? ` ${c.usage}` : ''} [flags]`, '', c.summary, ...(c.description ? ['', c.description] : []), '', 'Flags:', flagHelp(c.flags)].join('\n')
}

/** Runs the command line; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const ctx: CommandContext = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  }
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(usage() + '\n')
    return name ? 0 : 2
  }
  if (name === '--version') {
    ctx.stdout.write('prostate-etl 0.1.0\n')
    return 0
  }
  const command = commands[name]
  let json = false
  try {
    if (!command) throw new EtlError('ETL_USAGE', `unknown command: ${name}. Run \`etl --help\` for the list.`)
    const { values, positionals } = parseFlags(rest, command.flags)
    json = values.log === 'json'
    if (values.help) {
      ctx.stdout.write(commandHelp(name, command) + '\n')
      return 0
    }
    loadDotEnv(ctx.cwd, ctx.env)
    return await command.run(ctx, values, positionals)
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
