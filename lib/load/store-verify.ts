/**
 * `etl store verify [--repair]`: every feature group of the local store read
 * in full against its manifest (store-manifest.ts): each part's presence,
 * bytes, header, sha256 and rows, no key twice in a part, each key in the
 * bucket its hash names; dead loads' leftovers (store-recover.ts) and files
 * the manifest does not name.
 *
 * `--repair` (under the group's lock) removes the leftovers, then rewrites
 * what can be rebuilt from the store itself: a manifest that does not agree
 * with itself (another bucket count, an edited field) is rebuilt from the
 * parts; a part without its header gets it back; a key found twice keeps its
 * last row (as a merge would); rows in another bucket's file are moved to
 * theirs. What cannot be rebuilt is said: a part missing or cut short loses
 * the rows the manifest counted in it, and only a new load of the source gets
 * them back. The repaired store is written as a new generation, committed by
 * the same one rename of manifest.json.
 */
import { open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EtlError } from '../errors.ts'
import { bucketOf } from './local-merge.ts'
import { acquireLock } from './lock.ts'
import { eachRecord, exists, Out } from './store-files.ts'
import { FEATURE_GROUP, manifestText, MANIFEST, measurePart, partFile, partsOf, readManifest, type Manifest, type PartEntry } from './store-manifest.ts'
import { recoverGroup, stagingPrefix } from './store-recover.ts'

export interface Finding {
  readonly group: string
  /** The file concerned (relative to the feature_store folder). */
  readonly file: string
  readonly problem: string
  /** What --repair did about it (absent without --repair). */
  readonly repaired?: string
  /** Rows the manifest counted that are gone for good (known only when the manifest was sound). */
  readonly lost?: number
}

export interface VerifyResult {
  readonly groups: readonly { readonly group: string; readonly rows: number | undefined; readonly parts: number }[]
  readonly findings: readonly Finding[]
}

interface Scan {
  rows: number
  headerMissing: boolean
  duplicates: number
  misplaced: number
  unterminated: boolean
}

/** Reads a part's records: counts them, notices a missing header, repeated keys, keys of another bucket. */
async function scanPart(path: string, header: string, keyIdx: readonly number[], bucket: number, buckets: number, write?: Out, misplacedTo?: (bucket: number, raw: string) => void): Promise<Scan> {
  const s: Scan = { rows: 0, headerMissing: false, duplicates: 0, misplaced: 0, unterminated: false }
  const last = new Map<string, number>()
  let n = -1
  const body = async (each: (k: string, raw: string, pos: number) => Promise<void> | void): Promise<void> => {
    n = -1
    try {
      await eachRecord(path, keyIdx, false, async (k, raw) => {
        n++
        if (n === 0 && raw === header) return
        if (n === 0) s.headerMissing = true
        await each(k, raw, n)
      })
    } catch (err) {
      if (!(err instanceof EtlError)) throw err
      s.unterminated = true // a part cut inside a record: its last, partial record is dropped
    }
  }
  await body((k, _raw, pos) => {
    if (last.has(k)) s.duplicates++
    last.set(k, pos)
    s.rows++
  })
  s.rows -= s.duplicates
  if (write) {
    await write.write(header)
    await body(async (k, raw, pos) => {
      if (last.get(k) !== pos) return
      const b = bucketOf(k, buckets)
      if (b !== bucket) {
        s.misplaced++
        misplacedTo?.(b, raw)
        return
      }
      await write.write(raw)
    })
  } else {
    for (const k of last.keys()) if (bucketOf(k, buckets) !== bucket) s.misplaced++
  }
  return s
}

/** Checks (and with `repair`, repairs) every feature group under `<dataDir>/feature_store`. */
export async function verifyStore(dataDir: string, options: { readonly repair?: boolean; readonly runId?: string; readonly lockTimeoutMs?: number } = {}): Promise<VerifyResult> {
  const root = join(dataDir, 'feature_store')
  const entries = await readdir(root).catch(() => [] as string[])
  const groups: { group: string; rows: number | undefined; parts: number }[] = []
  const findings: Finding[] = []
  for (const group of entries.filter((e) => !e.startsWith('.')).sort()) {
    const lock = await acquireLock(join(root, `.${group}.lock`), { runId: options.runId ?? 'store-verify', timeoutMs: options.lockTimeoutMs ?? 60_000, what: `the feature group ${group}` })
    try {
      groups.push(await verifyGroup(root, group, options.repair === true, findings))
    } finally {
      await lock.release()
    }
  }
  // Leftovers of groups that never committed (a staging folder without its group).
  for (const e of entries.filter((x) => x.startsWith('.staging-'))) {
    if (groups.some((g) => e.startsWith(stagingPrefix(g.group)))) continue
    findings.push({ group: '', file: e, problem: 'the staging folder of a load that did not finish', ...(options.repair ? { repaired: 'removed' } : {}) })
    if (options.repair) await rm(join(root, e), { recursive: true, force: true })
  }
  return { groups, findings }
}

