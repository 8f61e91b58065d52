import { EtlError } from '../../errors.ts'
import { parseCron, schedule } from '../../flow/index.ts'
import type { Command } from '../commands.ts'
import { commandConfig, makeLogger } from '../context.ts'
import { runCommand } from './run.ts'

export const scheduleCommand: Command = {
  summary: 'run `etl run` on a cron schedule, in the foreground (never overlapping; SIGTERM/SIGINT stop it cleanly)',
  description: 'A tick that comes while a run is still going is skipped and logged. On SIGTERM the run in progress is\ncancelled (nothing committed, recorded as Cancelled) and the schedule ends with exit code 0.',
  flags: ['cron', ...runCommand.flags],
  async run(ctx, values, positionals) {
    if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
    const config = commandConfig(ctx, values)
    if (!config.cron) throw new EtlError('ETL_USAGE', 'etl schedule needs --cron "<expr>" (5 fields, or 6 with seconds), or "cron" in etl.config.json')
    let cron
    try {
      cron = parseCron(config.cron, { timezone: 'utc' })
    } catch (err) {
      throw new EtlError('ETL_USAGE', `invalid --cron ${JSON.stringify(config.cron)}: ${(err as Error).message}`, { cause: err })
    }
    const log = makeLogger(ctx, config)
    log.info(`schedule: ${config.cron} (UTC); next run at ${cron.next(new Date())?.toISOString() ?? 'never'}`)
    const rest = Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'cron'))
    const summary = await schedule(cron, async (tick) => {
      log.info(`schedule: run #${tick.index} for ${tick.scheduledAt.toISOString()}`)
      await runCommand.run({ ...ctx, signal: tick.signal }, rest, [])
    }, { signal: ctx.signal, log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) } })
    log.info(`schedule stopped: ${summary.started} runs started, ${summary.skipped} ticks skipped, ${summary.failed} failed`)
    return 0
  },
}
