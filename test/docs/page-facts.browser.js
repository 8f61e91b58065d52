// Runs inside the browser (page.evaluate of this file's text, see browser.test.ts): facts about the open page
// that make it readable. Plain JavaScript so the project's typecheck needs no DOM library.
(() => {
  const parse = (c) => (c.match(/[\d.]+/g) ?? []).map(Number)
  const lum = ([r = 0, g = 0, b = 0]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
  }
  // The first ancestor (or self) with an opaque-enough background.
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor)
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3)
    }
    return [255, 255, 255]
  }
  const lowContrast = []
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement
    if (!el || !n.textContent.trim() || el.closest('[aria-hidden="true"], .sr-only')) continue
    const a = lum(parse(getComputedStyle(el).color).slice(0, 3))
    const b = lum(background(el))
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
    if (ratio < 4.5) lowContrast.push({ ratio: Math.round(ratio * 100) / 100, text: n.textContent.trim().slice(0, 40) })
  }
  return {
    lang: document.documentElement.lang,
    scripts: document.querySelectorAll('script').length,
    levels: [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => Number(h.tagName[1])),
    unscopedHead: document.querySelectorAll('thead th:not([scope="col"])').length,
    unscopedRow: document.querySelectorAll('tbody th:not([scope="row"])').length,
    tables: document.querySelectorAll('table').length,
    captions: document.querySelectorAll('table > caption').length,
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    lowContrast,
  }
})()
