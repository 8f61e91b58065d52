/**
 * The expectation engine's public API (pure: no streams, no I/O but reading a suite file).
 */
export type * from './types.ts'
export { compile, type CompileOptions, type CompiledExpectation, type CompiledSuite, type FinishOptions, type SuiteState } from './engine.ts'
export type { FailureSink } from './check.ts'
export { CATALOG, EXPECTATION_TYPES, type Family } from './catalog.ts'
export { parseSuite, readSuite } from './suite.ts'
export { columnStatsFromBatches, columnStatsFromPg, prepassColumns, PREPASS_TYPES, type Queryable } from './prepass.ts'
export { decodeState, encodeState } from './state-json.ts'
