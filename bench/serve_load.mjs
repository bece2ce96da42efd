// Calls per server: N simulated callers against one `banter serve`, or
// (the baseline) N `banter simulate --realtime` processes launched the same
// way, calls started A seconds apart ("stagger") or all at once ("burst").
// One phase per run; writes its figures as JSON. bench/serve_load.sh runs
// the phases and then `report` prints the table.
//
//   node bench/serve_load.mjs serve URL --pid PID --n N --pattern stagger|burst
//        [--stagger-s 2.5] [--caller F] [--turns 3] --json OUT
//   node bench/serve_load.mjs simulate BANTER --n N --pattern P [--stagger-s A]
//        --agent F --caller F --db F --trace-dir DIR [--max-s 21] --json OUT
//   node bench/serve_load.mjs report OUT.json... [--limit-ms 600]
//
// Client-side voice-to-voice is what call.mjs measures: the send time of the
// last speech sample of a turn to the arrival of the reply's first audio.
// Server figures come from /proc: VmRSS sampled every 100 ms (its peak, and
// per session: (peak - idle) / calls open at that peak) and utime+stime
// (CPU seconds per call over the phase; for a burst, also from connecting
// until every call has its session.created: the set-up).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { Events, readWav, resample, resampleSinc, silence, b64, sleep } from '../tests/clients/lib.mjs';

const require = createRequire(new URL('../tests/clients/package.json', import.meta.url));
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args.splice(i, 2)[1] : d; };
const mode = args.shift();
const T = 60000;
const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// ---- /proc ----
function procStatus(pid, key) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) / 1024 : null;   // MB
  } catch { return null; }
}
function procCpu(pid) {  // utime + stime, seconds
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch { return null; }
}

const pct = (a, p) => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.round(p / 100 * (s.length - 1)))];
};

// ---- one caller over the Realtime WebSocket (as tests/clients/call.mjs) ----
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'banter-load-'));
const rendered = new Map();
// Band-limited (windowed-sinc) resampling: lib.mjs's linear one leaves
// images of the voice above 8 kHz that the server's resampler folds back.
function say(text, voice) {
  const key = `${voice}|${text}`;
  if (rendered.has(key)) return rendered.get(key);
  const [prov, name] = (voice || 'flite:slt').split(':');
  const out = path.join(tmp, 'say.wav');
  if (prov === 'espeak') execFileSync('espeak-ng', ['-v', name || 'en-us', '-w', out, text]);
  else execFileSync('flite', ['-voice', name || 'slt', '-t', text, '-o', out]);
  const w = readWav(out);
  const pcm = (process.env.BT_LOAD_LINEAR ? resample : resampleSinc)(w.pcm, w.rate, 24000);
  rendered.set(key, pcm);
  return pcm;
}

// As lib.mjs's stream(), but LEAD_MS ahead of the real-time pace, as a
// client with a little buffer sends: the server then plays its FIFO at
// real time without running dry between two appends.
const LEAD_MS = Number(process.env.BT_LOAD_LEAD_MS ?? 0);
async function streamAhead(send, pcm, start = null, chunkMs = 100) {
  const n = 24 * chunkMs, t0 = start ?? Date.now();
  for (let i = 0; i < pcm.length; i += n) {
    const due = t0 + i / 24 - LEAD_MS - Date.now();
    if (due > 0) await sleep(due);
    send({ type: 'input_audio_buffer.append', audio: b64(pcm.subarray(i, i + n)) });
  }
  const end = t0 + pcm.length / 24 - Date.now();
  if (end > 0) await sleep(end);
  return t0;
}

