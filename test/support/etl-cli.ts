// `etl` from the TypeScript sources, as bin/etl.js runs it (signals, exit codes). Used by tests that spawn the command.
import { runCommandLine } from '../../lib/cli/main.ts'

await runCommandLine(process.argv.slice(2))
