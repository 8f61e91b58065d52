/** Helpers for tests of the embedded default: spawning node with a signal on cue, a temporary folder, leftovers. */
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type Teardown = { teardown(fn: () => unknown): void }

export interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface Spawn {
  cwd: string
  env: Record<string, string>
  uid?: number
  gid?: number
  /** The node binary (default: this process's). */
  execPath?: string
  /** Send this signal once stderr contains `when`. */
  kill?: { signal: NodeJS.Signals; when: string }
}

export function node(args: readonly string[], o: Spawn): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.execPath ?? process.execPath, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.gid! }) })
    let stdout = ''
    let stderr = ''
    let sent = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (o.kill && !sent && stderr.includes(o.kill.when)) {
        sent = true
        child.kill(o.kill.signal)
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** A temporary folder of our own for the embedded server (so leftovers can be counted); everyone may enter it. */
export async function privateTmp(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-anywhere-tmp-'))
  await chmod(dir, 0o1777)
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Data folders and servers of embedded runs left in `tmp` (the reusable copy of the binaries does not count). */
export async function leftovers(tmp: string): Promise<string[]> {
  const left = (await readdir(tmp)).filter((f) => f.startsWith('etl-embedded-pg-'))
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmd.includes(tmp) && cmd.includes('postgres')) left.push(`process ${pid}: ${cmd.replaceAll('\0', ' ')}`)
  }
  return left
}