async function oneCall(url, caller, state) {
  const rec = { v2v: [], v2v_clean: [], v2v_server: [], turns: [], replies: [], heard: [], sorry: 0, error: null };
  let counted = false;
  const ws = new WebSocket(url);
  const ev = new Events();
  const send = (o) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(o)); };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  try {
    await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
    await ev.waitType('session.created', T);
    state.open++;
    counted = true;
    state.created++;
    if (state.created === state.n) state.onAllCreated();
    let from = 0;
    const agentTurn = async (speechEnd) => {
      const d = await ev.wait((e) => e.type === 'response.done', T, 'the agent', from);
      const first = ev.find((e) => e.type === 'response.output_audio.delta' && e.response_id === d.response.id, from);
      const text = d.response.output[0]?.content[0]?.transcript ?? '';
      const turn = await ev.wait((e) => e.type === 'banter.turn', 5000, 'the turn trace', from).catch(() => null);
      rec.replies.push(text);
      const sorry = /sorry/i.test(text);
      if (sorry) rec.sorry++;
      if (speechEnd) rec.heard.push(`${turn?.turn?.user_text ?? '?'} (${(turn?.turn?.confidence ?? 0).toFixed(2)})${sorry ? ' -> reprompt' : ''}`);
      if (speechEnd && first) {
        rec.v2v.push(first._at - speechEnd);
        if (!sorry) rec.v2v_clean.push(first._at - speechEnd);
      }
      if (speechEnd && turn?.turn?.voice_to_voice_ms != null) rec.v2v_server.push(turn.turn.voice_to_voice_ms);
      if (speechEnd && turn?.turn) rec.turns.push({ ...turn.turn, client_v2v: first ? first._at - speechEnd : null });
      from = ev.list.length;
    };
    await agentTurn(null);  // the greeting
    for (let k = 0; k < caller.turns.length; k++) {
      await sleep(caller.gap_ms ?? 300);
      const audio = say(caller.turns[k].say, caller.voice);
      let last = audio.length - 1;
      while (last > 0 && Math.abs(audio[last]) < 300) last--;
      const t0 = await streamAhead(send, audio);
      const speechEnd = t0 + Math.round(last / 24);
      const trailing = streamAhead(send, silence(3000), t0 + audio.length / 24);
      await agentTurn(speechEnd);
      if (k < caller.turns.length - 1) await trailing;
    }
  } catch (e) {
    rec.error = String(e.message || e).slice(0, 200);
  }
  if (counted) state.open--;
  ws.close();
  return rec;
}

async function runServe() {
  const url = args[0];
  const pid = Number(opt('--pid'));
  const n = Number(opt('--n', 4)), pattern = opt('--pattern', 'stagger');
  const stagger = Number(opt('--stagger-s', 2.5)) * 1000;
  const caller = JSON.parse(fs.readFileSync(opt('--caller', 'callers/booking.json'), 'utf8'));
  caller.turns = caller.turns.slice(0, Number(opt('--turns', 3)));
  const jsonOut = opt('--json');
  for (const t of caller.turns) say(t.say, caller.voice);  // render before the clock starts

  const rssIdle = procStatus(pid, 'VmRSS'), cpu0 = procCpu(pid);
  const state = { n, open: 0, created: 0, onAllCreated: () => {} };
  let cpuSetup = null, rssSetup = null;
  state.onAllCreated = () => { cpuSetup = procCpu(pid) - cpu0; rssSetup = procStatus(pid, 'VmRSS'); };
  let peak = { rss: rssIdle, open: 0 };
  const sampler = setInterval(() => {
    const r = procStatus(pid, 'VmRSS');
    if (r !== null && r > peak.rss) peak = { rss: r, open: state.open };
  }, 100);
  const t0 = Date.now();
  const calls = [];
  for (let i = 0; i < n; i++) {
    if (pattern === 'stagger' && i) await sleep(t0 + i * stagger - Date.now());
    calls.push(oneCall(url, caller, state));
  }
  const recs = await Promise.all(calls);
  clearInterval(sampler);
  await sleep(300);  // the server's last frames of the calls
  let lateMs = null;  // the most a loop of the server ran late (wall clock)
  try {
    lateMs = (await (await fetch(url.replace(/^ws/, 'http').replace('/v1/realtime', '/healthz'))).json()).max_late_ms ?? null;
  } catch { /* an old server: no figure */ }
  const out = {
    loop_late_ms: lateMs,
    kind: 'serve', n, pattern, stagger_s: stagger / 1000, wall_s: (Date.now() - t0) / 1000,
    v2v: recs.flatMap((r) => r.v2v), v2v_clean: recs.flatMap((r) => r.v2v_clean),
    v2v_server: recs.flatMap((r) => r.v2v_server), turns: recs.map((r) => r.turns), heard: recs.flatMap((r) => r.heard), errors: recs.filter((r) => r.error).map((r) => r.error),
    sorry: recs.reduce((s, r) => s + r.sorry, 0), replies: recs.reduce((s, r) => s + r.replies.length, 0),
    rss_idle_mb: rssIdle, rss_peak_mb: peak.rss, open_at_peak: peak.open, rss_setup_mb: rssSetup,
    cpu_s: procCpu(pid) - cpu0, cpu_setup_s: cpuSetup,
  };
  fs.writeFileSync(jsonOut, JSON.stringify(out));
}

