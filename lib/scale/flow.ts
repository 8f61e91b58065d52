/** `etl run --partitions N` as a flow: the same name and record as `etl run`, staged by partitions (coordinator.ts). */
import { EtlError } from '../errors.ts'
import { flow } from '../flow/index.ts'
import type { PipelineInput } from '../pipelines/flows.ts'
import { runPartitioned } from './coordinator.ts'
import type { QueueSettings } from './queue.ts'

export interface PartitionedFlowOptions {
  readonly partitions: number
  readonly partitionKey: string | undefined
  readonly queue: QueueSettings
}

export function partitionedRunFlow(options: PartitionedFlowOptions) {
  return flow({ name: 'etl-run' }, async (input: PipelineInput, ctx) => {
    if (!input.db) throw new EtlError('ETL_INTERNAL', 'etl run needs a database')
    return runPartitioned({
      settings: input.settings,
      db: input.db,
      queue: options.queue,
      partitions: options.partitions,
      partitionKey: options.partitionKey,
      progress: (line) => input.log.info(line),
      warn: (m) => input.log.warn(m),
    }, ctx)
  })
}
