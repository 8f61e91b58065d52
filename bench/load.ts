/**
 * Rows per second through the load sinks, with prostate-shaped rows
 * (11 columns: the nine prostate columns, user_id, datetime):
 *
 *   - the Hopsworks sink into the emulator (test/support/hopsworks-emulator.ts),
 *     run in a child process so that it does not share this process's CPU:
 *     staging (CSV parts, flow.js chunks over HTTP) and commit (start + poll
 *     the job; the emulator "ingests" the CSV) timed apart;
 *   - the local sink: a first load, then a second load of the same rows (upsert).
 *
 *     node bench/load.ts [rows=200000] [--hopsworks] [--stage-only] [--latency MS]
 *
 * --hopsworks: the Hopsworks sink only; --stage-only: its staging only (then abort);
 * --latency MS: the emulator answers every upload call MS later (a network's round trip).
 *
 * The client's CPU seconds (this process) are printed per million rows, so that
 * figures taken on a busy machine can still be compared.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { hopsworksConfigFromEnv, hopsworksSink } from '../lib/load/hopsworks/index.ts'
import { localSink } from '../lib/load/local-sink.ts'
import type { StagedSink } from '../lib/load/sink.ts'
import { batches, prostateColumns, prostateRows } from '../test/support/hopsworks/data.ts'

const args = process.argv.slice(2)
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 200_000)
const hopsworksOnly = args.includes('--hopsworks')
const stageOnly = args.includes('--stage-only')
const latencyAt = args.indexOf('--latency')
const latencyMs = latencyAt >= 0 ? Number(args[latencyAt + 1]) : 0
const rows = prostateRows(n)

function rate(ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString('en')} rows/s (${(ms / 1000).toFixed(2)} s)`
}

async function timed(sink: StagedSink, commit = true): Promise<{ stage: number; commit: number; stageCpu: number }> {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  await pipeline(batches(prostateColumns, rows, 1000), sink.writable)
  const c1 = process.cpuUsage(c0)
  const t1 = performance.now()
  if (commit) await sink.commit()
  else await sink.abort()
  return { stage: t1 - t0, commit: performance.now() - t1, stageCpu: (c1.user + c1.system) / 1e6 }
}

async function startEmulator(): Promise<{ env: Record<string, string>; stop: () => void }> {
  const module = fileURLToPath(new URL('../test/support/hopsworks-emulator.ts', import.meta.url))
  const code = `const { HopsworksEmulator } = await import(${JSON.stringify(module)}); const e = await HopsworksEmulator.start({ executionSteps: 2 }); if (${latencyMs} > 0) e.inject({ route: 'upload', times: 1e9, delayMs: ${latencyMs} }); console.log(JSON.stringify(e.env()));`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString()))
    child.once('exit', (c) => reject(new Error(`emulator exited (${c})`)))
  })
  return { env: JSON.parse(line) as Record<string, string>, stop: () => void child.kill() }
}

const emu = await startEmulator()
try {
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env)!, columns: prostateColumns, pollIntervalMs: 50 })
  const h = await timed(sink, !stageOnly)
  console.log(`hopsworks sink -> emulator, ${n.toLocaleString('en')} rows${latencyMs ? `, ${latencyMs} ms per upload call` : ''}`)
  console.log(`  staging (parts + chunked upload): ${rate(h.stage)}; client CPU ${(h.stageCpu / (n / 1e6)).toFixed(2)} s per million rows`)
  if (!stageOnly) {
    console.log(`  commit (job start, poll, emulator ingest): ${(h.commit / 1000).toFixed(2)} s`)
    console.log(`  end to end: ${rate(h.stage + h.commit)}`)
  }
} finally {
  emu.stop()
}

if (hopsworksOnly) process.exit(0)
const dir = await mkdtemp(join(tmpdir(), 'etl-bench-'))
try {
  const first = await timed(await localSink({ dataDir: dir, columns: prostateColumns }))
  const second = await timed(await localSink({ dataDir: dir, columns: prostateColumns }))
  console.log(`local sink, ${n.toLocaleString('en')} rows`)
  console.log(`  first load:  write ${rate(first.stage)}; commit ${(first.commit / 1000).toFixed(2)} s; end to end ${rate(first.stage + first.commit)}`)
  console.log(`  second load (upsert of the same keys): write ${rate(second.stage)}; commit ${(second.commit / 1000).toFixed(2)} s; end to end ${rate(second.stage + second.commit)}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
