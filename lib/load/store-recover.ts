/**
 * What a local load finds of the loads before it, and puts right before it
 * stages (under the feature group's lock, so no live writer is at work):
 *
 * - a staging folder `.staging-<group>-<id>` whose run is dead (its
 *   `owner.json` names a holder that no longer runs, or names none) is
 *   removed; if it holds `commit.json` (the journal of a commit under way),
 *   the commit is first finished (the manifest already names its generation:
 *   the parts it made obsolete are removed) or rolled back (it does not: the
 *   parts it had moved in are removed, and a group folder it created and left
 *   without a manifest goes too);
 * - a staging folder of the first layout that holds `old/` while the group
 *   has no manifest (a kill between its two renames) gives `old/` back;
 * - `*.tmp` files in the group folder are removed.
 *
 * Files the journal does not name are never touched: an unknown file in the
 * group folder is reported by `etl store verify`, not deleted.
 */
import { readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isAlive, parseHolder } from './lock.ts'
import { FEATURE_GROUP, MANIFEST, readManifest } from './store-manifest.ts'

export const OWNER = 'owner.json'
export const JOURNAL = 'commit.json'

/** The journal a commit leaves in its staging folder before it moves a part into the group folder. */
export interface CommitJournal {
  readonly generation: number
  /** Files moved into the group folder by this commit. */
  readonly adds: readonly string[]
  /** Files of the previous version the new one no longer names. */
  readonly obsolete: readonly string[]
  /** The group folder did not exist before this commit. */
  readonly created: boolean
}

export interface Recovered {
  /** Staging folders removed (runs no longer alive). */
  readonly staging: string[]
  /** Commits found interrupted: finished or rolled back. */
  readonly finished: number
  readonly rolledBack: number
  /** Bytes freed. */
  readonly bytes: number
}

export const stagingPrefix = (group: string): string => `.staging-${group}-`

async function sizeOf(path: string): Promise<number> {
  try {
    const s = await stat(path)
    if (!s.isDirectory()) return s.size
    let n = 0
    for (const e of await readdir(path)) n += await sizeOf(join(path, e))
    return n
  } catch {
    return 0
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** Puts right what dead loads into `<root>/<group>` left (see the file's header). Call it holding the group's lock. */
export async function recoverGroup(root: string, group: string, self?: string): Promise<Recovered> {
  const location = join(root, group)
  const out: { staging: string[]; finished: number; rolledBack: number; bytes: number } = { staging: [], finished: 0, rolledBack: 0, bytes: 0 }
  let entries: string[]
  try {
    entries = await readdir(root)
  } catch {
    return out
  }
  for (const name of entries.filter((e) => e.startsWith(stagingPrefix(group))).sort()) {
    const dir = join(root, name)
    if (dir === self) continue
    const owner = parseHolder(await readFile(join(dir, OWNER), 'utf8').catch(() => ''))
    if (owner !== 'unreadable' && isAlive(owner)) continue
    const journal = await readFile(join(dir, JOURNAL), 'utf8').then((t) => JSON.parse(t) as CommitJournal, () => undefined)
    if (journal) {
      const m = await readManifest(location).catch(() => null)
      if (m === null) continue // a damaged store: left as it is for `etl store verify --repair`
      if (m && m.format === 2 && m.generation === journal.generation) {
        for (const f of journal.obsolete) await unlink(join(location, f)).catch(() => {})
        out.finished++
      } else {
        const named = new Set(m && m.format === 2 ? m.parts.map((p) => p.file) : [])
        for (const f of journal.adds) if (!named.has(f)) await unlink(join(location, f)).catch(() => {})
        if (!m && journal.created) {
          await unlink(join(location, FEATURE_GROUP)).catch(() => {})
          await rmdir(location).catch(() => {})
        }
        out.rolledBack++
      }
    } else if (!(await exists(join(location, MANIFEST))) && (await exists(join(dir, 'old', MANIFEST)))) {
      if (await exists(location)) await rmdir(location).catch(() => {})
      await rename(join(dir, 'old'), location)
      out.rolledBack++
    }
    out.bytes += await sizeOf(dir)
    await rm(dir, { recursive: true, force: true })
    out.staging.push(dir)
  }
  for (const f of await readdir(location).catch(() => [] as string[])) {
    if (!f.endsWith('.tmp')) continue
    out.bytes += await sizeOf(join(location, f))
    await unlink(join(location, f)).catch(() => {})
  }
  return out
}
