import type { Registry } from "../prometheus/registry.ts";
import { isSelectable } from "../prometheus/collector.ts";

const htmlEscapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML content and attribute values. */
export function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => htmlEscapes[c]);
}

/**
 * The landing page at `/`: name, version, a link to the metrics and, per collector,
 * how its latest scrape went. Self-contained: no scripts, styles or images from
 * elsewhere.
 */
export function landingPage(o: { name: string; version: string; metricsPath: string; registry: Registry }): Response {
  const rows = o.registry.lastResults().filter((r) => isSelectable(r.collector)).map((r) => {
    const status = r.success === undefined ? "not scraped yet" : r.success ? "ok" : "failed";
    const duration = r.durationSeconds === undefined ? "–" : `${(r.durationSeconds * 1000).toFixed(3)} ms`;
    return `<tr><td>${escapeHTML(r.name)}</td><td>${status}</td><td>${duration}</td></tr>`;
  }).join("\n");
  const body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHTML(o.name)}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}</style></head>
<body>
<h1>${escapeHTML(o.name)}</h1>
<p>Version ${escapeHTML(o.version)}</p>
<p><a href="${
    escapeHTML(o.metricsPath)
  }">Metrics</a> · <a href="/-/healthy">Health</a> · <a href="/-/ready">Readiness</a></p>
<h2>Collectors</h2>
<table><tr><th>Collector</th><th>Last scrape</th><th>Duration</th></tr>
${rows || '<tr><td colspan="3">none registered</td></tr>'}
</table>
</body>
</html>
`;
  return new Response(body, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}
