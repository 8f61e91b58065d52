/** The Hopsworks load: configuration, sink, and the GE shapes it attaches. */
export { hopsworksConfigFromEnv, hopsworksConfigured, type HopsworksConfig, type HopsworksConfigOptions } from './config.ts'
export { hopsworksSink, type HopsworksSink, type HopsworksSinkOptions, type HopsworksProgress } from './sink.ts'
export type { HttpOptions } from './http.ts'
export type { FeatureViewOptions } from './feature-view.ts'
export type { ValidationAttachment, GeExpectationSuite, GeValidationResult, GeExpectationResult, GeExpectationConfig } from './validation.ts'
