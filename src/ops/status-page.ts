/**
 * The status page: one self-contained HTML document (no external assets, so it works on
 * an air-gapped host) that polls `status.json` beside it and redraws. The figures come
 * from ProxyMetrics.snapshot(), the same numbers /metrics exports. Keys are inserted with
 * textContent only, never as HTML.
 */

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>s3proxy status</title>
<link rel="icon" href="data:,"><!-- no favicon request: it would go down the S3 pipeline and be counted -->
<style>
  :root { --bg: #0f1419; --card: #1a2129; --fg: #e6e9ed; --muted: #8a96a3; --accent: #4fb3ff; --good: #5ad17a; --warn: #f0b450; }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 24px; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { display: flex; align-items: baseline; gap: 12px; margin-bottom: 20px; }
  h1 { font-size: 20px; margin: 0; font-weight: 600; }
  h2 { font-size: 13px; margin: 0 0 8px; color: var(--muted); font-weight: 500; text-transform: uppercase; letter-spacing: .05em; }
  .muted { color: var(--muted); }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 16px; margin-bottom: 16px; }
  .card { background: var(--card); border-radius: 10px; padding: 16px 18px; }
  .big { font-size: 32px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .small { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
  .bar { height: 8px; background: #2a333d; border-radius: 4px; overflow: hidden; margin-top: 10px; }
  .bar > div { height: 100%; background: var(--accent); width: 0; transition: width .4s; }
  svg { width: 100%; height: 40px; margin-top: 6px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #2a333d; }
  th:last-child, td:last-child { text-align: right; width: 90px; }
  td.object { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
  #error { color: var(--warn); }
</style>
</head>
<body>
<header><h1>s3proxy</h1><span class="muted" id="version"></span><span class="muted" id="updated">loading…</span><span id="error"></span></header>
<div class="grid">
  <div class="card"><h2>Cache hit ratio</h2><div class="big" id="hit-ratio">–</div><div class="small" id="lookups"></div></div>
  <div class="card"><h2>Bytes saved</h2><div class="big" id="bytes-saved">–</div><div class="small"><span id="bytes-saved-exact"></span> bytes served from cache</div></div>
  <div class="card"><h2>Request rate</h2><div class="big" id="request-rate">–</div><svg id="spark" viewBox="0 0 60 40" preserveAspectRatio="none"><polyline fill="none" stroke="#4fb3ff" stroke-width="1.5" vector-effect="non-scaling-stroke" points=""/></svg></div>
  <div class="card"><h2>Requests</h2><div class="big" id="requests-total">–</div><div class="small"><span id="in-flight"></span> in flight · up <span id="uptime"></span></div></div>
</div>
<div class="grid">
  <div class="card"><h2>Memory cache</h2><div id="cache-used">–</div><div class="bar"><div id="cache-bar"></div></div><div class="small" id="cache-detail"></div></div>
</div>
<div class="card"><h2>Top objects by cache hits</h2>
  <table><thead><tr><th>object</th><th>hits</th></tr></thead><tbody id="top-objects"></tbody></table>
</div>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const interval = Number(new URLSearchParams(location.search).get("interval")) || 2000;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  const human = (n) => { let i = 0; while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : String(n)) + " " + units[i]; };
  const int = (n) => Math.round(n).toLocaleString("en-US");
  const rates = [];
  let last;
  let updates = 0;
  function draw(s) {
    const now = performance.now();
    const c = s.cache;
    const lookups = c.hits + c.misses + c.partialHits;
    $("version").textContent = "v" + s.version;
    $("hit-ratio").textContent = c.enabled ? (c.hitRatio * 100).toFixed(1) + " %" : "cache off";
    $("lookups").textContent = int(c.hits) + " hits · " + int(c.partialHits) + " partial · " + int(c.misses) + " misses";
    $("bytes-saved").textContent = human(c.bytesFromCache);
    $("bytes-saved-exact").textContent = int(c.bytesFromCache);
    $("requests-total").textContent = int(s.requests);
    $("in-flight").textContent = int(s.inFlight);
    $("uptime").textContent = s.uptimeSeconds < 3600 ? Math.floor(s.uptimeSeconds / 60) + " min" : (s.uptimeSeconds / 3600).toFixed(1) + " h";
    if (last) {
      const rate = (s.requests - last.requests) / ((now - last.at) / 1000);
      $("request-rate").textContent = rate.toFixed(1) + " req/s";
      rates.push(rate);
      if (rates.length > 60) rates.shift();
      const max = Math.max(1, ...rates);
      $("spark").firstElementChild.setAttribute("points", rates.map((r, i) => (i * 60 / 59).toFixed(1) + "," + (38 - r / max * 36).toFixed(1)).join(" "));
    } else {
      $("request-rate").textContent = "… req/s";
    }
    last = { requests: s.requests, at: now };
    $("cache-used").textContent = c.enabled ? human(c.usedBytes) + " of " + human(c.limitBytes) : "caching off";
    $("cache-bar").style.width = (c.limitBytes ? Math.min(100, c.usedBytes / c.limitBytes * 100) : 0) + "%";
    $("cache-detail").textContent = int(c.evictions) + " evictions · " + human(c.bytesFromUpstream) + " from the backend";
    const rows = s.topObjects.map((o) => {
      const tr = document.createElement("tr");
      const name = document.createElement("td"); name.className = "object"; name.textContent = o.object;
      const hits = document.createElement("td"); hits.textContent = int(o.hits);
      tr.append(name, hits);
      return tr;
    });
    if (!rows.length) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.colSpan = 2; td.className = "muted"; td.textContent = s.topObjectsHidden ? "object names are shown on --metrics-port only while clients must authenticate" : "no cache hits yet"; tr.append(td); rows.push(tr); }
    $("top-objects").replaceChildren(...rows);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("error").textContent = "";
    document.body.dataset.updates = String(++updates);
  }
  async function tick() {
    try {
      const res = await fetch("status.json", { cache: "no-store" });
      if (!res.ok) throw new Error("status.json answered " + res.status);
      draw(await res.json());
    } catch (err) {
      $("error").textContent = "· " + err.message;
    }
    setTimeout(tick, interval);
  }
  tick();
})();
</script>
</body>
</html>
`;
