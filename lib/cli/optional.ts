/**
 * Packages that only some commands need (optional peer dependencies, so that
 * a service embedding the streams, or the Docker image, does not carry them):
 * loading one that is not installed says which package to install.
 */
import { EtlError } from '../errors.ts'

/** True when `err` is Node's "cannot find package `name`" (ESM or CommonJS). */
export function isMissingPackage(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string } | undefined
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(`'${name}'`)
}

/** lib/scale (pg-boss), for `what` (`etl worker`, `etl run --partitions`). Throws ETL_CONFIG when pg-boss is missing. */
export async function loadScale(what: string): Promise<typeof import('../scale/index.ts')> {
  try {
    return await import('../scale/index.ts')
  } catch (err) {
    if (isMissingPackage(err, 'pg-boss')) throw new EtlError('ETL_CONFIG', `${what} needs the package pg-boss, which is not installed: npm install pg-boss`, { cause: err })
    throw err
  }
}
