#!/usr/bin/env node
// The `etl` command: parses nothing itself, runs lib's main() and sets the exit code.
// SIGINT/SIGTERM abort the run (nothing is committed) and the command then exits 130 / 143 (128 + the signal's
// number, as shells report a command stopped by a signal); a second signal exits at once with the same code.
import { existsSync, readdirSync, statSync } from 'node:fs'

// V8 grows its young generation to 2 x 64 MB when a process allocates as fast as a run does; 8 MB semi-spaces cost
// no measurable speed here and keep a 1M-row run near 170 MB instead of 300. What outlives two young collections
// (batches in flight, written text) piles up in the old generation, which V8 let grow to ~4x the live heap (~12 MB)
// before a full collection; --heap-growing-percent=150 (2.5x) keeps the peak near 130 MB at 1M and 5M rows for ~5% of
// speed (measured with npm run bench; 50 gave 125 MB for 12%). The flags only work at start-up,
// so the command restarts itself with them (process.execve: same pid, no second process; Node >= 22.15). Skipped
// when the semi-space flag is already given (NODE_OPTIONS or node's own flags) or ETL_NO_REEXEC is set.
const SEMI = '--max-semi-space-size'
if (typeof process.execve === 'function' && !process.env.ETL_NO_REEXEC && !process.execArgv.some((a) => a.startsWith(SEMI)) && !(process.env.NODE_OPTIONS ?? '').includes(SEMI)) {
  try {
    process.execve(process.execPath, [process.execPath, `${SEMI}=8`, '--heap-growing-percent=150', ...process.execArgv, ...process.argv.slice(1)], process.env)
  } catch {
    // not allowed here (e.g. a worker thread): run as we are
  }
}

// The installed package has only dist/ (compiled). A checkout has lib/ and maybe a dist/ built at `npm ci`: run
// whichever is newer, so an edit to lib/ is never silently ignored until a rebuild.
const compiled = new URL('../dist/cli/main.js', import.meta.url)
const sources = new URL('../lib/', import.meta.url)
function newest(dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) t = Math.max(t, statSync(`${e.parentPath}/${e.name}`).mtimeMs)
  }
  return t
}
const useDist = existsSync(compiled) && (!existsSync(sources) || statSync(compiled).mtimeMs >= newest(sources))
const { runCommandLine } = await import(useDist ? compiled.href : new URL('cli/main.ts', sources).href)
await runCommandLine(process.argv.slice(2))
