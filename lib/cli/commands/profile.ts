/**
 * `etl profile` (one streaming pass over a table or query -> a profile page in
 * the data docs, and the profile as JSON with --json) and `etl suite suggest`
 * (a suite proposed from that profile, on stdout or --out FILE).
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { writeFileAtomic } from '../../csv/stage-file.ts'
import { docsDir } from '../../docs/write.ts'
import { EtlError } from '../../errors.ts'
import { pgSource } from '../../extract/pg-source.ts'
import { openDatabase } from '../../pipelines/database.ts'
import { resolveSettings } from '../../pipelines/settings.ts'
import { renderProfilePage } from '../../profile/page.ts'
import { profileStream, type Profile } from '../../profile/profile.ts'
import { suggestSuite } from '../../profile/suggest.ts'
import type { Command } from '../commands.ts'
import { commandConfig, makeLogger, type CommandContext, type Logger } from '../context.ts'
import type { FlagValues } from '../args.ts'

/** A file name for a source: its table name, or `query`. */
function profileName(source: { table?: string } | { query: string }): string {
  const name = 'table' in source && source.table ? source.table : 'query'
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'table'
}

async function runProfile(ctx: CommandContext, values: FlagValues, log: Logger): Promise<{ profile: Profile; name: string; dataDir: string }> {
  const config = commandConfig(ctx, values)
  const settings = resolveSettings(config, ctx.env, ctx.cwd)
  const db = await openDatabase(ctx.env, (l) => log.info(l))
  try {
    const source = settings.source
    const label = 'table' in source ? source.table : 'query'
    const src = pgSource(db.config, source, { batchSize: settings.batchSize, signal: ctx.signal })
    const sink = profileStream({ source: label })
    await pipeline(src, sink)
    return { profile: await sink.profile, name: profileName(source as { table?: string }), dataDir: settings.dataDir }
  } finally {
    await db.close()
  }
}

export const profileCommand: Command = {
  summary: 'profile a table or query in one streaming pass -> data/docs/profiles/<table>.html (--json: the profile)',
  description:
    'Per column: type, nulls, distinct count, min/max/mean/stdev, quantiles, a histogram, the most common values, string lengths and what it looks like (key, category, timestamp, code, free text). Exact up to 10,000 distinct values per column; past that distinct counts, quantiles, histograms and common values are sketches (the page says their error).',
  flags: ['table', 'query', 'batch-size', 'data-dir', 'config', 'json', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
    const log = makeLogger(ctx, commandConfig(ctx, values))
    const { profile, name, dataDir } = await runProfile(ctx, values, log)
    const dir = join(docsDir(dataDir), 'profiles')
    try {
      await mkdir(dir, { recursive: true })
    } catch (err) {
      throw new EtlError('ETL_DATA_DIR', `cannot write ${dir}: ${(err as Error).message}`, { cause: err })
    }
    const path = join(dir, `${name}.html`)
    await writeFileAtomic(path, renderProfilePage(profile))
    if (values.json) ctx.stdout.write(JSON.stringify(profile) + '\n')
    else ctx.stdout.write(`${path}\n`)
    log.info(`profiled ${profile.rows} rows, ${profile.columns.length} columns of ${profile.source} in ${(profile.durationMs / 1000).toFixed(1)} s -> ${path}`)
    return 0
  },
}

export const suiteCommand: Command = {
  summary: 'suite suggest: propose an expectation suite from a profile of --table/--query (stdout, or --out FILE)',
  usage: 'etl suite suggest [--table T | --query SQL] [--out suite.json]',
  description: 'Each expectation carries meta.notes saying what it was inferred from. Read and edit it before relying on it; then `etl run --suite FILE`.',
  flags: ['table', 'query', 'batch-size', 'config', 'out', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    if (positionals[0] !== 'suggest') throw new EtlError('ETL_USAGE', positionals.length ? `unknown suite command: ${positionals[0]} (expected suggest)` : 'etl suite needs a subcommand: suggest')
    if (positionals.length > 1) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[1]}`)
    const log = makeLogger(ctx, commandConfig(ctx, values))
    const { profile, name } = await runProfile(ctx, values, log)
    const suite = suggestSuite(profile, name === 'query' ? 'suggested' : name)
    const text = JSON.stringify(suite, null, 2) + '\n'
    if (values.out) {
      const out = resolve(ctx.cwd, values.out)
      try {
        await writeFileAtomic(out, text)
      } catch (err) {
        throw err instanceof EtlError ? err : new EtlError('ETL_DATA_DIR', `cannot write ${out}: ${(err as Error).message}`, { cause: err })
      }
      log.info(`suggested ${suite.expectations.length} expectations from ${profile.rows} rows -> ${out}`)
    } else ctx.stdout.write(text)
    return 0
  },
}


