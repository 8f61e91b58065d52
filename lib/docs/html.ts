/**
 * Safe HTML building for the data docs: every interpolated value is escaped
 * unless it is already `SafeHtml` (made by `html` itself or by `raw` for our
 * own constant markup). Values from records and data never reach `raw`.
 *
 *     html`<td>${value}</td>`     value escaped (strings, numbers, anything)
 *     html`<ul>${items.map(...)}</ul>`   arrays joined, each part escaped or safe
 */

/** Markup known to be safe. Only `html` and `raw` make it. */
export class SafeHtml {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }

  toString(): string {
    return this.value
  }
}

const entities: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c)
}

/** Interpolation: SafeHtml as is, arrays joined, null/undefined/false empty, anything else escaped as text. */
function part(value: unknown): string {
  if (value instanceof SafeHtml) return value.value
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) return value.map(part).join('')
  return escapeHtml(typeof value === 'string' ? value : String(value))
}

/** Tagged template producing SafeHtml; every `${...}` is escaped unless already SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: readonly unknown[]): SafeHtml {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? '')
  return new SafeHtml(out)
}

/** Our own constant markup (never data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup)
}
