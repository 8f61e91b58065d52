/**
 * After the commit nothing may turn a run into a failure that a caller would retry: what goes wrong then is a
 * warning, kept in the run record (`summary.warnings`, the run stays Completed, exit 0) and said on stderr.
 */
import type { FlowContext } from '../flow/index.ts'

export function warnAfterCommit(ctx: FlowContext, warn: ((m: string) => void) | undefined, message: string): void {
  const summary = ctx.summary as { warnings?: string[] }
  ctx.summarize('warnings', [...(summary.warnings ?? []), message])
  warn?.(`WARNING (the load is committed): ${message}`)
}
