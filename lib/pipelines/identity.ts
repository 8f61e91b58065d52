/** The run record's `identity` entry: which key the stable ids came from. */
import { describeIdentity, type IdentityKey } from '../extract/identity.ts'
import type { IdentitySummary } from './summary.ts'

export function identitySummary(key: IdentityKey): IdentitySummary {
  return { kind: key.kind, columns: key.columns, description: describeIdentity(key) }
}
