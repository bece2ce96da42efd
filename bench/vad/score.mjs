// Score per-frame VAD decisions against the corpus ground truth and print
// the comparison table.
//
//   node bench/vad/score.mjs CORPUS_DIR RESULTS.jsonl [RESULTS.jsonl ...]
//
// Results files hold one line per corpus item:
//   {"file": ..., "frames": N, "dec": {SYSTEM: "0110..."}, "cpu_ns": {SYSTEM: ns}}
// (vad_eval writes "ours" and "ours_seg", peers.mjs "webrtc0".."webrtc3" and
// "silero"; a line with "meta" describes the run.)
//
// A 20 ms frame is speech when its centre lies inside a ground-truth speech
// interval. Onset delay: for each interval, from the true onset to the
// start of the first frame inside it decided speech (0 if that is the
// frame holding the onset); an interval with no such frame is a miss.
import fs from 'node:fs';
import path from 'node:path';

const FRAME_MS = 20;

const [corpusDir, ...resultFiles] = process.argv.slice(2);
if (!corpusDir || !resultFiles.length) {
  console.error('usage: node score.mjs CORPUS_DIR RESULTS.jsonl [...]');
  process.exit(2);
}

const readJsonl = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const corpus = readJsonl(path.join(corpusDir, 'corpus.jsonl'));
const results = new Map();   // file -> {frames, dec, cpu}
const meta = {};
for (const f of resultFiles) {
  for (const r of readJsonl(f)) {
    if (r.meta) { Object.assign(meta, r.meta); continue; }
    const cur = results.get(r.file) || { frames: r.frames, dec: {}, cpu: {} };
    if (cur.frames !== r.frames) throw new Error(`${r.file}: frame counts differ between result files`);
    Object.assign(cur.dec, r.dec);
    Object.assign(cur.cpu, r.cpu_ns);
    results.set(r.file, cur);
  }
}

const condOf = (it) => (it.echo ? 'echo' : it.noise === 'none' ? 'clean' : `${it.noise}${it.snr_db}`);
const CONDS = ['clean', 'white20', 'white10', 'white5', 'pink20', 'pink10', 'pink5',
  'babble20', 'babble10', 'babble5', 'echo'];
const NOISE_CONDS = CONDS.filter((c) => c !== 'echo');

function newAcc() {
  return { tp: 0, fp: 0, fn: 0, tn: 0, delays: [], misses: 0, onsets: 0, cpuNs: 0, frames: 0 };
}

// acc[system][group] with group = condition, category, or 'all'.
const acc = {};
const systems = new Set();
for (const r of results.values()) for (const s of Object.keys(r.dec)) systems.add(s);

function add(sys, group, it, dec, cpuNs) {
  acc[sys] ??= {};
  const a = (acc[sys][group] ??= newAcc());
  const n = dec.length;
  const truth = new Uint8Array(n);
  for (const [s, e] of it.speech) {
    for (let i = 0; i < n; i++) {
      const c = i * FRAME_MS + FRAME_MS / 2;
      if (c >= s && c < e) truth[i] = 1;
    }
  }
  for (let i = 0; i < n; i++) {
    const d = dec.charCodeAt(i) === 49;
    if (truth[i] && d) a.tp++;
    else if (d) a.fp++;
    else if (truth[i]) a.fn++;
    else a.tn++;
  }
  for (const [s, e] of it.speech) {
    a.onsets++;
    let found = -1;
    for (let i = 0; i < n; i++) {
      const c = i * FRAME_MS + FRAME_MS / 2;
      if (c < s) continue;
      if (c >= e) break;
      if (dec.charCodeAt(i) === 49) { found = i; break; }
    }
    if (found < 0) a.misses++;
    else a.delays.push(Math.max(0, found * FRAME_MS - s));
  }
  a.cpuNs += cpuNs;
  a.frames += n;
}

let scored = 0;
const missing = [];
for (const it of corpus) {
  const r = results.get(it.file);
  if (!r) { missing.push(it.file); continue; }
  scored++;
  for (const sys of systems) {
    const dec = r.dec[sys];
    if (dec === undefined) continue;
    const cpu = r.cpu[sys] || 0;
    add(sys, condOf(it), it, dec, cpu);
    add(sys, `cat:${it.category}`, it, dec, cpu);
    if (!it.echo) add(sys, 'noise-all', it, dec, cpu);
    add(sys, 'all', it, dec, cpu);
  }
}

