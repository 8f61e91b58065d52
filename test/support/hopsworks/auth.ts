/**
 * API keys as HW's ApiKeyFilter checks them (API.md section 1): the header
 * `Authorization: ApiKey <prefix>.<secret>`, the prefix looked up, the secret
 * compared as sha256(secret + salt), the scope of the endpoint required.
 * Every failure carries `WWW-Authenticate: Bearer realm="Cauth Realm"`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { fail } from './wire.ts'

export const ALL_SCOPES = ['PROJECT', 'FEATURESTORE', 'JOB', 'DATASET_CREATE', 'DATASET_VIEW', 'DATASET_DELETE', 'KAFKA', 'SERVING', 'USER'] as const
export type Scope = (typeof ALL_SCOPES)[number]

interface StoredKey {
  readonly salt: string
  readonly hash: string
  readonly scopes: ReadonlySet<string>
  readonly user: string
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="Cauth Realm"' }
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function randomText(n: number): string {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += ALPHABET[bytes[i]! % ALPHABET.length]
  return s
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export class ApiKeys {
  readonly #keys = new Map<string, StoredKey>()

  /** Makes a key (16-character prefix, 64-character secret) and returns it as the client sends it. */
  create(scopes: readonly string[] = ALL_SCOPES, user = 'meb10000'): string {
    const prefix = randomText(16)
    const secret = randomText(64)
    const salt = randomText(16)
    this.#keys.set(prefix, { salt, hash: sha256(secret + salt), scopes: new Set(scopes), user })
    return `${prefix}.${secret}`
  }

  /** Checks the Authorization header for an endpoint of `scope`; returns the key's user. Throws HwError. */
  check(header: string | undefined, scope: string): string {
    if (!header) fail('authHeaderNotSet', undefined, CHALLENGE)
    if (!header.startsWith('ApiKey ')) fail('invalidatedKey', undefined, CHALLENGE) // a Bearer JWT is not emulated
    const key = header.slice('ApiKey '.length)
    const dot = key.indexOf('.')
    if (dot < 0) fail('keyIncorrect', undefined, CHALLENGE)
    const stored = this.#keys.get(key.slice(0, dot))
    if (!stored) fail('keyNotFound', undefined, CHALLENGE)
    if (sha256(key.slice(dot + 1) + stored.salt) !== stored.hash) fail('keyIncorrect', undefined, CHALLENGE)
    if (!stored.scopes.has(scope)) fail('noScope', undefined, CHALLENGE)
    return stored.user
  }
}
