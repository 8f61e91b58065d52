/**
 * Distributed schedules: `etl schedule --distributed` registers a schedule in
 * the queue database; every `etl worker` then both makes its ticks and runs
 * them, and each tick runs once across the cluster.
 *
 *     <schema>.etl_schedule row (name, cron, tz, missed, the run's flags, last_tick)
 *        every worker, every 250 ms: next ticks after last_tick -> compare-and-set last_tick (one worker wins a tick)
 *          -> the winner sends one job to queue etl-schedule-<name> (policy stately: one running, one waiting;
 *             a tick sent while one already waits is dropped, logged and sent as schedule.skipped)
 *        any worker: takes the job -> `etl run` with the schedule's flags, in-process -> records the outcome on the row
 *
 * The job carries a heartbeat: a worker that dies stops beating, pg-boss's
 * supervisor fails the attempt after `heartbeatSeconds` and another worker runs
 * the tick again (a run commits all or nothing, so the half-done one is simply
 * redone). A worker stopped by SIGTERM gives its job back the same way, at once.
 *
 * Why not pg-boss's own cron (schedule()/the timekeeper): it files one job per
 * 60-second slot, so a seconds field cannot fire more often than once a
 * minute, and its occurrences come up to `cronMonitorIntervalSeconds` late. The
 * compare-and-set on last_tick gives the same once-per-tick guarantee at any
 * resolution our cron parser has (seconds, IANA zones).
 *
 * Missed ticks (no worker up at the time): a tick more than GRACE_MS late is
 * missed. `missed: 'skip'` runs none of them (the next on-time tick runs);
 * `missed: 'once'` runs one job for the latest of them, however many there were.
 * A worker crashing after it won a tick and before the job was sent loses that
 * tick (a window of one statement).
 */
import { createHash } from 'node:crypto'
import { EtlError } from '../errors.ts'
import { parseCron, type Cron } from '../flow/cron.ts'
import type { Queue } from './queue.ts'

export type MissedPolicy = 'skip' | 'once'

/** How late a tick may be taken up and still count as on time. */
export const GRACE_MS = 5000

export interface ScheduleSpec {
  /** Letters, digits, `-` and `_`, up to 40 (it names the queue). */
  readonly name: string
  readonly cron: string
  /** `UTC` (default), `local` is refused (workers may sit in other zones), or an IANA zone. */
  readonly tz: string
  readonly missed: MissedPolicy
  /** The `etl run` flags of each run (paths absolute; no secret: workers take credentials from their environment). */
  readonly args: Readonly<Record<string, unknown>>
}

export interface ScheduleRow extends ScheduleSpec {
  readonly createdOn: Date
  readonly updatedOn: Date
  readonly lastTick: Date | null
  readonly lastRun: { readonly runId: string | null; readonly state: string | null; readonly exitCode: number | null; readonly code: string | null; readonly end: Date | null; readonly tick: Date | null } | null
}

/** What a scheduled job carries. */
export interface ScheduledJob {
  readonly schedule: string
  /** The tick, ISO 8601. */
  readonly tick: string
  readonly args: Readonly<Record<string, unknown>>
  /** Set when the tick was missed and sent by `missed: 'once'`. */
  readonly missed?: number
}

export const scheduleQueue = (name: string): string => `etl-schedule-${name}`

const namePattern = /^[A-Za-z0-9_-]{1,40}$/

export function checkScheduleName(name: string): void {
  if (!namePattern.test(name)) throw new EtlError('ETL_INVALID_OPTION', `Invalid option --name: expected letters, digits, - and _ (up to 40), got ${JSON.stringify(name)}`)
}

/** The schedule's cron in its zone. Throws ETL_INVALID_OPTION. */
export function scheduleCron(spec: Pick<ScheduleSpec, 'cron' | 'tz'>): Cron {
  return parseCron(spec.cron, { timezone: spec.tz === 'UTC' ? 'utc' : spec.tz })
}

const table = (q: Queue) => `${q.settings.schema}.etl_schedule`