function fig(a) {
  if (!a) return null;
  const p = a.tp + a.fp ? a.tp / (a.tp + a.fp) : 0;
  const r = a.tp + a.fn ? a.tp / (a.tp + a.fn) : 0;
  const f1 = p + r ? (2 * p * r) / (p + r) : 0;
  const onset = a.delays.length ? a.delays.reduce((x, y) => x + y, 0) / a.delays.length : NaN;
  const hours = (a.frames * FRAME_MS) / 3600e3;
  return { p, r, f1, onset, misses: a.misses, onsets: a.onsets, cpuMsH: a.cpuNs / 1e6 / hours,
    fpr: a.fp + a.tn ? a.fp / (a.fp + a.tn) : 0 };
}

// The WebRTC mode that scores best over all the noise conditions.
const modes = [0, 1, 2, 3].filter((m) => systems.has(`webrtc${m}`));
let bestMode = null;
for (const m of modes) {
  const f = fig(acc[`webrtc${m}`]['noise-all']);
  if (bestMode === null || f.f1 > fig(acc[`webrtc${bestMode}`]['noise-all']).f1) bestMode = m;
}
const WEBRTC = bestMode === null ? null : `webrtc${bestMode}`;

const pct = (v) => (v * 100).toFixed(1);
const f1s = (f) => (f ? `${pct(f.f1)} (${pct(f.p)}/${pct(f.r)})` : '-');
const num = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const ratio = (a, b) => (a !== undefined && b ? (a / b).toFixed(2) : '-');
const pad = (s, w) => String(s).padStart(w);
const padr = (s, w) => String(s).padEnd(w);

const main = [['ours', 'ours'], [WEBRTC ? `WebRTC m${bestMode}` : 'WebRTC', WEBRTC], ['Silero', 'silero']];

function row(label, group) {
  const f = main.map(([, sys]) => (sys && acc[sys] ? fig(acc[sys][group]) : null));
  const [o, w, s] = f;
  const onset = f.map((x) => (x ? `${num(x.onset)}${x.misses ? `(${x.misses})` : ''}` : '-')).join('/');
  const cpu = f.map((x) => (x ? num(x.cpuMsH) : '-')).join('/');
  return [label, f1s(o), f1s(w), f1s(s), onset, cpu,
    `${ratio(o?.f1, w?.f1)}/${ratio(o?.f1, s?.f1)}`,
    `${ratio(o?.cpuMsH, w?.cpuMsH)}/${ratio(o?.cpuMsH, s?.cpuMsH)}`];
}

function table(title, headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  console.log(title);
  console.log(headers.map((h, i) => (i ? pad(h, widths[i]) : padr(h, widths[i]))).join(' | '));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(r.map((c, i) => (i ? pad(c, widths[i]) : padr(c, widths[i]))).join(' | '));
  console.log();
}

const totalS = corpus.reduce((x, it) => x + it.duration_ms, 0) / 1000;
console.log(`VAD benchmark: ${scored} corpus items (${(totalS / 60).toFixed(1)} min of audio), 20 ms frames` +
  (missing.length ? `; ${missing.length} items have no results` : ''));
if (meta.webrtc) console.log(`  WebRTC: ${meta.webrtc}; mode ${bestMode} scores best (F1 over all noise conditions: ` +
  modes.map((m) => `m${m} ${pct(fig(acc[`webrtc${m}`]['noise-all']).f1)}`).join(', ') + ')');
if (meta.silero) console.log(`  Silero: ${meta.silero}, threshold ${meta.silero_threshold}`);
console.log('  ours: the "energy" provider, prob >= 0.5, frame by frame (no segmenter)');
console.log();

const H = ['condition', 'ours F1 (P/R) %', `${main[1][0]} F1 (P/R) %`, 'Silero F1 (P/R) %',
  'onset ms ours/W/S (missed)', 'CPU ms/h ours/W/S', 'F1 ours/W ours/S', 'CPU ours/W ours/S'];
const rows = CONDS.filter((c) => acc.ours?.[c]).map((c) => row(c, c));
rows.push(row('all noise', 'noise-all'));
table('Frame-level speech detection by condition (echo: clean + agent echo at -20 dB, no canceller)', H, rows);

const cats = ['pause', 'complete', 'backchannel', 'interruption'].filter((c) => acc.ours?.[`cat:${c}`]);
table('By category (all conditions)', H, cats.map((c) => row(c, `cat:${c}`)));

// Ours through the segmenter, next to the raw decisions.
if (acc.ours_seg) {
  const segRows = CONDS.concat(['noise-all']).filter((c) => acc.ours_seg[c]).map((c) => {
    const f = fig(acc.ours_seg[c]);
    return [c === 'noise-all' ? 'all noise' : c, f1s(f), `${num(f.onset)}${f.misses ? `(${f.misses})` : ''}`,
      pct(f.fpr), num(f.cpuMsH)];
  });
  table('Ours through the segmenter (bt_vadseg defaults: min speech 80 ms, hangover 60 ms)',
    ['condition', 'F1 (P/R) %', 'onset ms (missed)', 'false alarm %', 'CPU ms/h'], segRows);
}
