/**
 * Distributed schedules from the command line: `etl schedule --distributed`
 * registers one (registerDistributed), `etl schedules` lists them with their
 * last run and next tick, `etl schedules --remove NAME` removes one. The
 * schedule's `etl run` flags are stored with paths made absolute, and never a
 * secret: workers take credentials from their own environment.
 */
import { resolve } from 'node:path'
import type { EtlConfig } from '../../config/config.ts'
import { EtlError, invalidOption } from '../../errors.ts'
import { databaseFromEnv } from '../../extract/connect.ts'
import type { Cron } from '../../flow/cron.ts'
import type { FlagValues } from '../args.ts'
import type { Command } from '../commands.ts'
import { makeLogger, type CommandContext } from '../context.ts'
import { loadScale } from '../optional.ts'
import { noPositionals } from './pipelines.ts'

async function open(ctx: CommandContext) {
  const db = databaseFromEnv(ctx.env)
  const { openQueue, queueSettings, ensureScheduleTable } = await loadScale('distributed schedules')
  const queue = await openQueue(queueSettings(ctx.env, db))
  try {
    await ensureScheduleTable(queue)
  } catch (err) {
    await queue.stop()
    throw err
  }
  return queue
}

const pathFlags = ['data-dir', 'suite', 'meta-suite', 'config', 'input'] as const

/** `etl schedule --distributed`: stores the schedule; resolves 0. */
export async function registerDistributed(ctx: CommandContext, values: FlagValues, config: Readonly<EtlConfig>, cron: Cron): Promise<number> {
  if (values['max-failures'] !== undefined) throw new EtlError('ETL_USAGE', '--max-failures is for the foreground schedule: a distributed one keeps running; watch its failures with `etl schedules` and the webhooks')
  const missed = values.missed ?? 'skip'
  if (missed !== 'skip' && missed !== 'once') throw invalidOption('--missed', 'skip or once', missed)
  if (cron.timezone === 'local') throw invalidOption('--tz', 'UTC or an IANA time zone (workers may run in other zones than local)', 'local')
  const name = values.name ?? 'etl-run'
  const { checkScheduleName, registerSchedule } = await loadScale('distributed schedules')
  checkScheduleName(name)
  const args: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(values)) {
    if (['cron', 'tz', 'distributed', 'name', 'missed', 'max-failures'].includes(k) || v === undefined) continue
    args[k] = (pathFlags as readonly string[]).includes(k) ? resolve(ctx.cwd, String(v)) : v
  }
  if (args['data-dir'] === undefined) args['data-dir'] = resolve(ctx.cwd, config.dataDir ?? 'data')
  const tz = cron.timezone === 'utc' ? 'UTC' : cron.timezone
  const log = makeLogger(ctx, config)
  const queue = await open(ctx)
  try {
    await registerSchedule(queue, { name, cron: cron.source, tz, missed, args })
  } finally {
    await queue.stop()
  }
  log.info(`schedule ${name} registered in ${queue.settings.schema}: ${cron.source} (${tz}), missed ticks: ${missed}; next tick ${cron.next(new Date()).toISOString()}. Run \`etl worker\` (any number of them) to run it.`)
  return 0
}

export const schedulesCommand: Command = {
  summary: 'list the distributed schedules (last run, next tick), or --remove NAME',
  description: 'The schedules registered with `etl schedule --distributed` in the queue database (ETL_QUEUE_URL, else the source database).',
  flags: ['remove', 'json', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const log = makeLogger(ctx, { log: values.log === 'json' ? 'json' : 'text', quiet: values.quiet })
    const queue = await open(ctx)
    const { listSchedules, removeSchedule, scheduleCron } = await loadScale('distributed schedules')
    try {
      if (values.remove !== undefined) {
        if (!(await removeSchedule(queue, values.remove))) throw new EtlError('ETL_USAGE', `no distributed schedule ${JSON.stringify(values.remove)} in ${queue.settings.schema}`)
        log.info(`schedule ${values.remove} removed`)
        return 0
      }
      const now = new Date()
      const rows = (await listSchedules(queue)).map((s) => {
        let next: string | null = null
        try {
          next = scheduleCron(s).next(now).toISOString()
        } catch {
          // shown without a next tick
        }
        return { ...s, next }
      })
      if (values.json) {
        ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n')
        return 0
      }
      if (!rows.length) ctx.stdout.write('no distributed schedule (register one with `etl schedule --cron EXPR --distributed`)\n')
      for (const s of rows) {
        const last = s.lastRun
        const lastText = last ? `last run ${last.runId ?? '-'} ${last.state ?? ''} exit ${last.exitCode ?? '-'}${last.code ? ` ${last.code}` : ''} at ${last.end?.toISOString() ?? '-'} (tick ${last.tick?.toISOString() ?? '-'})` : 'no run yet'
        ctx.stdout.write(`${s.name}  ${s.cron} (${s.tz}, missed: ${s.missed})  next ${s.next ?? '-'}  ${lastText}\n`)
      }
      return 0
    } finally {
      await queue.stop()
    }
  },
}
