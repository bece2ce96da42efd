// Bad input and load against a running `banter serve` (started with
// --max-send-queue 32): every kind of malformed input gets an error event
// or a clean close while another call goes on unharmed, and many calls at
// once each complete. Usage: node robust.mjs HTTP_PORT [test ...]
import WebSocket from 'ws';
import { spawn } from 'node:child_process';
import { Events, callerAudio, stream, run, assert, sleep, b64, silence } from './lib.mjs';

const [port, ...only] = process.argv.slice(2);
const URL = `ws://127.0.0.1:${port}/v1/realtime`;
const DATA = new globalThis.URL('../data/', import.meta.url).pathname;
const T = 120000;
const N = Number(process.env.BANTER_TEST_SESSIONS || 20);

function connect() {
  const ws = new WebSocket(URL);
  const ev = new Events();
  const c = { ws, ev, send: (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o)) };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  c.opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  c.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  return c;
}

async function health() {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  return r.json();
}

// One whole call: greeting, the caller's line, the agent's answer.
async function call(tag) {
  const c = connect();
  await c.opened;
  const g = await c.ev.waitType('response.done', T);
  assert(g.response.status === 'completed', `${tag}: greeting ${g.response.status}`);
  const from = c.ev.list.length;
  await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav'));
  const tr = await c.ev.waitType('conversation.item.input_audio_transcription.completed', T, from);
  // an overloaded server may take a pause for the end of the turn and
  // be interrupted by the rest of it: the call goes on to an answer
  const d = await c.ev.wait((e) => e.type === 'response.done' && e.response.status === 'completed', T, `${tag}: a completed reply`, from);
  assert(c.ev.find((e) => e.type === 'response.output_audio.delta', from), `${tag}: reply audio`);
  c.ws.close();
  return tr.transcript;
}

async function expectError(c, raw, code, what) {
  const from = c.ev.list.length;
  c.send(raw);
  const e = await c.ev.waitType('error', 10000, from);
  assert(e.error.code === code, `${what}: want ${code}, got ${e.error.code} (${e.error.message})`);
  assert(e.error.message.length > 10, `${what}: the message says what is wrong`);
}

