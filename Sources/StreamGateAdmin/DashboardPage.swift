/// `GET /`: the live dashboard, one self-contained page (inline CSS and JS, no external assets). Totals and rates
/// come from the `/events` summary stream (read with `fetch`, so it can carry the token); the table pages
/// through `/connections` (50 connections a page, sorted by age or idle, filtered by kind), so it stays usable
/// at tens of thousands of streams.
enum DashboardPage {
    static let html = Array(text.utf8)

    static let text = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>StreamGate admin</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
        header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:center}
        header h1{font-size:17px;margin:0;font-weight:600}
        #status{font-size:12px;opacity:.8}
        main{padding:14px 18px;display:grid;gap:14px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px}
        .card{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0001}
        .card b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
        .card span{font-size:12px;color:#667}
        section{overflow-x:auto;background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0001}
        h2{font-size:14px;margin:0 0 8px}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef;white-space:nowrap;font-size:13px}
        tr.conn td{background:#f0f3f8;font-weight:600}
        .controls{display:flex;gap:8px;align-items:center;margin-bottom:8px}
        canvas{width:100%;height:140px}
        #token{display:none;gap:6px;align-items:center}
        </style></head>
        <body>
        <header><h1>StreamGate</h1><span id="status">connecting…</span>
        <span id="token"><input id="token-input" type="password" placeholder="admin token"><button id="token-save">use</button></span></header>
        <main>
        <div class="cards">
        <div class="card"><b id="connections-count">0</b><span>connections</span></div>
        <div class="card"><b id="streams-sse">0</b><span>SSE streams</span></div>
        <div class="card"><b id="streams-websocket">0</b><span>WebSockets</span></div>
        <div class="card"><b id="streams-http">0</b><span>HTTP streams</span></div>
        <div class="card"><b id="events-rate">0</b><span>events/s</span></div>
        <div class="card"><b id="heartbeats-rate">0</b><span>heartbeats/s</span></div>
        <div class="card"><b id="bytes-rate">0</b><span>bytes/s out</span></div>
        </div>
        <section><h2>Events and heartbeats per second (last 2 minutes)</h2><canvas id="chart" width="1200" height="140"></canvas></section>
        <section><h2>Streams by route</h2><table><thead><tr><th>route</th><th>kind</th><th>streams</th></tr></thead><tbody id="route-rows"></tbody></table></section>
        <section><h2>Connections and streams</h2>
        <div class="controls">
        <label>kind <select id="kind"><option value="">all</option><option>sse</option><option>websocket</option><option>http</option></select></label>
        <label>sort <select id="sort"><option value="age">age</option><option value="idle">idle</option><option value="id">id</option></select></label>
        <button id="prev">‹ prev</button><span id="page">page 1</span><button id="next">next ›</button><span id="total"></span>
        </div>
        <table><thead><tr><th>conn / stream</th><th>client / kind</th><th>protocol / path</th><th>route</th><th>upstream</th><th>age</th><th>idle</th><th>events</th><th>heartbeats</th><th>last id</th><th>state</th></tr></thead>
        <tbody id="stream-rows"></tbody></table></section>
        </main>
        <script>
        "use strict";
        const pageSize = 50;
        let offset = 0, total = 0, last = null;
        const history = [];
        const $ = (id) => document.getElementById(id);
        function headers() {
          const token = sessionStorage.getItem("streamgate-token");
          return token ? {Authorization: "Bearer " + token} : {};
        }
        function needToken() { $("token").style.display = "flex"; $("status").textContent = "token required"; }
        $("token-save").onclick = () => { sessionStorage.setItem("streamgate-token", $("token-input").value); location.reload(); };
        function duration(ms) {
          if (ms < 1000) return ms + " ms";
          const s = ms / 1000;
          if (s < 120) return s.toFixed(1) + " s";
          if (s < 7200) return (s / 60).toFixed(1) + " min";
          return (s / 3600).toFixed(1) + " h";
        }
        function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td; }
        function draw() {
          const canvas = $("chart"), g = canvas.getContext("2d");
          canvas.dataset.points = history.length;
          g.clearRect(0, 0, canvas.width, canvas.height);
          const max = Math.max(1, ...history.map((p) => Math.max(p.events, p.heartbeats)));
          const series = [["events", "#2f6fde"], ["heartbeats", "#de8c2f"]];
          for (const [key, color] of series) {
            g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
            history.forEach((p, i) => {
              const x = canvas.width - (history.length - 1 - i) * (canvas.width / 120);
              const y = canvas.height - 4 - (p[key] / max) * (canvas.height - 12);
              i === 0 ? g.moveTo(x, y) : g.lineTo(x, y);
            });
            g.stroke();
          }
          g.fillStyle = "#667"; g.fillText("max " + max.toFixed(0) + "/s", 4, 12);
        }
        function summary(s) {
          $("status").textContent = "live · " + s.time;
          $("connections-count").textContent = s.connections;
          $("streams-sse").textContent = s.streams.sse || 0;
          $("streams-websocket").textContent = s.streams.websocket || 0;
          $("streams-http").textContent = s.streams.http || 0;
          if (last) {
            const seconds = Math.max(0.001, (Date.parse(s.time) - Date.parse(last.time)) / 1000);
            const point = {events: Math.max(0, s.events - last.events) / seconds, heartbeats: Math.max(0, s.heartbeats - last.heartbeats) / seconds};
            $("events-rate").textContent = point.events.toFixed(1);
            $("heartbeats-rate").textContent = point.heartbeats.toFixed(1);
            $("bytes-rate").textContent = (Math.max(0, s.bytes_out - last.bytes_out) / seconds).toFixed(0);
            history.push(point);
            if (history.length > 120) history.shift();
            draw();
          }
          last = s;
          const rows = $("route-rows");
          rows.replaceChildren();
          for (const r of s.routes) { const tr = document.createElement("tr"); cell(tr, r.route); cell(tr, r.kind); cell(tr, r.streams); rows.appendChild(tr); }
        }
        async function follow() {
          try {
            const response = await fetch("/events", {headers: headers()});
            if (response.status === 401) return needToken();
            const reader = response.body.getReader(), decoder = new TextDecoder();
            let buffer = "";
            for (;;) {
              const {value, done} = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, {stream: true});
              let end;
              while ((end = buffer.indexOf("\\n\\n")) >= 0) {
                const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
                const data = block.split("\\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\\n");
                if (data) summary(JSON.parse(data));
              }
            }
          } catch (error) { $("status").textContent = "disconnected: " + error; }
          setTimeout(follow, 2000);
        }
        async function table() {
          const kind = $("kind").value, sort = $("sort").value;
          const query = "limit=" + pageSize + "&offset=" + offset + "&sort=" + sort + (kind ? "&kind=" + kind : "");
          try {
            const response = await fetch("/connections?" + query, {headers: headers()});
            if (response.status === 401) return needToken();
            const list = await response.json();
            total = list.total;
            $("total").textContent = total + " connections";
            $("page").textContent = "page " + (Math.floor(offset / pageSize) + 1) + " of " + Math.max(1, Math.ceil(total / pageSize));
            const rows = $("stream-rows");
            rows.replaceChildren();
            for (const c of list.connections) {
              const tr = document.createElement("tr"); tr.className = "conn"; tr.dataset.connection = c.id;
              cell(tr, "#" + c.id); cell(tr, c.client); cell(tr, (c.protocol || "?") + (c.tls ? " tls" : "")); cell(tr, c.listener);
              cell(tr, ""); cell(tr, duration(c.age_ms)); cell(tr, ""); cell(tr, ""); cell(tr, ""); cell(tr, ""); cell(tr, c.streams.length + " streams");
              rows.appendChild(tr);
              for (const s of c.streams) {
                const row = document.createElement("tr"); row.className = "stream"; row.dataset.kind = s.kind;
                cell(row, "  " + s.id); cell(row, s.kind); cell(row, s.method + " " + s.path); cell(row, s.route_name || s.route);
                cell(row, s.upstream.name + (s.upstream.address ? " " + s.upstream.address : "")); cell(row, duration(s.age_ms));
                cell(row, duration(s.idle_ms)); cell(row, s.events); cell(row, s.heartbeats); cell(row, s.last_event_id ?? ""); cell(row, s.state);
                rows.appendChild(row);
              }
            }
          } catch (error) { $("status").textContent = "table: " + error; }
        }
        $("prev").onclick = () => { offset = Math.max(0, offset - pageSize); table(); };
        $("next").onclick = () => { if (offset + pageSize < total) offset += pageSize; table(); };
        $("kind").onchange = () => { offset = 0; table(); };
        $("sort").onchange = () => { offset = 0; table(); };
        follow();
        table();
        setInterval(table, 2000);
        </script></body></html>

        """
}
