// `etl` from the TypeScript sources (bin/etl.js runs the compiled dist/). Used by tests that spawn the command.
import { main } from '../../lib/cli/main.ts'

const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort(new Error(`received ${sig}`)))
process.exitCode = await main(process.argv.slice(2), { signal: controller.signal })
