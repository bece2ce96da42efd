#!/usr/bin/env node
// speech_mock.mjs: a local OpenAI-compatible speech endpoint for the tests
// (POST /v1/audio/speech with response_format "pcm": raw 16-bit mono PCM
// at 24 kHz, streamed in chunks as it is "synthesised").
//
//   node tests/clients/speech_mock.mjs [--port N] [--key KEY]
//        [--first-ms MS] [--fail-from N] [--cut-from N]
//        [--hold-first TEXT] [--fail-first TEXT]
//
// It prints `listening PORT` and serves on 127.0.0.1:
//   POST /v1/audio/speech  {model, input, voice, response_format: "pcm"}:
//        a buzz with syllable-like loudness, 65 ms per character of input,
//        the first bytes after --first-ms (default 120), then 100 ms of
//        audio every 25 ms. --fail-from N: the Nth request and later get a
//        500; --cut-from N: they get 200 ms of audio, then the connection
//        is cut. --hold-first TEXT: the first request for that input is
//        never answered (held open until the client goes); --fail-first
//        TEXT: it gets a 500; later requests for it are served.
//   POST /v1/audio/transcriptions  (multipart/form-data: file, model,
//        language, response_format): {"text": ...}, the next entry of
//        --script FILE (a JSON list of what the caller says, in order);
//        --transcribe-fail: a 500 instead; --transcribe-ms: answered that
//        much later.
//   GET /log: the requests so far (body, status, bytes sent, `at`: when
//        it came, wall clock in ms since the epoch), as JSON.
import http from 'node:http';
import fs from 'node:fs';

const o = { port: 0, key: null, firstMs: 120, failFrom: 0, cutFrom: 0, script: null, trFail: false, trMs: 0,
  holdFirst: null, failFirst: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--transcribe-fail') { o.trFail = true; continue; }
  const v = process.argv[++i];
  if (a === '--script') { o.script = JSON.parse(fs.readFileSync(v, 'utf8')); continue; }
  const num = () => { const n = Number(v); if (!Number.isFinite(n) || n < 0) { console.error(`${a} needs a number`); process.exit(2); } return n; };
  if (a === '--port') o.port = num();
  else if (a === '--key') o.key = v;
  else if (a === '--first-ms') o.firstMs = num();
  else if (a === '--fail-from') o.failFrom = num();
  else if (a === '--cut-from') o.cutFrom = num();
  else if (a === '--transcribe-ms') o.trMs = num();
  else if (a === '--hold-first') o.holdFirst = v;
  else if (a === '--fail-first') o.failFirst = v;
  else { console.error(`speech_mock: unknown argument ${a}`); process.exit(2); }
}

const RATE = 24000;
const log = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function error(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/log') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(log));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/v1/audio/transcriptions') return transcribe(req, res, Buffer.concat(chunks));
  if (req.method !== 'POST' || url.pathname !== '/v1/audio/speech') return error(res, 404, `Unknown request URL: ${req.method} ${url.pathname}`);
  let body;
  try { body = JSON.parse(Buffer.concat(chunks).toString()); } catch { return error(res, 400, 'the body is not JSON'); }
  const entry = { body, status: 200, bytes: 0, at: Date.now() };
  log.push(entry);
  const n = log.length;
  if (o.key && req.headers.authorization !== `Bearer ${o.key}`) { entry.status = 401; return error(res, 401, 'Incorrect API key provided'); }
  for (const k of ['model', 'input', 'voice'])
    if (typeof body[k] !== 'string' || !body[k]) { entry.status = 400; return error(res, 400, `"${k}" is required`); }
  if (body.response_format !== 'pcm') { entry.status = 400; return error(res, 400, 'this mock streams response_format "pcm" only'); }
  if (o.failFrom && n >= o.failFrom) { entry.status = 500; return error(res, 500, 'The server had an error while processing your request.'); }
  if (o.failFirst !== null && body.input === o.failFirst) { o.failFirst = null; entry.status = 500; return error(res, 500, 'The server had an error while processing your request.'); }
  if (o.holdFirst !== null && body.input === o.holdFirst) { o.holdFirst = null; entry.status = 'held'; return; }

  const total = Math.round(body.input.length * 0.065 * RATE);
  res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
  await sleep(o.firstMs);
  const step = RATE / 10;
  for (let at = 0; at < total; at += step) {
    if (o.cutFrom && n >= o.cutFrom && at >= RATE / 5) { entry.status = 'cut'; res.socket.destroy(); return; }
    const k = Math.min(step, total - at);
    const b = Buffer.alloc(k * 2);
    for (let i = 0; i < k; i++) {
      const t = (at + i) / RATE;
      const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);  // ~4 syllables a second
      const saw = ((t * 140) % 1) * 2 - 1;
      b.writeInt16LE(Math.round(6000 * env * saw), i * 2);
    }
    res.write(b);
    entry.bytes += b.length;
    await sleep(25);
  }
  res.end();
});
let said = 0;
async function transcribe(req, res, raw) {
  const m = (req.headers['content-type'] || '').match(/boundary=(.+)$/);
  const entry = { path: '/v1/audio/transcriptions', fields: {}, file_bytes: 0, status: 200 };
  log.push(entry);
  if (o.key && req.headers.authorization !== `Bearer ${o.key}`) { entry.status = 401; return error(res, 401, 'Incorrect API key provided'); }
  if (!m) { entry.status = 400; return error(res, 400, 'expected multipart/form-data'); }
  for (const part of raw.toString('latin1').split(`--${m[1]}`)) {
    const name = part.match(/name="([^"]+)"/);
    if (!name) continue;
    const body = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
    if (name[1] === 'file') {
      entry.file_bytes = body.length;
      entry.wav = body.slice(0, 4) === 'RIFF' && body.slice(8, 12) === 'WAVE';
    } else entry.fields[name[1]] = body;
  }
  if (!entry.file_bytes || !entry.fields.model) { entry.status = 400; return error(res, 400, 'file and model are required'); }
  if (o.trFail) { entry.status = 500; return error(res, 500, 'The server had an error while processing your request.'); }
  const text = o.script && said < o.script.length ? o.script[said++] : '';
  entry.text = text;
  if (o.trMs) await sleep(o.trMs);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ text: text.charAt(0).toUpperCase() + text.slice(1) + '.' }));
}

server.keepAliveTimeout = 120_000;
server.listen(o.port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
