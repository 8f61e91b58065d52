/**
 * The one JSON Schema of etl.config.json. Flags use the same names
 * (kebab-case on the command line: --on-invalid -> onInvalid).
 */
export const missingPolicySchema = {
  oneOf: [
    { enum: ['keep', 'drop'] },
    { type: 'object', properties: { fill: {} }, required: ['fill'], additionalProperties: false },
  ],
} as const

export const configSchema = {
  $id: 'https://prostate-etl/etl.config.schema.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    table: { type: 'string', minLength: 1 },
    query: { type: 'string', minLength: 1 },
    queryValues: { type: 'array' },
    suite: { type: 'string', minLength: 1 },
    metaSuite: { type: 'string', minLength: 1 },
    dataDir: { type: 'string', minLength: 1 },
    input: { type: 'string', minLength: 1 },
    sink: { enum: ['local', 'hopsworks'] },
    onInvalid: { enum: ['abort', 'warn'] },
    invalidRows: { enum: ['keep', 'quarantine'] },
    id: { enum: ['nanoid', 'sequential', 'derived'] },
    key: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    datetime: { enum: ['run', 'row'] },
    write: { enum: ['merge', 'append', 'replace'] },
    incremental: { type: 'string', minLength: 1 },
    fullRefresh: { type: 'boolean' },
    since: { type: 'string', minLength: 1 },
    until: { type: 'string', minLength: 1 },
    idColumn: { type: 'string', minLength: 1 },
    datetimeColumn: { type: 'string', minLength: 1 },
    missing: {
      type: 'object',
      additionalProperties: false,
      properties: {
        default: missingPolicySchema,
        columns: { type: 'object', additionalProperties: missingPolicySchema },
      },
    },
    batchSize: { type: 'integer', minimum: 1, maximum: 100000 },
    retries: { type: 'integer', minimum: 0, maximum: 100 },
    retryDelay: { type: 'number', minimum: 0 },
    timeout: { type: 'number', exclusiveMinimum: 0 },
    lockTimeout: { type: 'number', minimum: 0 },
    notifications: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://' },
          onCompletion: { type: 'boolean' },
          onFailure: { type: 'boolean' },
        },
      },
    },
    featureGroup: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' },
        version: { type: 'integer', minimum: 1 },
        description: { type: 'string', maxLength: 256 },
        onlineEnabled: { type: 'boolean' },
      },
    },
    featureView: {
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' },
            version: { type: 'integer', minimum: 1 },
            features: { type: 'array', items: { type: 'string' } },
          },
        },
      ],
    },
    hopsworks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        caFile: { type: 'string' },
        insecure: { type: 'boolean' },
        pollIntervalSeconds: { type: 'number', exclusiveMinimum: 0 },
        timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
        partRows: { type: 'integer', minimum: 1 },
        partBytes: { type: 'integer', minimum: 1024 },
      },
    },
    cron: { type: 'string' },
    timezone: { type: 'string', minLength: 1 },
    retention: {
      type: 'object',
      additionalProperties: false,
      properties: {
        keepRuns: { type: 'integer', minimum: 1, maximum: 100000 },
        keepDays: { type: 'number', minimum: 0 },
      },
    },
    log: { enum: ['text', 'json'] },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const