async function sql<T = Record<string, unknown>>(q: Queue, text: string, values: unknown[] = []): Promise<T[]> {
  try {
    return (await q.boss.getDb().executeSql(text, values)).rows as T[]
  } catch (err) {
    throw new EtlError('ETL_QUEUE', `the schedule table ${table(q)}: ${(err as Error).message}`, { cause: err })
  }
}

/** Creates the schedule table next to pg-boss's own (idempotent). */
export async function ensureScheduleTable(q: Queue): Promise<void> {
  await sql(q, `CREATE TABLE IF NOT EXISTS ${table(q)} (
    name text PRIMARY KEY, cron text NOT NULL, tz text NOT NULL, missed text NOT NULL, args jsonb NOT NULL,
    created_on timestamptz NOT NULL DEFAULT now(), updated_on timestamptz NOT NULL DEFAULT now(), last_tick timestamptz,
    last_run_id text, last_state text, last_exit integer, last_code text, last_end timestamptz, last_run_tick timestamptz)`)
}

const made = new WeakMap<Queue, Set<string>>()

async function ensureRunQueue(q: Queue, name: string): Promise<void> {
  const known = made.get(q) ?? new Set<string>()
  made.set(q, known)
  if (known.has(name)) return
  known.add(name)
  await q.boss.createQueue(scheduleQueue(name), { policy: 'stately', heartbeatSeconds: q.settings.heartbeatSeconds, retryLimit: 3, retryDelay: 0 })
}

/**
 * Registers (or replaces) a schedule. Its ticks start after now: a new or
 * changed schedule does not catch up on the past. Throws ETL_INVALID_OPTION
 * (name, cron, zone), ETL_QUEUE.
 */
export async function registerSchedule(q: Queue, spec: ScheduleSpec): Promise<void> {
  checkScheduleName(spec.name)
  scheduleCron(spec)
  await ensureScheduleTable(q)
  await ensureRunQueue(q, spec.name)
  await sql(q, `INSERT INTO ${table(q)} (name, cron, tz, missed, args, last_tick) VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', now()))
    ON CONFLICT (name) DO UPDATE SET cron = EXCLUDED.cron, tz = EXCLUDED.tz, missed = EXCLUDED.missed, args = EXCLUDED.args,
      updated_on = now(), last_tick = CASE WHEN ${table(q)}.cron = EXCLUDED.cron AND ${table(q)}.tz = EXCLUDED.tz THEN ${table(q)}.last_tick ELSE date_trunc('milliseconds', now()) END`,
  [spec.name, spec.cron, spec.tz, spec.missed, JSON.stringify(spec.args)])
}

/** Removes a schedule; resolves false when there was none. Jobs already sent still run. */
export async function removeSchedule(q: Queue, name: string): Promise<boolean> {
  await ensureScheduleTable(q)
  return (await sql(q, `DELETE FROM ${table(q)} WHERE name = $1 RETURNING name`, [name])).length > 0
}

interface RawRow {
  name: string; cron: string; tz: string; missed: MissedPolicy; args: Record<string, unknown>; created_on: Date; updated_on: Date; last_tick: Date | null
  last_run_id: string | null; last_state: string | null; last_exit: number | null; last_code: string | null; last_end: Date | null; last_run_tick: Date | null
}

/** Every registered schedule, by name. */
export async function listSchedules(q: Queue): Promise<ScheduleRow[]> {
  await ensureScheduleTable(q)
  const rows = await sql<RawRow>(q, `SELECT * FROM ${table(q)} ORDER BY name`)
  return rows.map((r) => ({
    name: r.name, cron: r.cron, tz: r.tz, missed: r.missed, args: r.args, createdOn: r.created_on, updatedOn: r.updated_on, lastTick: r.last_tick,
    lastRun: r.last_end || r.last_state ? { runId: r.last_run_id, state: r.last_state, exitCode: r.last_exit, code: r.last_code, end: r.last_end, tick: r.last_run_tick } : null,
  }))
}

