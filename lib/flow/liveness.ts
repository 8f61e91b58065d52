/**
 * Whether the process that wrote a file (or started a run) may still be
 * alive, knowing only its pid and when it wrote: a process that started
 * after that moment is not the writer, its pid was reused (PID 1 in every
 * container). For holders that recorded their start time, lib/load/lock.ts's
 * liveness() is exact; this is for what only has a pid and a time.
 */
import { readFileSync } from 'node:fs'

/** Linux clock ticks per second (USER_HZ): 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100

function bootTimeMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('btime '))
    return line ? Number(line.slice(6)) * 1000 : undefined
  } catch {
    return undefined
  }
}

/** When process `pid` started (ms since the epoch), from /proc; undefined when there is no such process or no /proc. */
export function processStartMs(pid: number): number | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const ticks = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19])
  const boot = bootTimeMs()
  return boot === undefined || !Number.isFinite(ticks) ? undefined : boot + (ticks * 1000) / TICKS_PER_SECOND
}

/** Whether the process `pid` that wrote a file last modified at `mtimeMs` may still be writing it. */
export function writerAlive(pid: number, mtimeMs: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const started = processStartMs(pid)
  // A process that started after the file's last write is not its writer (1 s for the clocks' granularity).
  return started === undefined || started <= mtimeMs + 1000
}
