#!/usr/bin/env node
// deepgram_mock.mjs: a local server that speaks Deepgram's live streaming
// protocol, for the tests and the turn benchmark. It knows what was said
// instead of recognising it, so the engine's turn-taking can be measured
// on the right words (and on words wrong at a rate you set).
//
//   node tests/clients/deepgram_mock.mjs [--port N] [--key KEY]
//        [--script FILE] [--corpus DIR] [--wer P] [--seed N]
//        [--endpointing-ms MS] [--latency-ms MS] [--loop]
//        [--fail refuse|close-mid-utterance|silent] [--idle-close-ms MS]
//        [--junk]
//
// It prints `listening PORT` on stdout and serves on 127.0.0.1:
//   WS /v1/listen   Nova: Results (interim every ~250 ms of audio, is_final
//                   + speech_final after `endpointing` ms of silence, and at
//                   once on Finalize with from_finalize), SpeechStarted,
//                   UtteranceEnd, Metadata on CloseStream; KeepAlive kept.
//   WS /v2/listen   Flux: Connected, then TurnInfo events StartOfTurn,
//                   Update (~250 ms), EagerEndOfTurn (when
//                   eager_eot_threshold is set), TurnResumed, EndOfTurn.
//   GET /stats: how late the server's event loop ran (loop_lag_ms p50,
//     p95, p99, max; ?reset starts again), for benchmarks on a shared CPU.
//   GET /log        the connections so far (query, messages from the
//                   client, bytes of audio; `keepalive_ms`: when each
//                   KeepAlive came, and `audio_gaps`: [from, to] of each
//                   second or more without audio, in ms since the socket
//                   opened), as JSON.
//   --idle-close-ms: as Deepgram does after 10 s, close a socket that has
//                   had neither audio nor a text message for that long
//                   (1011, NET-0001; entry.closed "idle").
//
// What was said comes from:
//   --corpus DIR: a connection whose `tag` names a corpus item (the WAV's
//     name less .wav) gets that item's words, placed on its speech
//     segments (corpus.jsonl: text split at "[pause]", `speech` spans),
//     counted from where the item's first speech is heard (its first loud
//     frame: clean items only, the noisy ones have no quiet lead);
//   --script FILE: a JSON list of what the caller says, in order; each
//     region of speech found in the audio (energy, ended by 400 ms of
//     quiet) takes the next entry, or the next part of it when the entry
//     has "[pause]" markers (--loop: the list starts again at its end).
//   --latency-ms: every message leaves that much later (the network).
//   --junk: before each message, what a broken server might send: a text
//     frame that is not JSON, a JSON array, a binary frame, a message
//     without a type, Results with fields of the wrong types and words
//     with out-of-range numbers (before the utterance, a confidence of 7).
// Audio is 16-bit mono linear16 at the sample_rate asked for; times are
// seconds of audio received, as Deepgram's are.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { loopLag } from './lib.mjs';

function usage(msg) {
  if (msg) process.stderr.write(`deepgram_mock: ${msg}\n`);
  process.stderr.write('usage: node deepgram_mock.mjs [--port N] [--key KEY] [--script FILE] [--corpus DIR] ' +
    '[--wer P] [--seed N] [--endpointing-ms MS] [--latency-ms MS] [--fail refuse|close-mid-utterance|silent]\n');
  process.exit(2);
}