// ---- the baseline: one `banter simulate --realtime` process per call ----
async function runSimulate() {
  const banter = args[0];
  const n = Number(opt('--n', 4)), pattern = opt('--pattern', 'stagger');
  const stagger = Number(opt('--stagger-s', 2.5)) * 1000;
  const agent = opt('--agent', 'agents/restaurant.json'), callerPath = opt('--caller', 'callers/booking.json');
  const db = opt('--db'), dir = opt('--trace-dir'), maxS = opt('--max-s', '21');
  const jsonOut = opt('--json');
  const procs = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    if (pattern === 'stagger' && i) await sleep(t0 + i * stagger - Date.now());
    const trace = path.join(dir, `sim${i}.jsonl`);
    const c = spawn(banter, ['simulate', '--realtime', '--quiet', '--agent', agent, '--caller', callerPath,
      '--trace', trace, '--db', db, '--max-s', maxS], { stdio: ['ignore', 'ignore', 'pipe'] });
    const p = { trace, hwm: 0, cpu: 0, stderr: '', done: null };
    c.stderr.on('data', (d) => { p.stderr += d; });
    p.done = new Promise((res) => c.on('exit', (code) => res(code)));
    p.timer = setInterval(() => {
      const h = procStatus(c.pid, 'VmHWM'), u = procCpu(c.pid);
      if (h !== null) p.hwm = Math.max(p.hwm, h);
      if (u !== null) p.cpu = u;
    }, 50);
    procs.push(p);
  }
  const codes = await Promise.all(procs.map((p) => p.done));
  procs.forEach((p) => clearInterval(p.timer));
  const v2v = [], v2vClean = [];
  let sorry = 0, replies = 0;
  for (const p of procs) {
    if (!fs.existsSync(p.trace)) continue;
    for (const line of fs.readFileSync(p.trace, 'utf8').split('\n')) {
      if (!line) continue;
      const o = JSON.parse(line);
      if (o.type !== 'turn' || o.kind !== 'reply') continue;
      replies++;
      const miss = /sorry/i.test(o.agent_text || '');
      if (miss) sorry++;
      if (o.voice_to_voice_ms != null) v2v.push(o.voice_to_voice_ms);
      if (o.voice_to_voice_ms != null && !miss) v2vClean.push(o.voice_to_voice_ms);
    }
  }
  const out = {
    kind: 'simulate', n, pattern, stagger_s: stagger / 1000, wall_s: (Date.now() - t0) / 1000, v2v,
    // --max-s ends the call on purpose ("did not end normally (timeout)")
    errors: procs.filter((p, i) => codes[i] !== 0 && !/\(timeout\)/.test(p.stderr)).map((p) => p.stderr.slice(-200)),
    sorry, replies, v2v_clean: v2vClean,
    rss_proc_mb: procs.reduce((s, p) => s + p.hwm, 0) / n,
    cpu_s: procs.reduce((s, p) => s + p.cpu, 0),
  };
  fs.writeFileSync(jsonOut, JSON.stringify(out));
}

