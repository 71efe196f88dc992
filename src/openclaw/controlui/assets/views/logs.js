// Logs: the gateway's log file followed live (cursor reads every second), filtered by level.

import { Card, ErrorLine, html, useEffect, useRef, useState } from "../lib/ui.js";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];
const MAX_LINES = 2000;

function parse(line) {
  try {
    const rec = JSON.parse(line);
    return { time: rec.time || "", level: rec.level || "info", subsystem: rec.subsystem || "", message: rec.message ?? line };
  } catch {
    return { time: "", level: "info", subsystem: "", message: line };
  }
}

export function Logs({ client }) {
  const [lines, setLines] = useState([]);
  const [min, setMin] = useState("info");
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState(null);
  const cursor = useRef(null);
  const box = useRef(null);
  useEffect(() => {
    let alive = true;
    const tick = async () => {
      try {
        const res = await client.request("logs.tail", cursor.current == null ? { limit: 500 } : { cursor: cursor.current, limit: 500 });
        if (!alive) return;
        cursor.current = res.cursor;
        if (res.lines.length || res.reset) {
          setLines((old) => (res.reset ? [] : old).concat(res.lines.map(parse)).slice(-MAX_LINES));
        }
        setError(null);
      } catch (err) { if (alive) setError(err); }
    };
    tick();
    const timer = setInterval(tick, 1000);
    return () => { alive = false; clearInterval(timer); };
  }, [client]);
  useEffect(() => { if (follow && box.current) box.current.scrollTop = box.current.scrollHeight; }, [lines, follow, min]);
  const floor = LEVELS.indexOf(min);
  const shown = lines.filter((l) => LEVELS.indexOf(l.level) >= floor);
  return html`
    <h1>Logs</h1>
    <${ErrorLine} error=${error} />
    <${Card} title="Gateway log" id="logs" actions=${html`
      <label>Level <select value=${min} name="level" onChange=${(e) => setMin(e.target.value)}>
        ${LEVELS.map((l) => html`<option value=${l}>${l}+</option>`)}</select></label>
      <label><input type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)} /> follow</label>
      <button onClick=${() => setLines([])}>Clear</button>`}>
      <div class="logs" ref=${box} data-testid="log-lines">
        ${shown.length ? shown.map((l) => html`<div class=${`lvl-${l.level}`} data-level=${l.level}>${l.time.slice(11, 23)} ${l.level.toUpperCase().padEnd(5)} [${l.subsystem}] ${l.message}</div>`)
          : html`<div class="muted">No lines at ${min} or above yet.</div>`}
      </div>
    <//>`;
}
