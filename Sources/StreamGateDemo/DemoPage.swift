/// The HTML page of the demo origin: a grid of `streams` tiles, each fed by its own EventSource, and a header that
/// shows the protocol the page was loaded over (`h2` through StreamGate's TLS listener).
enum DemoPage {
    static func html(streams: Int) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>StreamGate demo: \(streams) event streams</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 1.5rem; background: #f6f7f9; color: #222; }
          h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
          #summary { margin-bottom: 1rem; }
          #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr)); gap: .5rem; }
          .tile { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; padding: .4rem .5rem; }
          .tile.live { border-color: #2e9d5b; }
          .tile .name { color: #667; font-size: .8rem; }
          .tile .tick { font-size: 1.3rem; font-variant-numeric: tabular-nums; }
        </style>
        </head>
        <body>
        <h1>StreamGate demo</h1>
        <div id="summary">Page protocol: <b id="protocol">?</b> &middot;
          live streams: <b id="live">0</b> / \(streams) &middot; events received: <b id="events">0</b></div>
        <div id="grid"></div>
        <script>
          const count = \(streams);
          const nav = performance.getEntriesByType('navigation')[0];
          document.getElementById('protocol').textContent = nav ? nav.nextHopProtocol : 'unknown';
          const grid = document.getElementById('grid');
          const live = new Set();
          let events = 0;
          window.streamgateDemo = { live, count: () => events };
          for (let i = 0; i < count; i++) {
            const tile = document.createElement('div');
            tile.className = 'tile';
            tile.innerHTML = '<div class="name">stream ' + i + '</div><div class="tick">-</div>';
            grid.appendChild(tile);
            const source = new EventSource('/events/' + i);
            source.onmessage = (message) => {
              const data = JSON.parse(message.data);
              tile.querySelector('.tick').textContent = data.tick;
              tile.classList.add('live');
              live.add(i);
              events += 1;
              document.getElementById('live').textContent = live.size;
              document.getElementById('events').textContent = events;
            };
          }
        </script>
        </body>
        </html>
        """
    }
}
