/**
 * A liveness signal for containers: with ETL_HEARTBEAT_FILE set, a running
 * command rewrites that file every few seconds (from a timer, so a stuck
 * event loop stops it), and `etl health` (the image's HEALTHCHECK) says
 * whether the file is fresh and its process alive.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { EtlError } from '../errors.ts'
import type { Command } from './commands.ts'

const EVERY_MS = 5_000

/** The last run of a long-lived command (`etl schedule` sets it): `etl health` is unhealthy while it is a failure. */
export interface LastRun {
  readonly runId?: string
  readonly state?: string
  readonly exitCode: number
  readonly code?: string
  readonly end: string
  readonly failuresInARow: number
}

interface Beat {
  readonly pid: number
  readonly command: string
  readonly startedAt: string
  readonly beatAt: string
  readonly lastRun?: LastRun
}

let lastRun: LastRun | undefined
let beatNow: (() => void) | undefined

/** Records the last run in the heartbeat (written at once). */
export function reportLastRun(run: LastRun): void {
  lastRun = run
  beatNow?.()
}

/** Starts the heartbeat of `command` when ETL_HEARTBEAT_FILE is set; stop() removes the file. */
export function startHeartbeat(env: NodeJS.ProcessEnv, command: string): { stop(): Promise<void> } | undefined {
  const file = env['ETL_HEARTBEAT_FILE']
  if (!file) return undefined
  const startedAt = new Date().toISOString()
  let writing: Promise<void> = Promise.resolve()
  const beat = () => {
    const body: Beat = { pid: process.pid, command, startedAt, beatAt: new Date().toISOString(), ...(lastRun ? { lastRun } : {}) }
    const tmp = `${file}.${process.pid}.tmp`
    writing = writing.then(() => writeFile(tmp, JSON.stringify(body) + '\n')).then(() => rename(tmp, file)).catch(() => {}) // a heartbeat that cannot be written shows as unhealthy
  }
  beat()
  beatNow = beat
  const timer = setInterval(beat, EVERY_MS)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await writing
      await rm(file, { force: true })
    },
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export const healthCommand: Command = {
  summary: 'exit 0 when the etl command of this container is alive (reads ETL_HEARTBEAT_FILE; the image\'s HEALTHCHECK)',
  description: [
    'A command run with ETL_HEARTBEAT_FILE set rewrites that file every 5 s. `etl health` fails (exit 1) when the file',
    'is missing, older than --max-age seconds (default 30: the event loop is stuck), or its process is gone.',
  ].join('\n'),
  flags: ['max-age'],
  async run(ctx, values, positionals) {
    if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
    const file = ctx.env['ETL_HEARTBEAT_FILE']
    if (!file) throw new EtlError('ETL_CONFIG', 'etl health reads the heartbeat file named by ETL_HEARTBEAT_FILE, which is not set')
    const maxAge = values['max-age'] === undefined ? 30 : Number(values['max-age'])
    if (!Number.isFinite(maxAge) || maxAge <= 0) throw new EtlError('ETL_INVALID_OPTION', `Invalid option --max-age: expected a number of seconds > 0, got ${JSON.stringify(values['max-age'])}`)
    let beat: Beat
    try {
      beat = JSON.parse(await readFile(file, 'utf8')) as Beat
    } catch {
      ctx.stderr.write(`unhealthy: no heartbeat in ${file} (no etl command running, or it has not started yet)\n`)
      return 1
    }
    const age = (Date.now() - Date.parse(beat.beatAt)) / 1000
    if (!alive(beat.pid)) {
      ctx.stderr.write(`unhealthy: etl ${beat.command} (pid ${beat.pid}) is gone\n`)
      return 1
    }
    if (!(age <= maxAge)) {
      ctx.stderr.write(`unhealthy: etl ${beat.command} (pid ${beat.pid}) last beat ${age.toFixed(0)} s ago (more than --max-age ${maxAge}): stuck\n`)
      return 1
    }
    const last = beat.lastRun
    if (last && last.exitCode !== 0) {
      ctx.stderr.write(`unhealthy: etl ${beat.command} (pid ${beat.pid}): its last run ${last.runId ?? ''} ended ${last.state ?? 'Failed'} at ${last.end}, exit ${last.exitCode}${last.code ? `, ${last.code}` : ''} (${last.failuresInARow} failure(s) in a row)\n`)
      return 1
    }
    ctx.stdout.write(`healthy: etl ${beat.command} (pid ${beat.pid}, since ${beat.startedAt}), last beat ${age.toFixed(1)} s ago${last ? `; last run ${last.runId ?? ''} ${last.state ?? ''} at ${last.end}` : ''}\n`)
    return 0
  },
}
