import { defaults } from '../../config/config.ts'
import { EtlError } from '../../errors.ts'
import { isUnreadable, listRuns, readRun, type RunRecord } from '../../flow/index.ts'
import { resolve } from 'node:path'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'

function rowsOf(r: RunRecord): string {
  const counts = r.summary['counts'] as { extracted?: number; loaded?: number } | undefined
  const extract = r.summary['extract'] as { rows?: number } | undefined
  const n = counts?.loaded ?? counts?.extracted ?? extract?.rows
  return n === undefined ? '-' : String(n)
}

function validationOf(r: RunRecord): string {
  const v = r.summary['validation'] as { success?: boolean } | undefined
  const m = r.summary['meta'] as { success?: boolean } | undefined
  if (!v) return '-'
  return `${v.success ? 'passed' : 'failed'}${m ? `/meta ${m.success ? 'passed' : 'failed'}` : ''}`
}

export const runsCommand: Command = {
  summary: 'list recent runs, or show one run record (etl runs <id>)',
  usage: '[id]',
  flags: ['data-dir', 'limit', 'config', 'json'],
  async run(ctx, values, positionals) {
    const config = commandConfig(ctx, values)
    const dataDir = resolve(ctx.cwd, config.dataDir ?? defaults.dataDir)
    if (positionals.length > 1) throw new EtlError('ETL_USAGE', `etl runs takes at most one run id, got ${positionals.length}`)
    if (positionals[0]) {
      const record = await readRun(dataDir, positionals[0])
      if (!record) throw new EtlError('ETL_USAGE', `no run ${positionals[0]} in ${dataDir}/runs`)
      if (isUnreadable(record)) throw new EtlError('ETL_DATA_DIR', `run ${record.id} is unreadable: ${record.error?.message ?? 'its record cannot be read'}`, { details: { id: record.id } })
      ctx.stdout.write(JSON.stringify(record) + '\n')
      return 0
    }
    const limit = values.limit === undefined ? 20 : Number(values.limit)
    if (!Number.isInteger(limit) || limit < 1) throw new EtlError('ETL_INVALID_OPTION', `Invalid option --limit: expected a positive integer, got ${JSON.stringify(values.limit)}`)
    const runs = await listRuns(dataDir, { limit })
    if (config.json) {
      ctx.stdout.write(JSON.stringify(runs) + '\n')
      return 0
    }
    if (!runs.length) {
      ctx.stdout.write(`no runs recorded in ${dataDir}/runs\n`)
      return 0
    }
    const rows = runs.map((r) => [r.id, r.flow, r.state, r.start, r.durationMs === undefined ? '-' : `${(r.durationMs / 1000).toFixed(1)}s`, rowsOf(r), validationOf(r), r.error?.code ?? ''])
    const head = ['ID', 'FLOW', 'STATE', 'START', 'TIME', 'ROWS', 'VALIDATION', 'ERROR']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    for (const r of [head, ...rows]) ctx.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n')
    return 0
  },
}
