/** The transform stage: stamping (user_id, datetime), feature names, the missing-value policy. */
export { stamp, stampStep, type StampStream } from './stamp.ts'
export { createStamper, type Stamper, type TransformCounts, type TransformSummary } from './stamper.ts'
export { planColumns } from './plan.ts'
export { featureNames, featureNameProblem, FEATURE_NAME, FEATURE_NAME_MAX } from './names.ts'
export { derivedId, keyText } from './ids.ts'
export type { DatetimeMode, IdStrategy, MissingOptions, MissingPolicy, StampOptions } from './options.ts'
export { transformCsv, type TransformCsvOptions } from './transform-csv.ts'
