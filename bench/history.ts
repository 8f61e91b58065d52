/**
 * node bench/history.ts [--records 5000] [--runs 3] [etl run flags...]: how a data folder with a long history
 * costs a run. Makes one real `etl run` (PGHOST/PGDATABASE: a database with the prostate table), then fills
 * `runs/` and `docs/runs/` with N copies of its record and page under earlier ids (one an hour back), as N
 * earlier runs would have left them, then times `--runs` more real runs (wall and CPU seconds) and prints the
 * data folder's size before and after them. Not a test: wrap it in `flock /tmp/bench.lock`.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const records = arg('--records', 5000)
const runs = arg('--runs', 3)
const extra = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--records') && !a.startsWith('--runs') && all[i - 1] !== '--records' && all[i - 1] !== '--runs')
const etl = fileURLToPath(new URL('../bin/etl.js', import.meta.url))
const cwd = mkdtempSync(join(tmpdir(), 'etl-history-'))
const data = join(cwd, 'data')

function du(dir: string): { bytes: number; files: number } {
  let bytes = 0
  let files = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    files++
    bytes += statSync(join(e.parentPath, e.name)).size
  }
  return { bytes, files }
}

/** One `etl run`: wall seconds and CPU seconds (user + system, from /usr/bin/time: the machine may be busy). */
function run(): { wall: number; cpu: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', process.execPath, etl, 'run', '--quiet', ...extra], { cwd, env: process.env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`etl run failed (${r.status}): ${r.stderr}`)
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr)
  if (!m) throw new Error(`no timing in ${r.stderr}`)
  return { wall: Number(m[1]), cpu: +(Number(m[2]) + Number(m[3])).toFixed(2) }
}

try {
  const first = run()
  const [id] = readdirSync(join(data, 'runs')).filter((n) => n.endsWith('.json'))
  if (!id) throw new Error('no record')
  const runId = id.slice(0, -5)
  const record = readFileSync(join(data, 'runs', id), 'utf8')
  const start = Date.parse(JSON.parse(record).start as string)
  for (let i = 1; i <= records; i++) {
    const at = new Date(start - i * 3_600_000)
    const newId = `${at.toISOString().replace(/[-:.]/g, '')}-h${String(i).padStart(7, '0')}`
    writeFileSync(join(data, 'runs', `${newId}.json`), record.split(runId).join(newId).replace(/"start": "[^"]+"/, `"start": "${at.toISOString()}"`))
    copyFileSync(join(data, 'docs', 'runs', `${runId}.html`), join(data, 'docs', 'runs', `${newId}.html`))
  }
  // As a folder from before the kept index (or one whose index.json was lost): the next run lists every record once.
  rmSync(join(data, 'docs', 'index.json'), { force: true })
  const before = du(data)
  const times: { wall: number; cpu: number }[] = []
  for (let i = 0; i < runs; i++) times.push(run())
  const after = du(data)
  const mb = (b: number) => (b / 1e6).toFixed(1)
  console.log(JSON.stringify({ records, emptyFolderRun: first, runs: times,
    beforeMB: +mb(before.bytes), beforeFiles: before.files, afterMB: +mb(after.bytes), afterFiles: after.files,
    runsLeft: readdirSync(join(data, 'runs')).length, pagesLeft: readdirSync(join(data, 'docs', 'runs')).length }))
} finally {
  rmSync(cwd, { recursive: true, force: true })
}
