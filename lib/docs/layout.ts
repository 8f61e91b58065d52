/**
 * The page shell of the data docs: doctype, `lang`, a Content-Security-Policy
 * that allows no script and no fetch at all (inline styles only, so even a
 * value that escaped escaping could not run or call out), and the inline CSS.
 * Colours meet WCAG AA contrast (4.5:1 for text) in the light and the dark
 * scheme; outcomes are always written in words and symbols, never only in
 * colour.
 */
import { html, raw, type SafeHtml } from './html.ts'

const css = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--link:#0550ae;
--ok:#116329;--ok-bg:#dafbe1;--bad:#a40e26;--bad-bg:#ffebe9;--warn:#7d4e00;--warn-bg:#fff8c5;--accent:#0969da;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--panel:#161b22;--link:#79c0ff;
--ok:#7ee2a8;--ok-bg:#0f2d1c;--bad:#ffa198;--bad-bg:#3c1618;--warn:#f2cc60;--warn-bg:#3a2d0b;--accent:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1400px;margin:0 auto;padding:20px 28px 48px}
a{color:var(--link)}a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
h1{font-size:1.6rem;margin:.2em 0 .1em;overflow-wrap:anywhere}h2{font-size:1.25rem;margin:0 0 .4em}h3{font-size:1.05rem;margin:1em 0 .4em}
section{border-top:1px solid var(--line);padding:18px 0 8px}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px 12px;white-space:pre-wrap;overflow-wrap:anywhere;margin:.5em 0}
.muted{color:var(--muted)}.small{font-size:.875rem}.bad{color:var(--bad)}
.crumbs{font-size:.9rem;margin:0}
.sub{color:var(--muted);margin:0 0 12px}
.banner{display:flex;gap:14px;align-items:center;flex-wrap:wrap;border-radius:8px;padding:10px 14px;margin:10px 0 4px;border:1px solid var(--line);background:var(--panel)}
.banner.passed{background:var(--ok-bg);border-color:var(--ok)}.banner.failed{background:var(--bad-bg);border-color:var(--bad)}.banner.warn{background:var(--warn-bg);border-color:var(--warn)}
.banner .state{font-size:1.15rem;font-weight:700}
.banner.passed .state{color:var(--ok)}.banner.failed .state{color:var(--bad)}.banner.warn .state{color:var(--warn)}
.overview{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:6px 20px;margin:14px 0 0}
.overview div{min-width:0}.overview dt{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}.overview dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;white-space:nowrap;font-weight:600;font-size:.85rem;border-radius:999px;padding:1px 9px;border:1px solid}
.badge.passed{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}.badge.failed{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.badge.warn{color:var(--warn);background:var(--warn-bg);border-color:var(--warn)}.badge.neutral{color:var(--muted);background:var(--panel);border-color:var(--line)}
.verdict{font-size:1.02rem;margin:.2em 0 .4em}.verdict.passed strong{color:var(--ok)}.verdict.failed strong{color:var(--bad)}
.error-box{border-left:4px solid var(--bad);background:var(--bad-bg);padding:8px 14px;border-radius:0 6px 6px 0}
.error-box p{margin:.3em 0}.error-box .code{font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em;font-size:.92rem}
caption{text-align:left;color:var(--muted);font-size:.85rem;padding:0 0 4px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
thead th{background:var(--panel);font-size:.82rem;color:var(--muted);font-weight:600;white-space:nowrap;border-bottom:2px solid var(--line)}
tbody th{font-weight:400}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.columns{width:auto;min-width:min(100%,40em)}
table.expectations td:first-child{width:2.5em}
table.expectations tbody th{min-width:14em;max-width:22em}table.expectations td:nth-child(4){min-width:15em}
table.expectations tr.failed{background:var(--bad-bg)}
table.expectations tr.failed > td:first-child{box-shadow:inset 4px 0 0 var(--bad)}
.label{display:block;font-weight:600;overflow-wrap:anywhere}.type{display:block;color:var(--muted);font-size:12px;overflow-wrap:anywhere}
dl.kwargs{margin:0;display:grid;grid-template-columns:auto 1fr;gap:2px 8px}dl.kwargs div{display:contents}
dl.kwargs dt{color:var(--muted);font-size:.82rem;white-space:nowrap}dl.kwargs dd{margin:0;min-width:0;overflow-wrap:anywhere}
ul.counts{list-style:none;margin:0;padding:0;white-space:nowrap}ul.counts li.bad{color:var(--bad)}
ul.chips{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px;max-width:28em}
ul.chips li{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:0 6px;max-width:100%;overflow-wrap:anywhere}
ul.chips li.more{border-style:dashed;color:var(--muted)}
.times{color:var(--muted);font-size:.8rem}
code.value{white-space:pre-wrap;overflow-wrap:anywhere}
.where{margin:.3em 0 0;font-size:.85rem;color:var(--muted);overflow-wrap:anywhere}
.exception{margin:.2em 0;color:var(--bad);overflow-wrap:anywhere}
details summary{cursor:pointer;color:var(--link)}
.suite{font-weight:400;color:var(--muted)}
figure.flow{margin:8px 0 4px}
ol.flow{list-style:none;display:flex;flex-wrap:wrap;gap:14px 44px;padding:0;margin:0}
ol.flow > li{position:relative;min-width:150px;border:2px solid var(--accent);border-radius:8px;padding:8px 12px;background:var(--panel)}
ol.flow > li:not(:last-child)::after{content:"";position:absolute;top:50%;right:-38px;width:30px;border-top:2px solid var(--fg)}
ol.flow > li:not(:last-child)::before{content:"";position:absolute;top:calc(50% - 5px);right:-40px;border:6px solid transparent;border-left:8px solid var(--fg);border-right:0}
ol.flow > li.none{border-style:dashed;border-color:var(--line)}
ol.flow > li.stopped{border-color:var(--bad)}
.flow .stage{display:block;font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.flow .rows{display:block;font-size:1.5rem;font-weight:700;font-variant-numeric:tabular-nums}
.flow .aside{display:block;font-size:.85rem;color:var(--muted)}.flow .aside.bad{color:var(--bad)}
figcaption{color:var(--muted);font-size:.85rem;margin-top:8px}
.timeline{position:relative;height:14px;min-width:160px;background:var(--panel);border:1px solid var(--line);border-radius:3px}
.timeline span{position:absolute;top:0;bottom:0;background:var(--accent);border-radius:2px;min-width:2px}
.timeline span.failed{background:var(--bad)}
ol.attempts{margin:.3em 0 0;padding-left:1.2em;font-size:.85rem}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
table.runs td,table.runs th{white-space:nowrap}table.runs td.outcome{white-space:normal;min-width:10em}
table.runs td.state{white-space:normal;max-width:14em}table.runs td.state .badge{margin:0 0 3px}
.detail{display:block;font-size:.85rem}
svg.chart{display:block;max-width:100%;height:auto}svg.chart g{fill:var(--accent)}svg.chart line{stroke:var(--line)}svg.chart text{fill:var(--muted);font-size:11px}.axis{display:block}
svg.drift{display:block;max-width:100%;height:auto}svg.drift .observed{fill:none;stroke:var(--accent);stroke-width:1.5}svg.drift .bound{stroke:var(--muted);stroke-dasharray:4 3}svg.drift .band{fill:var(--ok-bg)}svg.drift circle.ok{fill:var(--accent)}svg.drift circle.failed{fill:var(--bg);stroke:var(--bad);stroke-width:1.5}
footer{color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);margin-top:16px;padding-top:8px}
@media (max-width:800px){main{padding:12px}ol.flow{gap:12px 36px}}
`

/** A complete HTML document: `<title>` and `<main>` content, with the inline style and a script-free CSP. */
export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="generator" content="prostate-etl">
<title>${title}</title>
<style>${raw(css)}</style>
</head>
<body>
<main>
${body}
<footer>Written by prostate-etl from the run records of its data folder. Static page: no script, no network.</footer>
</main>
</body>
</html>
`.value
}