async function verifyGroup(root: string, group: string, repair: boolean, findings: Finding[]): Promise<{ group: string; rows: number | undefined; parts: number }> {
  const location = join(root, group)
  const found = (f: Omit<Finding, 'group'>): void => void findings.push({ group, ...f })
  if (repair) {
    const r = await recoverGroup(root, group)
    for (const s of r.staging) found({ file: s.slice(root.length + 1), problem: 'the staging folder of a load that is no longer alive', repaired: 'removed' })
  } else {
    for (const e of (await readdir(root)).filter((x) => x.startsWith(stagingPrefix(group)))) found({ file: e, problem: 'the staging folder of a load (removed by the next load or --repair once its run is over)' })
  }
  const fg = JSON.parse(await readFile(join(location, FEATURE_GROUP), 'utf8').catch(() => 'null')) as { features?: { name: string; primary: boolean }[] } | null
  let manifest: Manifest | undefined
  let trusted = true
  let stored: Awaited<ReturnType<typeof readManifest>>
  try {
    stored = await readManifest(location)
  } catch (err) {
    if (!(err instanceof EtlError) || err.code !== 'ETL_STORE_INTEGRITY') throw err
    found({ file: `${group}/${MANIFEST}`, problem: err.message.replace(/; the local feature store is damaged.*$/, ''), ...(repair ? { repaired: 'rebuilt from the parts' } : {}) })
    trusted = false
    stored = undefined
  }
  const files = (await readdir(location).catch(() => [] as string[])).filter((f) => /^part-\d{3}(\.\d+)?\.csv$/.test(f))
  if (!stored && trusted) {
    if (files.length) found({ file: `${group}/`, problem: `${files.length} part files and no manifest`, ...(repair ? { repaired: 'the manifest rebuilt from them' } : {}) })
    if (!files.length) return { group, rows: undefined, parts: 0 }
    trusted = false
  }
  let parts: (PartEntry | { file: string; rows?: number; bytes?: number; sha256?: string })[]
  let header: string
  let primaryKey: readonly string[]
  let generation: number
  let loads: Manifest['loads'] = []
  if (stored && trusted) {
    parts = [...partsOf(stored)]
    primaryKey = stored.primaryKey
    generation = stored.format === 2 ? stored.generation : 0
    loads = stored.loads
    if (stored.format === 2) manifest = stored
    header = stored.format === 2 ? stored.header : (await measurePart(join(location, parts[0]!.file), false)).header
  } else {
    // Rebuild from the files: the newest file of each bucket index; the bucket count is the number of indexes.
    const byBucket = new Map<number, { file: string; gen: number }>()
    for (const f of files) {
      const [, b, g] = /^part-(\d{3})(?:\.(\d+))?\.csv$/.exec(f)!
      const gen = Number(g ?? 0)
      const had = byBucket.get(Number(b))
      if (!had || had.gen < gen) byBucket.set(Number(b), { file: f, gen })
    }
    const buckets = byBucket.size
    if (!Array.from({ length: buckets }, (_, i) => byBucket.has(i)).every(Boolean))
      throw new EtlError('ETL_STORE_INTEGRITY', `${location}: the part files are not buckets 0 to ${buckets - 1}; the manifest cannot be rebuilt`, { details: { file: location } })
    parts = Array.from({ length: buckets }, (_, i) => ({ file: byBucket.get(i)!.file }))
    generation = Math.max(...[...byBucket.values()].map((v) => v.gen))
    primaryKey = fg?.features?.filter((f) => f.primary).map((f) => f.name) ?? ['user_id']
    const raw = JSON.parse(await readFile(join(location, MANIFEST), 'utf8').catch(() => '{}')) as { loads?: Manifest['loads']; header?: string }
    loads = Array.isArray(raw.loads) ? raw.loads : []
    header = typeof raw.header === 'string' ? raw.header : `${(fg?.features ?? []).map((f) => f.name).join(',')}\n`
  }
  const columns = header.trimEnd().split(',')
  const keyIdx = primaryKey.map((k) => columns.indexOf(k))
  const named = new Set([MANIFEST, FEATURE_GROUP, ...parts.map((p) => p.file)])
  for (const f of await readdir(location)) {
    if (named.has(f)) continue
    found({ file: `${group}/${f}`, problem: 'a file the manifest does not name', ...(repair ? { repaired: 'removed' } : {}) })
    if (repair) await unlink(join(location, f)).catch(() => {})
  }

  // Each part: what it holds against what the manifest says.
  const buckets = parts.length
  const damaged = new Set<number>()
  const scans: (Scan | undefined)[] = []
  for (const [i, p] of parts.entries()) {
    const path = join(location, p.file)
    const file = `${group}/${p.file}`
    if (!(await exists(path))) {
      found({ file, problem: 'missing', ...(repair ? { repaired: 'an empty part in its place', ...(p.rows !== undefined ? { lost: p.rows } : {}) } : {}) })
      damaged.add(i)
      continue
    }
    const m = await measurePart(path, false)
    const s = await scanPart(path, header, keyIdx, i, buckets)
    scans[i] = s
    const what: string[] = []
    if (s.headerMissing) what.push('its header line is missing')
    if (s.unterminated) what.push('it ends inside a record')
    if (s.duplicates) what.push(`${s.duplicates} rows repeat a key`)
    if (s.misplaced) what.push(`${s.misplaced} keys belong to another bucket`)
    if (p.bytes !== undefined && m.bytes !== p.bytes) what.push(`it holds ${m.bytes} bytes, the manifest says ${p.bytes}`)
    if (p.sha256 !== undefined && m.sha256 !== p.sha256) what.push('its sha256 differs from the manifest')
    if (p.rows !== undefined && s.rows !== p.rows) what.push(`it holds ${s.rows} distinct rows, the manifest says ${p.rows}`)
    if (!trusted || what.length) damaged.add(i)
    if (what.length) {
      const lost = p.rows !== undefined && s.rows < p.rows ? p.rows - s.rows : undefined
      found({ file, problem: what.join('; '), ...(repair ? { repaired: s.headerMissing || s.duplicates || s.misplaced ? 'rewritten (header, last row of each key, rows in their buckets)' : 'kept as it is', ...(lost ? { lost } : {}) } : lost ? { lost } : {}) })
    }
  }
  const rows = parts.reduce((n, p, i) => n + (p.rows ?? scans[i]?.rows ?? 0), 0)
  if (!repair || !damaged.size) return { group, rows: manifest?.rows ?? (trusted ? rows : undefined), parts: parts.length }

  // Repair: every damaged part rewritten as a new generation, rows of another bucket moved to theirs.
  const next = generation + 1
  const moved = new Map<number, string[]>()
  const rewrite = new Set(damaged)
  const entries: PartEntry[] = []
  const tmp = (i: number): string => join(location, `${partFile(i, next)}.repair.tmp`)
  for (const i of rewrite) {
    const p = parts[i]!
    const file = await open(tmp(i), 'w')
    try {
      const o = new Out(file)
      if (await exists(join(location, p.file))) {
        await scanPart(join(location, p.file), header, keyIdx, i, buckets, o, (b, raw) => {
          const list = moved.get(b) ?? []
          list.push(raw)
          moved.set(b, list)
        })
      } else await o.write(header)
      await o.flush()
      await file.sync()
    } finally {
      await file.close()
    }
  }
  for (const b of moved.keys()) if (!rewrite.has(b)) throw new EtlError('ETL_STORE_INTEGRITY', `${location}: rows belong to bucket ${b}, whose part is sound; rebuild by loading the source again`, { details: { file: location } })
  for (const [b, raws] of moved) {
    const file = await open(tmp(b), 'a')
    try {
      await file.write(raws.join(''))
      await file.sync()
    } finally {
      await file.close()
    }
  }
  for (const [i, p] of parts.entries()) {
    if (!rewrite.has(i)) {
      const m = await measurePart(join(location, p.file), true)
      entries.push({ file: p.file, rows: m.rows!, bytes: m.bytes, sha256: m.sha256 })
      continue
    }
    await rename(tmp(i), join(location, partFile(i, next)))
    const m = await measurePart(join(location, partFile(i, next)), true)
    entries.push({ file: partFile(i, next), rows: m.rows!, bytes: m.bytes, sha256: m.sha256 })
  }
  const total = entries.reduce((n, p) => n + p.rows, 0)
  const fresh: Omit<Manifest, 'checksum'> = { format: 2, generation: next, primaryKey, buckets, header, rows: total, parts: entries, loads: [...loads, { at: new Date().toISOString(), rows: 0, write: 'repair' }] }
  await writeFile(join(location, `${MANIFEST}.repair.tmp`), manifestText(fresh), { flush: true })
  await rename(join(location, `${MANIFEST}.repair.tmp`), join(location, MANIFEST))
  const keep = new Set(entries.map((e) => e.file))
  for (const i of rewrite) if (!keep.has(parts[i]!.file)) await unlink(join(location, parts[i]!.file)).catch(() => {})
  return { group, rows: total, parts: buckets }
}
