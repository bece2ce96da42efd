#!/usr/bin/env node
// elevenlabs_mock.mjs: a local server that speaks ElevenLabs' multi-context
// text-to-speech WebSocket, for the tests.
//
//   node tests/clients/elevenlabs_mock.mjs [--port N] [--key KEY]
//        [--first-ms MS] [--pace-ms MS] [--fail-from N] [--refuse]
//        [--junk-from N] [--bad-audio-at N]
//
// It prints `listening PORT` and serves on 127.0.0.1:
//   WS /v1/text-to-speech/VOICE/multi-stream-input?model_id=..&output_format=pcm_16000
//     client: {"text", "context_id", "flush"}, {"context_id", "close_context"},
//             {"close_socket"}; the xi-api-key header is checked with --key.
//     server: {"audio": base64 PCM, "alignment": {"chars", "charStartTimesMs",
//             "charDurationsMs"} (times within the chunk), "contextId"}, then
//             {"isFinal": true, "contextId"} when a flushed context is done.
//     Audio: a buzz, 65 ms per character, 200 ms chunks every --pace-ms
//     (default 50; 200 is real time) after --first-ms (default 100). A closed context stops at once.
//     --fail-from N: the Nth context and later get the socket closed
//     (1011) instead of audio. --refuse: every upgrade gets a 401.
//     --junk-from N: from the Nth context on, what a broken server might
//     send goes out between the chunks (a text frame that is not JSON, a
//     JSON array, a binary frame, fields of the wrong types, a context
//     nobody opened), and the chunks' alignment times go out of range (a
//     start before 0 or far past the chunk, a negative duration).
//     --bad-audio-at N: the Nth context's second chunk has audio that is
//     not base64.
//   GET /stats: how late the server's event loop ran (loop_lag_ms p50,
//     p95, p99, max; ?reset starts again), for benchmarks on a shared CPU.
//   GET /log: per connection: its URL and each context's text, chunks sent,
//     whether the client closed it, and `at`: when its text came (wall
//     clock, ms since the epoch).
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { loopLag } from './lib.mjs';

const o = { port: 0, key: null, firstMs: 100, failFrom: 0, refuse: false, paceMs: 50, junkFrom: 0, badAudioAt: 0 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--refuse') { o.refuse = true; continue; }
  const v = process.argv[++i];
  if (a === '--port') o.port = Number(v);
  else if (a === '--key') o.key = v;
  else if (a === '--first-ms') o.firstMs = Number(v);
  else if (a === '--fail-from') o.failFrom = Number(v);
  else if (a === '--pace-ms') o.paceMs = Number(v);
  else if (a === '--junk-from') o.junkFrom = Number(v);
  else if (a === '--bad-audio-at') o.badAudioAt = Number(v);
  else { console.error(`elevenlabs_mock: unknown argument ${a}`); process.exit(2); }
}

const RATE = 16000;
const log = [];
const stats = loopLag();
let contexts = 0;
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
  const m = u.pathname.match(/^\/v1\/text-to-speech\/([A-Za-z0-9_-]+)\/multi-stream-input$/);
  const deny = (code, why) => { sock.write(`HTTP/1.1 ${code} ${why}\r\nconnection: close\r\n\r\n`); sock.destroy(); };
  if (o.refuse || (o.key && req.headers['xi-api-key'] !== o.key)) return deny(401, 'Unauthorized');
  if (!m) return deny(404, 'Not Found');
  if (u.searchParams.get('output_format') !== 'pcm_16000') return deny(400, 'Bad Request');
  wss.handleUpgrade(req, sock, head, (ws) => conn(ws, u, m[1]));
});

function conn(ws, u, voice) {
  const entry = { voice, query: Object.fromEntries(u.searchParams), contexts: {}, close_socket: false };
  log.push(entry);
  const live = new Map();  // context id -> {stop}
  ws.on('message', async (data) => {
    let msg;
    try { msg = JSON.parse(data.toString()); } catch { return; }
    if (msg.close_socket) { entry.close_socket = true; ws.close(1000); return; }
    const id = msg.context_id;
    if (!id) return;
    if (msg.close_context) {
      const c = live.get(id);
      if (c) c.stop = true;
      if (entry.contexts[id]) entry.contexts[id].closed = true;
      return;
    }
    if (typeof msg.text !== 'string') return;
    const e = entry.contexts[id] ??= { text: '', chunks: 0, closed: false, final: false, at: Date.now() };
    e.text += msg.text;
    if (!msg.flush) return;
    const nth = ++contexts;
    if (o.failFrom && nth >= o.failFrom) { ws.close(1011, 'internal error'); return; }
    const junk = o.junkFrom && nth >= o.junkFrom;
    e.nth = nth;
    const c = { stop: false };
    live.set(id, c);
    const text = e.text.trimEnd();
    const total = Math.round(text.length * 0.065 * RATE);
    const perChar = total / Math.max(1, text.length);
    await new Promise((r) => setTimeout(r, o.firstMs));
    const step = RATE / 5;
    for (let at = 0; at < total; at += step) {
      if (c.stop || ws.readyState !== 1) return;
      const k = Math.min(step, total - at);
      const b = Buffer.alloc(k * 2);
      for (let i = 0; i < k; i++) {
        const t = (at + i) / RATE;
        const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
        b.writeInt16LE(Math.round(6000 * env * (((t * 140) % 1) * 2 - 1)), i * 2);
      }
      // the characters whose time falls in this chunk, times within it
      const chars = [], starts = [], durs = [];
      for (let ci = Math.ceil(at / perChar); ci * perChar < at + k && ci < text.length; ci++) {
        chars.push(text[ci]);
        starts.push(Math.round((ci * perChar - at) * 1000 / RATE));
        durs.push(Math.round(perChar * 1000 / RATE));
      }
      if (junk) {
        ws.send('not json {');
        ws.send('[1, 2, 3]');
        ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
        ws.send(JSON.stringify({ audio: 5, alignment: 'x', isFinal: 'yes', contextId: id }));
        ws.send(JSON.stringify({ audio: b.toString('base64'), contextId: 'nobody' }));
        if (chars.length) starts[0] = -1000;
        if (chars.length > 1) starts[1] = 1e12;
        if (chars.length > 2) durs[2] = -50;
      }
      const bad = o.badAudioAt === nth && e.chunks === 1;
      ws.send(JSON.stringify({ audio: bad ? 'not base64!' : b.toString('base64'), isFinal: null,
        normalizedAlignment: { chars, charStartTimesMs: starts, charDurationsMs: durs },
        alignment: { chars, charStartTimesMs: starts, charDurationsMs: durs }, contextId: id }));
      e.chunks++;
      await new Promise((r) => setTimeout(r, o.paceMs));
    }
    if (c.stop || ws.readyState !== 1) return;
    e.final = true;
    ws.send(JSON.stringify({ isFinal: true, contextId: id }));
  });
}

server.listen(o.port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