const tests = [
  ['malformed input gets errors; a concurrent call is unharmed', async () => {
    const good = call('concurrent call');
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    await expectError(c, '{"type": "session.update", ', 'invalid_json', 'truncated JSON');
    await expectError(c, '[1,2,3]', 'invalid_json', 'not an object');
    await expectError(c, '{"event_id":"e1"}', 'missing_required_parameter', 'no type');
    await expectError(c, '{"type":"conversation.frobnicate"}', 'unknown_event', 'unknown type');
    await expectError(c, { type: 'input_audio_buffer.append', audio: '!!!not base64!!!' }, 'invalid_value', 'bad base64');
    await expectError(c, { type: 'input_audio_buffer.append', audio: 'AAE=' + 'A' }, 'invalid_value', 'base64 with a lone character');
    await expectError(c, { type: 'input_audio_buffer.append', audio: Buffer.from([1, 2, 3]).toString('base64') }, 'invalid_value', 'odd-length PCM');
    await expectError(c, { type: 'input_audio_buffer.append', audio: 42 }, 'invalid_type', 'audio not a string');
    await expectError(c, { type: 'session.update', session: { audio: { input: { format: { type: 'audio/flac' } } } } }, 'invalid_value', 'unknown format');
    await expectError(c, { type: 'session.update', session: { audio: { output: { voice: 'nobody' } } } }, 'invalid_value', 'unknown voice');
    await expectError(c, { type: 'session.update', session: { audio: { input: { turn_detection: { type: 'magic' } } } } }, 'invalid_value', 'unknown turn detection');
    await expectError(c, { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [] } }, 'missing_required_parameter', 'empty content');
    await expectError(c, { type: 'conversation.item.truncate', item_id: 'nope', content_index: 0, audio_end_ms: 5 }, 'item_not_found', 'truncate unknown item');
    await expectError(c, { type: 'conversation.item.delete', item_id: 'nope' }, 'item_not_found', 'delete unknown item');
    // audio far ahead of real time: the buffer is bounded
    const big = b64(new Int16Array(24000 * 1.2));  // 1.2 s per append, under the frame cap
    let overflow = null;
    const from = c.ev.list.length;
    for (let i = 0; i < 40 && !overflow; i++) {
      c.send({ type: 'input_audio_buffer.append', audio: big });
      await sleep(5);
      overflow = c.ev.find((e) => e.type === 'error' && e.error.code === 'input_audio_buffer_overflow', from);
    }
    overflow = overflow || await c.ev.wait((e) => e.type === 'error' && e.error.code === 'input_audio_buffer_overflow', 10000, 'overflow', from);
    c.send({ type: 'input_audio_buffer.clear' });
    await c.ev.waitType('input_audio_buffer.cleared', 10000, from);
    // a binary frame
    const fb = c.ev.list.length;
    c.ws.send(Buffer.from([1, 2, 3]));
    const eb = await c.ev.waitType('error', 10000, fb);
    assert(/binary/.test(eb.error.message), 'binary frames refused');
    // still serving this session too
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
    await c.ev.waitType('conversation.item.added', 10000, fb);
    // an oversized message: libre 1.1 sends close 1009 and drops the
    // connection at once, so with the rest of the message still unread
    // the client may see the reset (1006) before the close frame
    c.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(300000) }));
    const cl = await c.closed;
    assert(cl.code === 1009 || cl.code === 1006, `oversized message closes the connection (1009), got ${cl.code}`);
    const heard = await good;
    console.log(`     concurrent call completed, heard "${heard}"`);
  }],

  ['a client that stops reading is closed; one that vanishes is dropped', async () => {
    // the last test's calls may still be closing
    let before = (await health()).sessions;
    for (let i = 0; i < 120 && before > 0; i++) { await sleep(250); before = (await health()).sessions; }
    const good = call('concurrent call');
    // a raw client that upgrades and then never reads (a small receive
    // buffer, as a stalled phone or browser tab would have)
    const py = spawn('python3', ['-c', `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", ${port}))
s.send(b"GET /v1/realtime HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
time.sleep(60)
`], { stdio: 'ignore' });
    let up = false;
    for (let i = 0; i < 300 && !up; i++) { await sleep(100); up = (await health()).sessions >= before + 2; }
    assert(up, 'the raw client got a session');
    const t0 = Date.now();
    const heardFirst = await good;
    // the concurrent call is over: only the stalled client can be left
    let closedAt = null;
    while (Date.now() - t0 < 90000) {
      if ((await health()).sessions <= before) { closedAt = Date.now() - t0; break; }
      await sleep(250);
    }
    py.kill();
    assert(closedAt !== null, 'the non-reading client was never dropped');
    // a client that vanishes mid-reply
    const v = connect();
    await v.opened;
    await v.ev.waitType('response.output_audio.delta', T);
    v.ws._socket.destroy();
    let gone = false;
    for (let i = 0; i < 240 && !gone; i++) {
      await sleep(250);
      gone = (await health()).sessions <= before;
    }
    assert(gone, 'the vanished client\'s session was not dropped');
    console.log(`     non-reading client dropped (${closedAt} ms after it was up); concurrent call heard "${heardFirst}"`);
  }],

  ['calls accepted together are spread evenly over the event loops', async () => {
    // a loop's share is counted when a call is placed, not when it
    // reaches its loop: a burst once went 7 to one loop and 1 to the other
    const h0 = await health();
    const n = 4 * h0.loops;
    const cs = Array.from({ length: n }, () => connect());
    await Promise.all(cs.map((c) => c.ev.waitType('session.created', T)));
    const h = await health();
    const per = h.loop_calls;
    assert(Array.isArray(per) && per.length === h.loops, `loop_calls per loop: ${JSON.stringify(h)}`);
    const base = h0.loop_calls;
    const added = per.map((k, i) => k - base[i]);
    assert(added.reduce((a, b) => a + b, 0) === n, `${n} calls counted: ${JSON.stringify(added)}`);
    assert(Math.max(...added) - Math.min(...added) <= 1, `calls spread unevenly: ${JSON.stringify(added)}`);
    cs.forEach((c) => c.ws.close());
    let back = null;
    for (let i = 0; i < 120; i++) {
      back = (await health()).loop_calls;
      if (back.every((k, j) => k === base[j])) break;
      await sleep(250);
    }
    assert(back.every((k, j) => k === base[j]), `closed calls still counted: ${JSON.stringify(back)}`);
    console.log(`     ${n} calls at once over ${h.loops} loops: ${JSON.stringify(added)}`);
  }],

  [`${N} calls at once each complete`, async () => {
    const t0 = Date.now();
    const stagger = Number(process.env.BANTER_TEST_STAGGER_MS || 1000);
    const calls = [];
    for (let i = 0; i < N; i++) {
      calls.push(call(`call ${i}`));
      await sleep(stagger);
    }
    const heard = await Promise.all(calls);
    assert(heard.every((h) => typeof h === 'string'), 'every call transcribed');
    console.log(`     ${N} calls, started ${stagger} ms apart, done in ${Date.now() - t0} ms; ${heard.filter((h) => h.length).length} with words heard`);
  }],
];

process.exitCode = await run(tests, only.length ? only : null);
setTimeout(() => process.exit(process.exitCode), 100);
