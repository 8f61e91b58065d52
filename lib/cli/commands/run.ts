import { EtlError, invalidOption } from '../../errors.ts'
import { databaseFromEnv } from '../../extract/connect.ts'
import { etlRunFlow } from '../../pipelines/run-flow.ts'
import type { RunSummary } from '../../pipelines/summary.ts'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'
import { runFlowResult, type CommandRunResult } from '../run-flow.ts'
import type { CommandContext } from '../context.ts'
import type { FlagValues } from '../args.ts'
import { loadScale } from '../optional.ts'
import { incremental, load, noPositionals, output, reportLoad, source, transform } from './pipelines.ts'

export const runCommand: Command = {
  summary: 'the whole ETL in one pass: extract, validate, meta-validate, transform, load (the main job)',
  description: 'With no database configured, starts an embedded PostgreSQL seeded with the prostate data.\nWith no Hopsworks configured, loads into the local feature store under the data folder.',
  flags: [...source, ...incremental, 'suite', 'meta-suite', 'invalid-rows', ...transform, ...load, ...output, 'partitions', 'partition-key'],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    return (await runOnce(ctx, values)).exitCode
  },
}

/** One `etl run` with these flags: the exit code and the run's outcome (what `etl schedule` runs at each tick). */
export async function runOnce(ctx: CommandContext, values: FlagValues): Promise<CommandRunResult> {
    const config = commandConfig(ctx, values)
    return runFlowResult(ctx, config, await runFlow(ctx.env, values.partitions, values['partition-key']), {
      needsDatabase: true,
      report(summary: RunSummary, log) {
        const c = summary.counts
        if (c) log.info(`rows: extracted ${c.extracted}, validated ${c.validated}, quarantined ${c.quarantined ?? 0}, transformed ${c.transformed}, dropped ${c.dropped ?? 0}, loaded ${c.loaded}`, { counts: c })
        if (summary.validation) log.info(`validation: ${summary.validation.statistics.successful_expectations}/${summary.validation.statistics.evaluated_expectations} expectations passed; meta-validation: ${summary.meta?.success ? 'passed' : 'FAILED'}`)
        if (summary.load) reportLoad(summary.load, log, summary)
      },
    })
}


/** The one-pass flow, or with --partitions the coordinator's (lib/scale, loaded only then: pg-boss is not needed otherwise). */
async function runFlow(env: NodeJS.ProcessEnv, partitions: string | undefined, partitionKey: string | undefined) {
  if (partitions === undefined) {
    if (partitionKey !== undefined) throw new EtlError('ETL_USAGE', '--partition-key needs --partitions N')
    return etlRunFlow
  }
  const n = Number(partitions)
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw invalidOption('--partitions', 'an integer from 1 to 1000', partitions)
  const source = databaseFromEnv(env)
  if (!source) throw new EtlError('ETL_CONFIG', '--partitions needs a database that workers can reach: set DATABASE_URL or the PG* variables (the embedded PostgreSQL is private to one process)')
  const { partitionedRunFlow, queueSettings } = await loadScale('etl run --partitions')
  return partitionedRunFlow({ partitions: n, partitionKey, queue: queueSettings(env, source) })
}
