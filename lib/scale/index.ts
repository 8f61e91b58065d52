/** Scale-out (`etl run --partitions N`, `etl worker`): loaded on demand, since only these need pg-boss. */
export { runPartitioned, partitionRetries, type PartitionedDeps, type PartitionsSummary } from './coordinator.ts'
export { partitionedRunFlow, type PartitionedFlowOptions } from './flow.ts'
export { choosePartitionKey, describeRange, planPartitions, rangeSource, type PartitionKey, type PartitionPlan, type PartitionRange } from './partition.ts'
export { openQueue, PARTITION_QUEUE, queueSettings, type Queue, type QueueSettings } from './queue.ts'
export { serveWorker, type ServeOptions, type ServeSummary, type WorkerLog } from './serve.ts'
export { partFiles, runPartition, type PartitionJob, type PartitionOutput } from './worker.ts'
export {
  checkScheduleName, decideTicks, ensureScheduleTable, GRACE_MS, listSchedules, scheduleCron, registerSchedule, removeSchedule, scheduleQueue, tickPass, type MissedPolicy, type ScheduledJob,
  type ScheduleRow, type ScheduleSpec, type TickDecision, type TickEvent,
} from './schedules.ts'
export { serveSchedules, type ScheduledRunResult, type ServeSchedulesOptions, type ServeSchedulesSummary } from './serve-schedules.ts'
