#!/usr/bin/env node
// The `etl` command: parses nothing itself, runs lib's main() and sets the exit code.
// SIGINT/SIGTERM abort the run (nothing is committed); a second signal exits at once.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
const { main } = await import(existsSync(compiled) ? compiled.href : new URL('../lib/cli/main.ts', import.meta.url).href)

const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort(new Error(`received ${sig}`))
  })
}
process.exitCode = await main(process.argv.slice(2), { signal: controller.signal })
