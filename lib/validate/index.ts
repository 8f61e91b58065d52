/**
 * The validating stage and its files. See validate.ts for the stream
 * contract, results.ts for the stage files, quarantine.ts for quarantine.csv,
 * meta.ts for the meta-validation and the gate's report.
 */
export { validate, validateStep, type ValidateHooks, type ValidateStep, type InvalidPolicy, type ValidateOptions, type ValidateStream, type ValidationCounts, type ValidationSummary } from './validate.ts'
export { quarantineCsv, FAILED_COLUMN, type QuarantineSink } from './quarantine.ts'
export { columnOfConfig, isVacuous, RESULTS_COLUMNS, resultJson, resultRows, validationFileNames, writeValidationFiles, type ValidationFiles } from './results.ts'
export {
  countsFromDataDir, COUNT_COLUMNS, COUNT_NAMES, DEFAULT_META_SUITE_PATH, defaultMetaSuite, gateReport, metaValidate, metaValidateFiles, metaValidateTable, SKIPPED,
  type CountName, type MetaCommonOptions, type MetaFilesOptions, type MetaFilesResult, type MetaValidateOptions,
} from './meta.ts'
