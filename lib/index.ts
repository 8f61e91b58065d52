/**
 * prostate-etl: the public API. Stages are object streams of batches
 * (lib/types.ts); see the README for each stage's options, events and errors.
 */
export type { Batch, Column, Row } from './types.ts'
export { EtlError, exitCodeOf, redact, registerSecret, stripUrlAuth, type EtlErrorCode } from './errors.ts'
export { loadConfigFile, parseConfig, mergeConfig, defaults, type EtlConfig, type MissingPolicy } from './config/config.ts'
export { connect, databaseFromEnv, type DbConfig } from './extract/connect.ts'
export { pgSource, DEFAULT_BATCH_SIZE, type PgSource, type PgSourceOptions, type PgSourceDb } from './extract/pg-source.ts'
export { startEmbedded, type EmbeddedDb } from './extract/embedded.ts'
export type { SourceSpec } from './extract/relation.ts'
export { csvSource, type CsvSourceOptions } from './csv/read.ts'
export { csvSink, csvTee, csvTeeStep, StageFileWriter, type StageFileOptions } from './csv/stage-file.ts'
export { fuse, stepStream, type Step } from './step.ts'
export { formatCsv, csvHeader } from './csv/format.ts'
export * from './expectations/index.ts'
export * from './validate/index.ts'
export * from './transform/index.ts'
export { localSink, localStoreBuckets, type LocalSink, type LocalSinkOptions } from './load/local-sink.ts'
export { BucketStager, type StagedBuckets } from './load/bucket-stage.ts'
export * from './load/hopsworks/index.ts'
export type { StagedSink, LoadSummary, LoadReport, WriteDisposition, FeatureGroupRef } from './load/sink.ts'
export * from './flow/index.ts'
export { main } from './cli/main.ts'
