/**
 * `etl hopsworks check`: before any data moves, whether the configured
 * Hopsworks (HOPSWORKS_* and `hopsworks` in etl.config.json) can take a load:
 * host, TLS, API key and its scopes, project, feature store, upload policy,
 * the feature group's type and key (lib/load/hopsworks/check.ts). Prints one
 * line per finding (or `--json`); exit 0 when all pass, else the first failed
 * finding's coded error.
 */
import { defaults } from '../../config/config.ts'
import { EtlError } from '../../errors.ts'
import { checkHopsworks } from '../../load/hopsworks/check.ts'
import { hopsworksConfigFromEnv } from '../../load/hopsworks/index.ts'
import type { Command } from '../commands.ts'
import { commandConfig } from '../context.ts'

export const hopsworksCommand: Command = {
  summary: 'check that Hopsworks can take a load (etl hopsworks check)',
  usage: 'check',
  description: 'Asks the configured Hopsworks, with harmless reads only: does the host answer, does its TLS certificate verify, is the API key accepted and does it have the scopes a load needs (FEATURESTORE, JOB, DATASET_CREATE, DATASET_VIEW, DATASET_DELETE), do the project and its feature store exist, are uploads allowed, and is the feature group, if it exists, one a load can write (not a stream group unless HOPSWORKS_STREAM_GROUPS=materialize, the right primary key).',
  flags: ['config', 'feature-group', 'json'],
  async run(ctx, values, positionals) {
    if (positionals[0] !== 'check' || positionals.length > 1) throw new EtlError('ETL_USAGE', `etl hopsworks takes one subcommand, check; got ${positionals.length ? positionals.join(' ') : 'none'}`)
    const config = commandConfig(ctx, values)
    const hw = hopsworksConfigFromEnv(ctx.env, { caFile: config.hopsworks?.caFile, insecure: config.hopsworks?.insecure, timeoutSeconds: config.hopsworks?.timeoutSeconds })
    if (!hw) throw new EtlError('ETL_CONFIG', 'etl hopsworks check needs HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT')
    const fg = { ...defaults.featureGroup, ...config.featureGroup, primaryKey: [config.idColumn ?? 'user_id'] }
    const findings = await checkHopsworks(hw, { ...fg, name: fg.name, version: fg.version })
    if (config.json) ctx.stdout.write(JSON.stringify(findings.map(({ error, ...f }) => ({ ...f, ...(error ? { code: error.code } : {}) })), null, 2) + '\n')
    else for (const f of findings) ctx.stdout.write(`${f.ok ? 'ok  ' : 'FAIL'} ${f.check}: ${f.detail}\n`)
    const first = findings.find((f) => !f.ok)
    if (first) throw first.error ?? new EtlError('ETL_HOPSWORKS', first.detail)
    return 0
  },
}
