/**
 * The timings of a run page: each task with its state, attempts (and the
 * error of each failed attempt, with the delay before the retry), start
 * offset, duration and a bar on the run's timeline; then hooks and webhook
 * deliveries when there were any.
 */
import type { RunRecord, TaskRunRecord } from '../flow/run-record.ts'
import { between, count, duration } from './format.ts'
import { html, type SafeHtml } from './html.ts'
import { num } from './read.ts'
import { stateStyle } from './plain-words.ts'

export function stateBadge(state: string): SafeHtml {
  const { cls, symbol } = stateStyle(state)
  return html`<span class="badge ${cls}"><span aria-hidden="true">${symbol} </span>${state}</span>`
}

function bar(task: TaskRunRecord, runStart: string, total: number | undefined): SafeHtml {
  const offset = between(runStart, task.start)
  const ms = num(task.durationMs) ?? between(task.start, task.end)
  if (!total || offset === undefined || ms === undefined) return html``
  const left = Math.min(100, Math.max(0, (offset / total) * 100))
  const width = Math.min(100 - left, Math.max(0, (ms / total) * 100))
  return html`<div class="timeline" aria-hidden="true"><span class="${task.state === 'Failed' ? 'failed' : ''}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></div>`
}

function attempts(task: TaskRunRecord): SafeHtml {
  // A single failed attempt is the task's error, shown in "What went wrong"; list attempts only when there were retries.
  const log = Array.isArray(task.attemptLog) ? task.attemptLog : []
  const failed = log.filter((a) => a.error)
  if (log.length < 2 || failed.length === 0) return html``
  return html`<ol class="attempts">${failed.map((a) => html`<li>attempt ${count(a.attempt)} failed after ${duration(a.durationMs)}: <code>${a.error?.code}</code> ${a.error?.message}${num(a.retryDelayMs) === undefined ? '' : html` (retried after ${duration(a.retryDelayMs)})`}</li>`)}</ol>`
}

/** The tasks table with a timeline, or a line saying there were none. */
export function timingsSection(record: RunRecord): SafeHtml {
  const tasks = Array.isArray(record.tasks) ? record.tasks : []
  const total = num(record.durationMs) ?? between(record.start, record.end)
  const table = tasks.length === 0
    ? html`<p class="muted">No task ran.</p>`
    : html`<div class="scroll"><table class="tasks">
<caption>Tasks in the order they started; the bar shows each on the run's timeline (${duration(total)})</caption>
<thead><tr><th scope="col">Task</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Started at</th><th scope="col" class="num">Duration</th><th scope="col">Timeline</th></tr></thead>
<tbody>${tasks.map((t) => html`<tr data-task="${t.name}"><th scope="row"><code>${t.name}</code>${t.cached ? html` <span class="muted">(from cache)</span>` : ''}${attempts(t)}</th><td>${stateBadge(t.state)}</td><td class="num">${count(t.attempts)}</td><td class="num">+${duration(between(record.start, t.start))}</td><td class="num">${duration(num(t.durationMs) ?? between(t.start, t.end))}</td><td>${bar(t, record.start, total)}</td></tr>`)}</tbody>
</table></div>`
  return html`<section aria-labelledby="timings-h">
<h2 id="timings-h">Timings</h2>
${table}
${hooksAndNotifications(record)}
</section>`
}

function hooksAndNotifications(record: RunRecord): SafeHtml {
  const hooks = Array.isArray(record.hooks) ? record.hooks : []
  const sent = Array.isArray(record.notifications) ? record.notifications : []
  return html`${hooks.length ? html`<h3>Hooks</h3><div class="scroll"><table><caption class="sr-only">State hooks called at the end of the run</caption>
<thead><tr><th scope="col">Hook</th><th scope="col">When</th><th scope="col">Outcome</th><th scope="col" class="num">Duration</th></tr></thead>
<tbody>${hooks.map((h) => html`<tr><th scope="row"><code>${h.name}</code></th><td>${h.hook}</td><td>${h.ok ? stateBadge('Completed') : html`${stateBadge('Failed')} <code>${h.error?.code}</code> ${h.error?.message}`}</td><td class="num">${duration(h.durationMs)}</td></tr>`)}</tbody></table></div>` : ''}
${sent.length ? html`<h3>Notifications</h3><div class="scroll"><table><caption class="sr-only">Webhook deliveries</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Duration</th></tr></thead>
<tbody>${sent.map((d) => html`<tr><th scope="row"><code>${d.target}</code></th><td>${d.event}</td><td>${d.ok ? stateBadge('Completed') : stateBadge('Failed')}${d.status === undefined ? '' : html` HTTP ${d.status}`}${d.error ? html` <code>${d.error.code}</code> ${d.error.message}` : ''}${d.signed ? html` <span class="muted">(signed)</span>` : ''}</td><td class="num">${count(d.attempts)}</td><td class="num">${duration(d.durationMs)}</td></tr>`)}</tbody></table></div>` : ''}`
}
