/** Spawns `etl` (from the TypeScript sources) and collects its output. */
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('./etl-cli.ts', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Node's compile cache for spawned commands: halves their start-up CPU (many tests spawn `etl`). */
const COMPILE_CACHE = join(tmpdir(), 'prostate-etl-test-compile-cache')

/** Environment without any database or Hopsworks settings of the parent (tests pass their own). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(PG|DATABASE_URL|HOPSWORKS_|ETL_|TAP|NODE_OPTIONS)/.test(k)) continue
    env[k] = v
  }
  return { NODE_COMPILE_CACHE: COMPILE_CACHE, ...env, ...extra }
}

export function runEtl(args: readonly string[], { cwd, env, onSpawn }: { cwd: string; env: Record<string, string>; onSpawn?: (child: import('node:child_process').ChildProcess) => void }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    onSpawn?.(child)
  })
}
