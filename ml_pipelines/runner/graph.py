"""`lakeml pipeline graph`: one self-contained HTML page of an execution's DAG, coloured by step status,
with per-step timings and metrics — the local counterpart of the SageMaker Studio pipeline graph.

The page embeds the execution record as JSON and draws it with a few lines of inline JavaScript into
SVG: no network, no external assets, opens from disk.
"""

from __future__ import annotations

import html
from pathlib import Path

from ml_pipelines.runner.record import ExecutionRecord

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>lakeml pipeline — __TITLE__</title>
<style>
 body { font: 14px system-ui, sans-serif; margin: 24px; color: #1f2328; }
 h1 { font-size: 18px; margin: 0 0 4px; } .meta { color: #57606a; margin-bottom: 16px; }
 .node rect { rx: 8; stroke-width: 2; } .node text { font-size: 12px; }
 .Succeeded rect { fill: #dafbe1; stroke: #1a7f37; } .Failed rect { fill: #ffebe9; stroke: #cf222e; }
 .Executing rect { fill: #ddf4ff; stroke: #0969da; } .NotExecuted rect { fill: #f6f8fa; stroke: #8c959f; stroke-dasharray: 4 3; }
 .edge { stroke: #8c959f; stroke-width: 1.5; fill: none; marker-end: url(#arrow); }
 table { border-collapse: collapse; margin-top: 16px; } td, th { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }
 .status-Failed { color: #cf222e; font-weight: 600; } .status-Succeeded { color: #1a7f37; }
</style></head>
<body>
<h1 id="title"></h1><div class="meta" id="meta"></div>
<svg id="dag" xmlns="http://www.w3.org/2000/svg"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5"
 markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs></svg>
<table id="steps"><thead><tr><th>step</th><th>type</th><th>status</th><th>seconds</th><th>metrics</th><th>detail</th></tr></thead><tbody></tbody></table>
<script id="execution" type="application/json">__DATA__</script>
<script>
(function () {
  const ex = JSON.parse(document.getElementById('execution').textContent);
  const byName = {}; (ex.steps || []).forEach(s => byName[s.name] = s);
  const names = Object.keys(ex.graph);
  const depth = {};
  function d(n, seen) { if (depth[n] !== undefined) return depth[n]; seen = seen || {}; if (seen[n]) return 0; seen[n] = 1;
    const ps = ex.graph[n] || []; depth[n] = ps.length ? 1 + Math.max(...ps.map(p => d(p, seen))) : 0; return depth[n]; }
  names.forEach(n => d(n));
  const layers = {}; names.slice().sort().forEach(n => (layers[depth[n]] = layers[depth[n]] || []).push(n));
  const W = 230, H = 58, GX = 60, GY = 26, pos = {};
  let maxRows = 0;
  Object.keys(layers).forEach(l => { layers[l].forEach((n, i) => pos[n] = {x: 20 + l * (W + GX), y: 20 + i * (H + GY)});
    maxRows = Math.max(maxRows, layers[l].length); });
  const svg = document.getElementById('dag'), ns = 'http://www.w3.org/2000/svg';
  svg.setAttribute('width', 40 + Object.keys(layers).length * (W + GX)); svg.setAttribute('height', 40 + maxRows * (H + GY));
  names.forEach(n => (ex.graph[n] || []).forEach(p => { const a = pos[p], b = pos[n]; const e = document.createElementNS(ns, 'path');
    e.setAttribute('class', 'edge'); e.setAttribute('d', `M ${a.x + W} ${a.y + H / 2} C ${a.x + W + GX / 2} ${a.y + H / 2}, ${b.x - GX / 2} ${b.y + H / 2}, ${b.x} ${b.y + H / 2}`);
    svg.appendChild(e); }));
  names.forEach(n => { const s = byName[n], status = s ? s.status : 'NotExecuted';
    const g = document.createElementNS(ns, 'g'); g.setAttribute('class', 'node ' + status); g.setAttribute('data-step', n);
    g.setAttribute('data-status', status); g.setAttribute('transform', `translate(${pos[n].x},${pos[n].y})`);
    const r = document.createElementNS(ns, 'rect'); r.setAttribute('width', W); r.setAttribute('height', H); g.appendChild(r);
    const t1 = document.createElementNS(ns, 'text'); t1.setAttribute('x', 10); t1.setAttribute('y', 22); t1.textContent = n; g.appendChild(t1);
    const t2 = document.createElementNS(ns, 'text'); t2.setAttribute('x', 10); t2.setAttribute('y', 42);
    t2.textContent = `${ex.types[n]} · ${status}${s && s.seconds != null ? ' · ' + s.seconds.toFixed(1) + ' s' : ''}`; g.appendChild(t2);
    const tip = document.createElementNS(ns, 'title'); tip.textContent = s && s.failure_reason ? s.failure_reason : status; g.appendChild(tip);
    svg.appendChild(g); });
  document.getElementById('title').textContent = `${ex.pipeline} — execution ${ex.execution_id}: ${ex.status}`;
  document.getElementById('meta').textContent = `started ${ex.started_at}` + (ex.ended_at ? `, ended ${ex.ended_at}` : '') +
    (ex.failure_reason ? ` — ${ex.failure_reason}` : '');
  const body = document.querySelector('#steps tbody');
  names.forEach(n => { const s = byName[n] || {status: 'NotExecuted'}; const tr = document.createElement('tr'); tr.setAttribute('data-step', n);
    const metrics = Object.entries(s.metrics || {}).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(4) : v}`).join(', ');
    const detail = s.failure_reason || (s.cache_hit ? 'cache hit (from ' + s.cached_from + ')' : '') ||
      (s.registered ? `registered ${s.registered.group} v${s.registered.version} (${s.registered.status})` : '') ||
      (s.outcome != null ? 'outcome: ' + s.outcome : '');
    [n, ex.types[n], s.status, s.seconds != null ? s.seconds.toFixed(2) : '', metrics, detail].forEach((v, i) => {
      const td = document.createElement('td'); td.textContent = v; if (i === 2) td.className = 'status-' + s.status; tr.appendChild(td); });
    body.appendChild(tr); });
  document.body.setAttribute('data-rendered', 'true');
})();
</script></body></html>
"""


def render(execution: ExecutionRecord) -> str:
    data = execution.model_dump_json().replace("</", "<\\/")  # never close the script tag early
    title = html.escape(f"{execution.pipeline} {execution.execution_id}")
    return PAGE.replace("__TITLE__", title).replace("__DATA__", data)


def write(execution: ExecutionRecord, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(execution))
    return path