/** Records a run's outcome on its schedule's row (the latest tick's wins). */
export async function recordScheduledRun(q: Queue, name: string, tick: Date, run: { runId?: string; state?: string; exitCode: number; code?: string }): Promise<void> {
  await sql(q, `UPDATE ${table(q)} SET last_run_id = $2, last_state = $3, last_exit = $4, last_code = $5, last_end = now(), last_run_tick = $6
    WHERE name = $1 AND (last_run_tick IS NULL OR last_run_tick <= $6)`, [name, run.runId ?? null, run.state ?? null, run.exitCode, run.code ?? null, tick])
}

/** What one pass decided for a schedule. */
export interface TickDecision {
  /** The newest tick at or before now, which last_tick moves to. */
  readonly upTo: Date
  /** The tick to run, if any. */
  readonly run?: Date
  /** Ticks passed over (late, or older than the one run). */
  readonly missed: number
}

/** The ticks of `cron` after `last` up to `now`, and which one is owed under `missed`. Pure. */
export function decideTicks(cron: Cron, last: Date, now: Date, missed: MissedPolicy): TickDecision | undefined {
  let latest = cron.next(last)
  if (latest.getTime() > now.getTime()) return undefined
  let count = 1
  for (;;) {
    const n = cron.next(latest)
    if (n.getTime() > now.getTime()) break
    latest = n
    if (++count > 1_000_000) break // a seconds cron over 11 days down: the rest are missed alike
  }
  const late = now.getTime() - latest.getTime() > GRACE_MS
  if (!late) return { upTo: latest, run: latest, missed: count - 1 }
  return missed === 'once' ? { upTo: latest, run: latest, missed: count - 1 } : { upTo: latest, missed: count }
}

/** A job id of the tick (a UUID from its schedule and time): the same tick sent twice is one job. */
export function tickJobId(name: string, tick: Date): string {
  const h = createHash('sha256').update(`${name}\n${tick.toISOString()}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export type TickEvent =
  | { readonly type: 'sent'; readonly schedule: string; readonly tick: Date; readonly missed: number }
  | { readonly type: 'skipped'; readonly schedule: string; readonly cron: string; readonly tick: Date; readonly reason: string; readonly args: Readonly<Record<string, unknown>> }
  | { readonly type: 'missed'; readonly schedule: string; readonly upTo: Date; readonly missed: number }

/**
 * One pass over every schedule: claims the ticks due (compare-and-set on
 * last_tick, so one worker of the cluster wins each) and sends their jobs.
 * Resolves with what it did.
 */
export async function tickPass(q: Queue, now = new Date()): Promise<TickEvent[]> {
  const events: TickEvent[] = []
  for (const s of await listSchedules(q)) {
    let cron: Cron
    try {
      cron = scheduleCron(s)
    } catch {
      continue // registered by a newer version, or edited by hand: not ours to run
    }
    const last = s.lastTick ?? s.createdOn
    const d = decideTicks(cron, last, now, s.missed)
    if (!d) continue
    const won = await sql(q, `UPDATE ${table(q)} SET last_tick = $2 WHERE name = $1 AND last_tick IS NOT DISTINCT FROM $3 RETURNING name`, [s.name, d.upTo, s.lastTick])
    if (!won.length) continue // another worker took these ticks
    if (!d.run) {
      events.push({ type: 'missed', schedule: s.name, upTo: d.upTo, missed: d.missed })
      continue
    }
    const job: ScheduledJob = { schedule: s.name, tick: d.run.toISOString(), args: s.args, ...(d.missed ? { missed: d.missed } : {}) }
    await ensureRunQueue(q, s.name)
    const id = await q.boss.send(scheduleQueue(s.name), job as unknown as object, {
      id: tickJobId(s.name, d.run), retryLimit: 3, retryDelay: 0, heartbeatSeconds: q.settings.heartbeatSeconds, expireInSeconds: 24 * 3600,
    })
    if (id) events.push({ type: 'sent', schedule: s.name, tick: d.run, missed: d.missed })
    else events.push({ type: 'skipped', schedule: s.name, cron: s.cron, tick: d.run, reason: 'a run is going and another waits', args: s.args })
  }
  return events
}
