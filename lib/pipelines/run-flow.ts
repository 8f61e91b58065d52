/** `etl run` as a flow: the whole ETL in one pass (run.ts). */
import { EtlError } from '../errors.ts'
import { flow } from '../flow/index.ts'
import type { PipelineInput } from './flows.ts'
import { runOnePass } from './run.ts'

export const etlRunFlow = flow({ name: 'etl-run' }, async (input: PipelineInput, ctx) => {
  if (!input.db) throw new EtlError('ETL_INTERNAL', 'etl run needs a database')
  const started = Date.now()
  return runOnePass({
    settings: input.settings,
    db: input.db,
    onRows: (stage, rows) => {
      const s = (Date.now() - started) / 1000
      input.log.progress?.(`${stage}: ${rows} rows, ${s > 0 ? Math.round(rows / s) : 0} rows/s, ${s.toFixed(1)} s`)
    },
    warn: (m) => input.log.warn(m),
  }, ctx)
})
