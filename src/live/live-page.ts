/** The live view's single page: the session statechart, a table of sessions and the event feed. */
export function livePage(options: { svg: string; nonce: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>tollkeeper · live</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #27272a; background: #fafafa; }
  header { padding: 10px 16px; background: #18181b; color: #fafafa; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  #status { font-size: 12px; color: #a1a1aa; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px; padding: 12px; }
  main > section:first-child { grid-column: 1 / -1; }
  section { background: #fff; border: 1px solid #e4e4e7; border-radius: 6px; padding: 10px; min-width: 0; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #71717a; margin: 0 0 8px; }
  #chart { overflow: auto; max-height: 75vh; }
  #chart svg { max-width: 100%; height: auto; }
  #chart .state.live > path, #chart .state.live > polygon { fill: #fde68a; stroke: #d97706; stroke-width: 3; }
  #chart .cluster.state.live > polygon, #chart .cluster.state.live > path { fill: #fffbeb; stroke: #d97706; stroke-width: 3; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #f4f4f5; }
  td.mac, td.state { font-family: ui-monospace, monospace; }
  .bar { width: 120px; height: 10px; background: #e4e4e7; border-radius: 5px; overflow: hidden; }
  .bar > div { height: 100%; background: #16a34a; }
  .bar.low > div { background: #dc2626; }
  #feed { list-style: none; margin: 0; padding: 0; font: 12px ui-monospace, monospace; max-height: 40vh; overflow: auto; }
  #feed li { padding: 2px 0; border-bottom: 1px solid #f4f4f5; }
  #feed .state { color: #b45309; }
  .empty { color: #a1a1aa; }
</style>
</head>
<body>
<header><h1>tollkeeper · live sessions</h1><span id="status">connecting…</span></header>
<main>
  <section><h2>Session statechart</h2><div id="chart">${options.svg}</div></section>
  <section><h2>Sessions</h2>
    <table><thead><tr><th>MAC</th><th>Gate</th><th>State</th><th>Metric</th><th>Used</th><th>Time left</th></tr></thead>
    <tbody id="sessions"><tr class="empty"><td colspan="6">no sessions</td></tr></tbody></table>
  </section>
  <section><h2>Events</h2><ul id="feed"></ul></section>
</main>
<script nonce="${options.nonce}">
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const status = document.getElementById('status');
  const tbody = document.getElementById('sessions');
  const feed = document.getElementById('feed');
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
  const amount = (n, metric) => metric === 'bytes'
    ? (n >= 1e6 ? (n / 1e6).toFixed(1) + ' MB' : n >= 1e3 ? (n / 1e3).toFixed(1) + ' kB' : n + ' B')
    : Math.round(n / 1000) + ' s';
  const duration = (ms) => ms === null ? '—' : ms >= 3600e3 ? (ms / 3600e3).toFixed(1) + ' h' : ms >= 60e3 ? Math.floor(ms / 60e3) + ' min ' + Math.round((ms % 60e3) / 1000) + ' s' : Math.round(ms / 1000) + ' s';

  function render(rows) {
    document.querySelectorAll('#chart .state.live').forEach((el) => el.classList.remove('live'));
    tbody.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement('tr'); tr.className = 'empty'; tr.append(cell('no sessions')); tr.firstChild.colSpan = 6; tbody.append(tr);
    }
    for (const row of rows) {
      for (const id of row.stateIds) document.getElementById('state-' + id)?.classList.add('live');
      const tr = document.createElement('tr');
      tr.dataset.mac = row.mac;
      tr.dataset.state = row.state;
      const used = document.createElement('td');
      const bar = document.createElement('div');
      bar.className = 'bar' + (row.fraction > 0.9 ? ' low' : '');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', '100');
      bar.setAttribute('aria-valuenow', String(Math.round(row.fraction * 100)));
      const fill = document.createElement('div');
      fill.style.width = (row.fraction * 100).toFixed(1) + '%';
      bar.append(fill);
      used.append(bar, document.createTextNode(amount(row.used, row.metric) + ' / ' + amount(row.allotment, row.metric)));
      tr.append(cell(row.mac, 'mac'), cell(row.gate ?? '—', 'gate'), cell(row.state, 'state'), cell(row.metric), used, cell(duration(row.timeLeftMs), 'left'));
      tbody.append(tr);
    }
  }

  function addFeed(entry) {
    const li = document.createElement('li');
    li.className = entry.kind;
    const time = new Date(entry.at).toLocaleTimeString();
    const detail = entry.detail && Object.keys(entry.detail).length > 0 ? ' ' + JSON.stringify(entry.detail) : '';
    li.textContent = time + ' ' + entry.mac + ' ' + (entry.kind === 'state' ? '→ ' : '') + entry.text + detail;
    feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
  }

  const events = new EventSource('events' + (token ? '?token=' + encodeURIComponent(token) : ''));
  events.addEventListener('open', () => { status.textContent = 'live'; });
  events.addEventListener('error', () => { status.textContent = 'reconnecting…'; });
  events.addEventListener('sessions', (e) => render(JSON.parse(e.data)));
  events.addEventListener('feed', (e) => addFeed(JSON.parse(e.data)));
})();
</script>
</body>
</html>
`;
}
