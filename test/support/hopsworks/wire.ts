/**
 * Wire helpers of the Hopsworks emulator: the error envelope (RESTCodes
 * codes, NON_NULL JSON), replies, request bodies. Codes and messages are
 * Hopsworks' own (HW RESTCodes.java, see ../shared/hopsworks/API.md).
 */
import type { IncomingHttpHeaders } from 'node:http'

export interface Req {
  readonly method: string
  /** Path segments after `/hopsworks-api/api/`, each percent-decoded on its own. */
  readonly segs: readonly string[]
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

export interface Reply {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/** A Hopsworks RESTException: becomes `{errorCode, errorMsg, usrMsg?}` with its status. */
export class HwError extends Error {
  readonly status: number
  readonly errorCode: number
  readonly usrMsg: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  constructor(status: number, errorCode: number, errorMsg: string, usrMsg?: string, headers?: Record<string, string>) {
    super(errorMsg)
    this.status = status
    this.errorCode = errorCode
    this.usrMsg = usrMsg
    this.headers = headers
  }
}

/** The RESTCodes this emulator answers with: [status, code, message]. */
export const CODES = {
  authHeaderNotSet: [401, 200003, 'Authorization header not set.'],
  invalidatedKey: [401, 200003, 'Invalidated Api key.'],
  keyIncorrect: [401, 320012, 'Invalid or incorrect API key.'],
  keyNotFound: [401, 320013, 'API key not found in the database'],
  noScope: [403, 320004, 'No valid scope found for this invocation'],
  projectNotFound: [404, 150004, "Project wasn't found."],
  notMember: [403, 160000, 'No valid role found for this invocation'], // [I] message
  featureStoreNotFound: [404, 270008, "Featurestore wasn't found."],
  featureGroupNotFound: [404, 270009, "Featuregroup wasn't found."],
  illegalFeatureName: [400, 270040, 'Illegal feature name'],
  illegalFgType: [400, 270049, 'The provided feature group type was not recognized'],
  fgExists: [400, 270089, 'The feature group you are trying to create does already exist.'],
  illegalEntityName: [400, 270091, 'Illegal feature store entity name'],
  illegalEntityDescription: [400, 270092, 'Illegal featurestore entity description'],
  primaryKeyRequired: [400, 270121, 'Primary key is required when using Hudi time travel format'],
  illegalEventTimeType: [400, 270171, 'Illegal event time feature type'],
  eventTimeNotFound: [400, 270172, 'Event time feature not found'],
  fvExists: [400, 270179, 'The provided feature view name and version already exists'],
  fvNotFound: [404, 270181, "Feature view wasn't found."],
  featureNotFound: [404, 270188, 'Could not find feature.'],
  fieldNotJson: [400, 270201, 'Input field fail to be parsed to valid Json.'],
  fieldNotNullable: [400, 270202, 'Input field is not nullable.'],
  suiteExists: [409, 270208, 'An expectation suite is already attached to this feature group. Either update the existing suite via the update endpoint or delete it first.'],
  featureTypeMissing: [400, 270212, 'Feature offline type cannot be null or empty.'],
  duplicateFeature: [400, 270224, 'Feature list contains duplicate'],
  expectationNotFound: [404, 270190, 'Expectation not found.'],
  keyNotFoundInJson: [400, 270194, 'Requested key has not been found in Json object or associated value is not of required type.'],
  exceedsMaxCharacters: [400, 270200, 'Input field length exceeds max allowed characters.'],
  featureNameNotFound: [400, 270210, 'The Feature Name was not found in this version of the Feature Group.'],
  datasetNotFound: [400, 110011, 'DataSet not found.'],
  destinationExists: [400, 110012, 'Destination already exists.'],
  pathNotFound: [400, 110018, 'Path not found'], // [I] delete of a missing path
  resumableInfoInvalid: [400, 110042, 'ResumableInfo is invalid'],
  uploadDiskSpace: [400, 110055, 'Upload failed: not enough disk space.'], // [I] status and message; the code is DatasetApi.DATASET_ERROR_CODE_UPLOAD_DISK_SPACE
  uploadNotAllowed: [403, 110056, 'Uploading files is not allowed.'], // [I] message; code DatasetApi.DATASET_ERROR_CODE_UPLOAD_NOT_ALLOWED
  variableNotFound: [404, 100050, 'Requested variable not found'],
  executionNotFound: [404, 130007, 'Execution not found.'],
  jobNotFound: [404, 130009, 'Job not found.'],
  illegalArgument: [422, 120001, 'A wrong value for a parameter was used.'], // [I] message
  webApplication: [415, 120004, 'Unsupported Media Type'], // JAX-RS WebApplicationException keeps its status
  notFoundRoute: [404, 120004, 'HTTP 404 Not Found'],
  methodNotAllowed: [405, 120004, 'HTTP 405 Method Not Allowed'], // JAX-RS: a path whose resource has no method of that verb
} as const satisfies Record<string, readonly [number, number, string]>

export function fail(which: keyof typeof CODES, usrMsg?: string, headers?: Record<string, string>): never {
  const [status, code, msg] = CODES[which]
  throw new HwError(status, code, msg, usrMsg, headers)
}

export function ok(body: unknown, status = 200, headers?: Record<string, string>): Reply {
  return { status, body, ...(headers ? { headers } : {}) }
}

/** Drops null and undefined fields, as the server's Jackson (NON_NULL) does. */
export function nonNull(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nonNull)
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = nonNull(x)
    return out
  }
  return v
}

/** The JSON body of a request (unknown properties are ignored by the server; a broken body is a 400). */
export function jsonBody(req: Req): Record<string, unknown> {
  if (!req.body.length) return {}
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8'))
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>
  } catch {
    // fall through
  }
  throw new HwError(400, 120004, 'HTTP 400 Bad Request', 'the body is not a JSON object')
}

/** Parses a multipart/form-data body with the platform's own parser (undici). */
export async function formBody(req: Req): Promise<FormData> {
  const type = String(req.headers['content-type'] ?? '')
  if (!type.startsWith('multipart/form-data')) throw new HwError(415, 120004, 'HTTP 415 Unsupported Media Type')
  try {
    return await new Response(new Uint8Array(req.body), { headers: { 'content-type': type } }).formData()
  } catch {
    throw new HwError(400, 120004, 'HTTP 400 Bad Request', 'malformed multipart body')
  }
}

/** True when `v` is a string holding a JSON object. */
export function isJsonObjectText(v: unknown): boolean {
  if (typeof v !== 'string') return false
  try {
    const x: unknown = JSON.parse(v)
    return Boolean(x) && typeof x === 'object' && !Array.isArray(x)
  } catch {
    return false
  }
}
