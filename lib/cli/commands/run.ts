import { etlRunFlow } from '../../pipelines/run-flow.ts'
import type { RunSummary } from '../../pipelines/summary.ts'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'
import { runFlowCommand } from '../run-flow.ts'
import { load, noPositionals, output, reportLoad, source, transform } from './pipelines.ts'

export const runCommand: Command = {
  summary: 'the whole ETL in one pass: extract, validate, meta-validate, transform, load (the main job)',
  description: 'With no database configured, starts an embedded PostgreSQL seeded with the prostate data.\nWith no Hopsworks configured, loads into the local feature store under the data folder.',
  flags: [...source, 'suite', 'meta-suite', 'invalid-rows', ...transform, ...load, ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const config = commandConfig(ctx, values)
    return runFlowCommand(ctx, config, etlRunFlow, {
      needsDatabase: true,
      report(summary: RunSummary, log) {
        const c = summary.counts
        if (c) log.info(`rows: extracted ${c.extracted}, validated ${c.validated}, quarantined ${c.quarantined ?? 0}, transformed ${c.transformed}, dropped ${c.dropped ?? 0}, loaded ${c.loaded}`)
        if (summary.validation) log.info(`validation: ${summary.validation.statistics.successful_expectations}/${summary.validation.statistics.evaluated_expectations} expectations passed; meta-validation: ${summary.meta?.success ? 'passed' : 'FAILED'}`)
        if (summary.load) reportLoad(summary.load, log)
      },
    })
  },
}