// ---- the table ----
function report() {
  const limit = Number(opt('--limit-ms', 600));
  const rows = args.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(d));
  const pp = (a) => `${f(pct(a ?? [], 50)).padStart(5)} ${f(pct(a ?? [], 95)).padStart(5)}`;
  console.log('voice-to-voice ms (p50 p95): all turns, turns heard right (no reprompt), server trace;');
  console.log('serve: at the WebSocket client; simulate: its trace. RSS MB, CPU s per call.');
  console.log(`${'pattern'.padEnd(8)} ${'N'.padStart(3)} ${'what'.padEnd(8)} ${'turns'.padStart(5)} ${'miss'.padStart(4)}` +
    `  ${'all p50/p95'.padStart(11)}  ${'heard-right'.padStart(11)}  ${'server'.padStart(11)}` +
    `  ${'RSS'.padStart(5)} ${'RSS/call'.padStart(8)} ${'CPU/call'.padStart(8)} ${'setupCPU'.padStart(8)} ${'late'.padStart(5)}`);
  const best = {};
  for (const pattern of ['stagger', 'burst']) {
    for (const r of rows.filter((x) => x.pattern === pattern).sort((a, b) => a.n - b.n || (a.kind < b.kind ? 1 : -1))) {
      const ok = (a) => pct(a, 95) != null && pct(a, 95) <= limit && !r.errors.length;
      for (const [k, a] of [['all', r.v2v], ['right', r.v2v_clean]])
        if (ok(a) && (best[`${r.kind} ${pattern} ${k}`] ?? 0) < r.n) best[`${r.kind} ${pattern} ${k}`] = r.n;
      const rss = r.kind === 'serve' ? r.rss_peak_mb : r.rss_proc_mb * r.n;
      const per = r.kind === 'serve' ? (r.open_at_peak ? (r.rss_peak_mb - r.rss_idle_mb) / r.open_at_peak : null) : r.rss_proc_mb;
      console.log(`${pattern.padEnd(8)} ${String(r.n).padStart(3)} ${r.kind.padEnd(8)} ${String(r.v2v.length).padStart(5)} ${String(r.sorry).padStart(4)}` +
        `  ${pp(r.v2v)}  ${pp(r.v2v_clean)}  ${r.kind === 'serve' ? pp(r.v2v_server) : pp(r.v2v)}` +
        `  ${f(rss).padStart(5)} ${f(per, 1).padStart(8)} ${f(r.cpu_s / r.n, 2).padStart(8)}` +
        ` ${f(r.cpu_setup_s != null && r.pattern === 'burst' ? r.cpu_setup_s / r.n : null, 2).padStart(8)}` +
        ` ${f(r.loop_late_ms).padStart(5)}`);
      for (const e of r.errors.slice(0, 2)) console.log(`    error: ${e}`);
    }
  }
  const sv = rows.find((r) => r.kind === 'serve');
  console.log('');
  console.log('miss: replies that were a reprompt ("Sorry, ...": the recogniser missed the turn).');
  console.log(`serve: RSS = the server's peak VmRSS; RSS/call = (peak - idle ${f(sv?.rss_idle_mb)} MB) / calls open at the`);
  console.log('peak; setupCPU (burst) = server CPU from the first connect until all N calls had session.created.');
  console.log('simulate: RSS/call = one process\'s peak (VmHWM), RSS = that x N. CPU/call: the whole call (utime+stime).');
  console.log('late (serve): the longest a server loop\'s 20 ms tick came late, ms (/healthz max_late_ms): a loop held up by');
  console.log('decoding; the client\'s own lateness (one node process streams every call) does not show in it.');
  console.log('');
  for (const pattern of ['stagger', 'burst']) {
    for (const k of ['all', 'right']) {
      const s = best[`serve ${pattern} ${k}`] ?? 0, b = best[`simulate ${pattern} ${k}`] ?? 0;
      console.log(`largest N with p95 <= ${limit} ms, ${pattern.padEnd(7)} (${k === 'all' ? 'all turns' : 'turns heard right'}):`.padEnd(58) +
        `serve ${s}, simulate ${b}` + (b ? `  (x${(s / b).toFixed(1)})` : ''));
    }
  }
  const ratio = (pattern) => {
    const both = rows.filter((r) => r.kind === 'serve' && r.pattern === pattern && r.open_at_peak)
      .map((r) => r.n).filter((n) => rows.some((r) => r.kind === 'simulate' && r.pattern === pattern && r.n === n));
    if (!both.length) return;
    const nmax = Math.max(...both);
    const a = rows.find((r) => r.kind === 'serve' && r.pattern === pattern && r.n === nmax);
    const b = rows.find((r) => r.kind === 'simulate' && r.pattern === pattern && r.n === nmax);
    const per = (a.rss_peak_mb - a.rss_idle_mb) / a.open_at_peak;
    console.log(`N=${nmax} ${pattern}: memory per call ${per.toFixed(1)} MB (serve) vs ${b.rss_proc_mb.toFixed(0)} MB (simulate), ` +
      `x${(b.rss_proc_mb / per).toFixed(1)}; CPU per call ${(a.cpu_s / a.n).toFixed(2)} s vs ${(b.cpu_s / b.n).toFixed(2)} s, ` +
      `x${((b.cpu_s / b.n) / (a.cpu_s / a.n)).toFixed(2)}`);
  };
  ratio('stagger');
  ratio('burst');
  if (process.env.BT_LOAD_HEARD)
    for (const r of rows.filter((x) => x.kind === 'serve')) console.log(`${r.pattern} ${r.n}: ${r.heard.join(' | ')}`);
}

try {
  if (mode === 'serve') await runServe();
  else if (mode === 'simulate') await runSimulate();
  else if (mode === 'report') report();
  else { console.error('usage: serve_load.mjs serve|simulate|report ...'); process.exitCode = 2; }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
setTimeout(() => process.exit(process.exitCode ?? 0), 50);
