/**
 * The command table. Each command lists its flags (anything else is a usage
 * error) and runs against a CommandContext; it resolves with the exit code.
 */
import type { FlagName, FlagValues } from './args.ts'
import type { CommandContext } from './context.ts'
import { extractCommand, loadCommand, metaValidateCommand, transformCommand, validateCommand } from './commands/pipelines.ts'
import { runCommand } from './commands/run.ts'
import { docsCommand } from './commands/docs.ts'
import { runsCommand } from './commands/runs.ts'
import { scheduleCommand } from './commands/schedule.ts'
import { storeCommand } from './commands/store.ts'
import { workerCommand } from './commands/worker.ts'
import { notifyCommand } from './commands/notify.ts'
import { healthCommand } from './health.ts'
import { schedulesCommand } from './commands/schedules.ts'
import { profileCommand, suiteCommand } from './commands/profile.ts'
import { hopsworksCommand } from './commands/hopsworks.ts'

export interface Command {
  readonly summary: string
  readonly usage?: string
  readonly description?: string
  readonly flags: readonly FlagName[]
  run(ctx: CommandContext, values: FlagValues, positionals: readonly string[]): Promise<number>
}

export const commands: Readonly<Record<string, Command>> = {
  run: runCommand,
  extract: extractCommand,
  validate: validateCommand,
  'meta-validate': metaValidateCommand,
  transform: transformCommand,
  load: loadCommand,
  schedule: scheduleCommand,
  schedules: schedulesCommand,
  runs: runsCommand,
  store: storeCommand,
  docs: docsCommand,
  worker: workerCommand,
  notify: notifyCommand,
  profile: profileCommand,
  suite: suiteCommand,
  health: healthCommand,
  hopsworks: hopsworksCommand,
}
