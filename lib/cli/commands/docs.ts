import { resolve } from 'node:path'
import { defaults } from '../../config/config.ts'
import { buildDocs, openInBrowser } from '../../docs/index.ts'
import { EtlError } from '../../errors.ts'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'

export const docsCommand: Command = {
  summary: 'rebuild the data docs (data/docs/index.html and a page per run) from the run records; prints the path',
  flags: ['data-dir', 'open', 'config'],
  async run(ctx, values, positionals) {
    if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
    const config = commandConfig(ctx, values)
    const dataDir = resolve(ctx.cwd, config.dataDir ?? defaults.dataDir)
    const paths = await buildDocs(dataDir)
    ctx.stdout.write(`${paths.index}\n`)
    if (values.open && !(await openInBrowser(paths.index))) ctx.stderr.write(`could not open a browser; open ${paths.index}\n`)
    return 0
  },
}
