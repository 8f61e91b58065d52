/**
 * `etl store verify [--repair]`: the local feature store read in full against
 * its manifests (lib/load/store-verify.ts). Exit 0 when every group is sound
 * (or was repaired without losing rows); ETL_STORE_INTEGRITY (exit 1) naming
 * each file and what differs otherwise, and after a repair that lost rows.
 */
import { resolve } from 'node:path'
import { defaults } from '../../config/config.ts'
import { EtlError } from '../../errors.ts'
import { verifyStore } from '../../load/store-verify.ts'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'

export const storeCommand: Command = {
  summary: 'check the local feature store against its manifests (etl store verify [--repair])',
  usage: 'verify [--repair]',
  description: 'Reads every part of every local feature group: rows, bytes and sha256 as the manifest records them, the header, no key twice, each key in its bucket; lists the leftovers of loads that died. --repair removes those leftovers, rebuilds a manifest or a part from what the store holds, and says which rows are lost for good.',
  flags: ['data-dir', 'repair', 'lock-timeout', 'config', 'json'],
  async run(ctx, values, positionals) {
    if (positionals[0] !== 'verify' || positionals.length > 1) throw new EtlError('ETL_USAGE', `etl store takes one subcommand, verify; got ${positionals.length ? positionals.join(' ') : 'none'}`)
    const config = commandConfig(ctx, values)
    const dataDir = resolve(ctx.cwd, config.dataDir ?? defaults.dataDir)
    const repair = values.repair === true
    const result = await verifyStore(dataDir, { repair, lockTimeoutMs: (config.lockTimeout ?? 60) * 1000 })
    const open = result.findings.filter((f) => !f.repaired)
    const lost = result.findings.reduce((n, f) => n + (f.lost ?? 0), 0)
    if (config.json) ctx.stdout.write(JSON.stringify({ ...result, lost }) + '\n')
    else {
      for (const g of result.groups) ctx.stdout.write(`${g.group}: ${g.parts} parts, ${g.rows ?? 'unknown'} rows\n`)
      for (const f of result.findings) ctx.stdout.write(`${f.file}: ${f.problem}${f.repaired ? ` -> ${f.repaired}` : ''}${f.lost ? ` (${f.lost} rows lost)` : ''}\n`)
      if (!result.findings.length) ctx.stdout.write(result.groups.length ? 'the local feature store is sound\n' : `no local feature group in ${dataDir}/feature_store\n`)
    }
    if (open.length) {
      const first = open[0]!
      throw new EtlError('ETL_STORE_INTEGRITY', `${resolve(dataDir, 'feature_store', first.file)}: ${first.problem}${open.length > 1 ? ` (and ${open.length - 1} more findings)` : ''}; run \`etl store verify --repair\``, { details: { file: first.file } })
    }
    if (lost) throw new EtlError('ETL_STORE_INTEGRITY', `the local feature store is consistent again, but ${lost} rows the manifest counted are lost for good; load the source again to get them back`, { details: { lost } })
    return 0
  },
}