const o = { port: 0, key: null, script: null, corpus: null, wer: 0, seed: 1, endpointingMs: null,
            latencyMs: 0, fail: null, loop: false, junk: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = process.argv[i + 1];
  const num = () => { const n = Number(v); if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${a} needs a number`); i++; return n; };
  switch (a) {
    case '--port': o.port = num(); break;
    case '--key': if (!v) usage('--key needs a value'); o.key = v; i++; break;
    case '--script': if (!v) usage('--script needs a file'); o.script = v; i++; break;
    case '--corpus': if (!v) usage('--corpus needs a directory'); o.corpus = v; i++; break;
    case '--wer': o.wer = num(); if (o.wer > 1) usage('--wer is a fraction, 0 to 1'); break;
    case '--seed': o.seed = num(); break;
    case '--endpointing-ms': o.endpointingMs = num(); break;
    case '--latency-ms': o.latencyMs = num(); break;
    case '--loop': o.loop = true; break;
    case '--junk': o.junk = true; break;
    case '--idle-close-ms': o.idleCloseMs = num(); break;
    case '--fail':
      if (!['refuse', 'close-mid-utterance', 'silent'].includes(v)) usage('bad --fail');
      o.fail = v; i++; break;
    default: usage(`unknown argument ${a}`);
  }
}

const script = o.script ? JSON.parse(fs.readFileSync(o.script, 'utf8')) : null;
if (script && (!Array.isArray(script) || !script.every((s) => typeof s === 'string')))
  usage('--script must hold a JSON list of strings');
const corpus = new Map();
if (o.corpus) {
  for (const line of fs.readFileSync(path.join(o.corpus, 'corpus.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const it = JSON.parse(line);
    corpus.set(it.file.replace(/\.wav$/, ''), it);
  }
}

// ------------------------------------------------------------ words

// Deterministic PRNG (mulberry32) so a WER run is the same every time.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function hash(s) { let h = 2166136261; for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619); return h >>> 0; }

const SUBS = ['the', 'a', 'and', 'to', 'in', 'for', 'on', 'it', 'that', 'then', 'ten', 'day', 'way', 'say', 'free', 'tree'];

// Words as Deepgram writes them without smart_format: lower case, no
// punctuation, hyphenated words kept whole ("uh-huh").
function wordsOf(text) {
  return text.toLowerCase().replace(/[^a-z0-9'\- ]+/g, ' ').split(/\s+/)
    .map((w) => w.replace(/^-+|-+$/g, '')).filter(Boolean);
}

// Word error at rate p: substitutions and deletions, seeded per segment.
function corrupt(words, p, seedStr) {
  if (!p) return words.map((w) => ({ w, c: 0.97 }));
  const r = rng(hash(seedStr) ^ o.seed);
  const out = [];
  for (const w of words) {
    const x = r();
    if (x < p * 0.7) out.push({ w: SUBS[Math.floor(r() * SUBS.length)], c: 0.55 + r() * 0.3 });
    else if (x < p) continue;  // deleted
    else out.push({ w, c: 0.9 + r() * 0.09 });
  }
  return out;
}

// Spread a segment's words over [t0, t1] by their length.
function place(words, t0, t1) {
  const total = words.reduce((n, x) => n + x.w.length + 1, 0) || 1;
  let t = t0;
  return words.map((x) => {
    const d = (t1 - t0) * (x.w.length + 1) / total;
    const w = { word: x.w, start: +t.toFixed(3), end: +(t + d * 0.9).toFixed(3), confidence: +x.c.toFixed(3), punctuated_word: x.w };
    t += d;
    return w;
  });
}

// ------------------------------------------------------------ the server

const log = [];
const stats = loopLag();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/stats')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats(req.url)));
    return;
  }
  if (req.method === 'GET' && req.url === '/log') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(log));
    return;
  }
  res.writeHead(404); res.end();
});
const wss = new WebSocketServer({ noServer: true });

server.on('upgrade', (req, sock, head) => {
  const u = new URL(req.url, 'http://x');
  const auth = req.headers.authorization || '';
  const deny = (code, why) => {
    sock.write(`HTTP/1.1 ${code} ${why}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n` +
      JSON.stringify({ err_code: why.toUpperCase().replace(/ /g, '_'), err_msg: why }));
    sock.destroy();
  };
  if (o.fail === 'refuse') return deny(503, 'Service Unavailable');
  if (u.pathname !== '/v1/listen' && u.pathname !== '/v2/listen') return deny(404, 'Not Found');
  if (o.key && auth !== `Token ${o.key}`) return deny(401, 'Unauthorized');
  wss.handleUpgrade(req, sock, head, (ws) => session(ws, u));
});

function session(ws, u) {
  const q = u.searchParams;
  const flux = u.pathname === '/v2/listen';
  const rate = Number(q.get('sample_rate') || 16000);
  const endpointing = o.endpointingMs ?? Number(q.get('endpointing') || 10);
  const uttEndMs = Number(q.get('utterance_end_ms') || 0);
  const vadEvents = q.get('vad_events') === 'true';
  const interim = q.get('interim_results') === 'true';
  const eager = q.get('eager_eot_threshold') !== null;
  const entry = { path: u.pathname, query: Object.fromEntries(q), messages: [], audio_bytes: 0, closed: null,
    keepalive_ms: [], audio_gaps: [] };
  const opened = Date.now();
  let lastAudio = opened, idle = null;
  const alive = () => {
    if (!o.idleCloseMs) return;
    clearTimeout(idle);
    idle = setTimeout(() => { entry.closed = 'idle'; ws.close(1011, 'NET-0001'); }, o.idleCloseMs);
  };
  alive();
  log.push(entry);
  const tag = q.get('tag');
  const item = tag ? corpus.get(tag) : null;

  // segments: {start, end, words:[...], said, final, ...}; known up front
  // for a corpus item, found in the audio for a script
  const segs = [];
  if (item) {
    const parts = item.text.split('[pause]');
    item.speech.forEach(([a, b], i) => {
      const words = corrupt(wordsOf(parts[i] || ''), o.wer, `${tag}/${i}`);
      segs.push({ start: a / 1000, end: b / 1000, words: place(words, a / 1000, b / 1000), known: true });
    });
  }
  let aligned = !item;
  let scriptAt = 0, partAt = 0;
  let partMore = false;       // the part just taken has more after it
  const nextScriptPart = () => {
    if (script && o.loop && scriptAt >= script.length) scriptAt = 0;
    if (!script || scriptAt >= script.length) return '';
    const parts = script[scriptAt].split('[pause]');
    const t = parts[partAt] || '';
    partMore = partAt + 1 < parts.length;
    if (++partAt >= parts.length) { scriptAt++; partAt = 0; }
    return t;
  };

  let t = 0;                  // seconds of audio received
  let lastTick = 0;
  let speaking = null;        // script mode: the region being heard
  let quietSince = null;
  let finalizedTo = 0;        // words ending before this are final
  let lastWordEnd = 0, uttEndSent = true;
  let closed = false, broke = false;
  let turnIndex = 0, turnOpen = false, eagerSent = false;

  const JUNK = ['not json {', '[1, 2]', Buffer.from([0xde, 0xad]), '{"no_type": true}', '{"type": 42}',
    '{"type": "Results", "channel": "x", "is_final": "yes", "speech_final": 1}',
    '{"type": "Results", "channel": {"alternatives": [{"words": [{"word": 5}, {"word": "zzz", "start": -5, "end": -1, "confidence": 7}]}]}}',
    '{"type": "TurnInfo", "event": 3, "words": "x"}'];
  const send = (m) => {
    if (closed || broke || o.fail === 'silent') return;
    const s = JSON.stringify(m);
    const out = () => {
      if (ws.readyState !== 1) return;
      if (o.junk) for (const j of JUNK) ws.send(j, { binary: typeof j !== 'string' });
      ws.send(s);
    };
    if (o.latencyMs) setTimeout(out, o.latencyMs);
    else out();
  };
  const meta = { request_id: `mock-${log.length}`, model_info: { name: 'mock', version: '1', arch: 'mock' }, model_uuid: 'mock' };
  const results = (words, isFinal, speechFinal, fromFinalize, start, end) => {
    const m = {
      type: 'Results', channel_index: [0, 1], duration: +(end - start).toFixed(3), start: +start.toFixed(3),
      is_final: isFinal, speech_final: speechFinal,
      channel: { alternatives: [{ transcript: words.map((w) => w.word).join(' '),
        confidence: words.length ? +(words.reduce((s, w) => s + w.confidence, 0) / words.length).toFixed(3) : 0,
        words }] },
      metadata: meta,
    };
    if (fromFinalize) m.from_finalize = true;
    send(m);
  };
  if (flux) send({ type: 'Connected', request_id: meta.request_id, sequence_id: 0 });

  // the words heard so far (their start has been received), not final yet
  const pending = (upTo) => {
    const out = [];
    for (const s of segs) for (const w of s.words) if (w.start >= finalizedTo && w.start + 0.08 <= upTo) out.push(w);
    return out;
  };
  const finalize = (upTo, speechFinal, fromFinalize) => {
    const ws_ = pending(upTo);
    const start = finalizedTo;
    if (ws_.length) finalizedTo = ws_[ws_.length - 1].end + 0.001;
    if (ws_.length || fromFinalize) results(ws_, true, speechFinal, fromFinalize, start, Math.max(upTo, start));
    if (ws_.length) { lastWordEnd = ws_[ws_.length - 1].end; uttEndSent = false; }
  };

  const fluxTurn = () => {
    const ws_ = [];
    for (const s of segs) for (const w of s.words) if (w.start >= finalizedTo && w.start + 0.08 <= t) ws_.push(w);
    return ws_;
  };
  const turnInfo = (event, extra = {}) => {
    const words = fluxTurn();
    send({ type: 'TurnInfo', event, turn_index: turnIndex, audio_window_start: +finalizedTo.toFixed(3),
      audio_window_end: +t.toFixed(3), transcript: words.map((w) => w.word).join(' '),
      words: words.map((w) => ({ word: w.word, confidence: w.confidence })), end_of_turn_confidence: extra.conf ?? 0.1,
      sequence_id: 0 });
  };

  function onAudio(buf) {
    const n = Math.floor(buf.length / 2);
    entry.audio_bytes += buf.length;
    // script mode: find speech regions by energy, 20 ms at a time
    const step = Math.round(rate * 0.02);
    for (let i = 0; i + step <= n; i += step) {
      let e = 0;
      for (let k = 0; k < step; k++) { const v = buf.readInt16LE((i + k) * 2); e += v * v; }
      const loud = Math.sqrt(e / step) > 300;
      const now = t + (i + step) / rate;
      if (item && !aligned && loud) {
        // the item's audio starts where the client chose (after the
        // agent's greeting): its first loud frame is its first speech
        const off = now - 0.02 - item.speech[0][0] / 1000;
        for (const sg of segs) {
          sg.start += off; sg.end += off;
          for (const w of sg.words) { w.start = +(w.start + off).toFixed(3); w.end = +(w.end + off).toFixed(3); }
        }
        aligned = true;
      }
      if (script && !item) {
        if (loud && !speaking) {
          const text = nextScriptPart();
          speaking = { start: now - 0.02, text };
          segs.push({ start: speaking.start, end: Infinity, words: [], known: false, ref: speaking, more: partMore });
        }
        if (loud) quietSince = null;
        else if (speaking && quietSince === null) quietSince = now - 0.02;
        const seg = segs[segs.length - 1];
        if (speaking) {
          // words appear as the region goes on: placed over an estimate
          // of its length, re-placed on the real one when it ends
          const est = Math.max(0.4, wordsOf(speaking.text).length * 0.33);
          const end = quietSince !== null ? quietSince : Math.max(now, seg.start + est);
          seg.words = place(corrupt(wordsOf(speaking.text), o.wer, `${speaking.start}`), seg.start, quietSince !== null ? end : seg.start + est);
          if (quietSince !== null && now - quietSince >= 0.4) { seg.end = quietSince; speaking = null; quietSince = null; }
        }
      }
    }
    const t0 = t;
    t += n / rate;
    if (entry.audio_bytes === buf.length && o.fail === 'close-mid-utterance') entry.failArmed = true;
    tick(t0);
  }

  function tick(t0) {
    if (!aligned) return;
    for (const s of segs) {
      if (!s.announced && t >= s.start) {
        s.announced = true;
        if (vadEvents && !flux) send({ type: 'SpeechStarted', channel: [0, 1], timestamp: +s.start.toFixed(3) });
        if (flux && !turnOpen) { turnOpen = true; eagerSent = false; turnInfo('StartOfTurn'); }
        else if (flux && eagerSent) { eagerSent = false; turnInfo('TurnResumed'); }
        if (o.fail === 'close-mid-utterance' && !broke && s.words.length) {
          // half a second into the caller's words, the socket breaks
          setTimeout(() => { broke = true; entry.closed = 'broken'; ws.terminate(); }, 500);
        }
      }
    }
    if (flux) {
      if (turnOpen && t - lastTick >= 0.25) { lastTick = t; turnInfo('Update'); }
      const last = segs.filter((s) => s.start <= t).pop();
      if (turnOpen && last && t >= last.end) {
        const gap = t - last.end;
        // the turn goes on after this pause (the oracle's knowledge: the
        // corpus's next segment, or a script entry's "[pause]")
        const more = last.more || segs.some((s) => s.start > last.end && s.start - last.end < 2.0 && s.known);
        if (eager && !eagerSent && gap >= 0.15) { eagerSent = true; turnInfo('EagerEndOfTurn', { conf: 0.6 }); }
        if (gap >= (more ? 2.0 : 0.3)) {
          turnInfo('EndOfTurn', { conf: 0.9 });
          turnOpen = false; turnIndex++;
          finalizedTo = t;
        }
      }
      return;
    }
    if (interim && t - lastTick >= 0.25) {
      lastTick = t;
      const p = pending(t);
      if (p.length) results(p, false, false, false, finalizedTo, t);
    }
    // endpointing: silence after the last word heard
    const p = pending(t);
    if (p.length) {
      const lastEnd = p[p.length - 1].end;
      const seg = segs.find((s) => s.words.includes(p[p.length - 1]));
      const segDone = seg && (seg.known ? t >= seg.end : seg.end !== Infinity);
      if (segDone && t - Math.max(lastEnd, seg.end === Infinity ? lastEnd : seg.end) >= endpointing / 1000)
        finalize(t, true, false);
    }
    if (uttEndMs && !uttEndSent && t - lastWordEnd >= uttEndMs / 1000 && !pending(t).length) {
      uttEndSent = true;
      send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: +lastWordEnd.toFixed(3) });
    }
    void t0;
  }

  ws.on('message', (data, isBinary) => {
    const now = Date.now();
    alive();
    if (isBinary) {
      if (now - lastAudio >= 1000) entry.audio_gaps.push([lastAudio - opened, now - opened]);
      lastAudio = now;
      onAudio(Buffer.from(data));
      return;
    }
    let m;
    try { m = JSON.parse(data.toString()); } catch { entry.messages.push({ bad: data.toString().slice(0, 200) }); return; }
    entry.messages.push(m);
    if (m.type === 'KeepAlive') entry.keepalive_ms.push(now - opened);
    if (m.type === 'Finalize') {
      if (!flux) finalize(t, false, true);
    } else if (m.type === 'CloseStream') {
      send({ type: 'Metadata', transaction_key: 'deprecated', request_id: meta.request_id, sha256: '', created: new Date().toISOString(),
        duration: +t.toFixed(3), channels: 1 });
      closed = true;
      entry.closed = 'CloseStream';
      ws.close(1000);
    }
  });
  ws.on('close', () => { clearTimeout(idle); if (!entry.closed) entry.closed = 'client'; });
}

server.listen(o.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
const stop = () => { server.close(); wss.clients.forEach((c) => c.terminate()); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
