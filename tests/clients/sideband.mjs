// Sidebands on a phone call (OpenAI's /v1/realtime?call_id=): while sipp
// calls `banter serve` (tests/sip/sideband.xml: the caller waits for the
// agent's question, presses 1 2 #, waits, says "seven pm", stays silent
// until the agent hangs up), Realtime clients
// attach to the call by the call_id the server posted to its call webhook
// (realtime.call.incoming, received here) and logged, and check what the
// call does. Usage: node sideband.mjs HTTP_PORT SERVE_LOG API_KEY HOOK_PORT TLS_PORT
//
// Three sidebands: A watches and steers, C only watches (several at once,
// over wss://), B leaves at once (the call must go on). The call's end closes A and C.
import WebSocket from 'ws';
import fs from 'node:fs';
import http from 'node:http';
import { Events, assert, sleep } from './lib.mjs';

const [port, logPath, key, hookPort, tlsPort] = process.argv.slice(2);
const T = 120000;
const headers = key ? { Authorization: `Bearer ${key}` } : {};

function connect(callId, hdrs = headers, tls = false) {
  const url = tls ? `wss://127.0.0.1:${tlsPort}` : `ws://127.0.0.1:${port}`;
  // the server's own self-signed certificate
  const ws = new WebSocket(`${url}/v1/realtime?call_id=${callId}`, { headers: hdrs, rejectUnauthorized: false });
  const ev = new Events();
  const c = { ws, ev, send: (o) => ws.send(JSON.stringify(o)) };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  c.opened = new Promise((res, rej) => {
    ws.on('open', res);
    ws.on('error', rej);
    ws.on('unexpected-response', (_q, r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => rej(Object.assign(new Error(`HTTP ${r.statusCode}: ${body}`), { status: r.statusCode, body })));
    });
  });
  c.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  return c;
}

async function refused(callId, status, code, hdrs) {
  const c = connect(callId, hdrs);
  const err = await c.opened.then(() => null, (e) => e);
  assert(err && err.status === status, `call_id=${callId}: expected HTTP ${status}, got ${err ? err.message : 'a connection'}`);
  assert(!code || JSON.parse(err.body).error.code === code, `call_id=${callId}: expected error code ${code}: ${err.body}`);
  console.log(`ok   call_id=${callId || '(none)'} refused: HTTP ${status} ${code || ''}`);
}

// The webhook: OpenAI's realtime.call.incoming event, POSTed as JSON.
const hooks = [];
const hooked = new Promise((res) => {
  http.createServer((q, r) => {
    let body = '';
    q.on('data', (d) => { body += d; });
    q.on('end', () => {
      hooks.push({ method: q.method, type: q.headers['content-type'], body });
      r.writeHead(200).end();
      res();
    });
  }).listen(Number(hookPort), '127.0.0.1');
});

async function callId() {
  await Promise.race([hooked, sleep(T)]);
  assert(hooks.length === 1, `${hooks.length} webhook posts`);
  const h = hooks[0], ev = JSON.parse(h.body);
  assert(h.method === 'POST' && /application\/json/.test(h.type), `webhook ${h.method} ${h.type}`);
  assert(ev.object === 'event' && ev.type === 'realtime.call.incoming' && /^evt_/.test(ev.id) &&
    Number.isInteger(ev.created_at), `the webhook event: ${h.body}`);
  const id = ev.data.call_id, hdr = Object.fromEntries(ev.data.sip_headers.map((x) => [x.name, x.value]));
  assert(/^rtc_[0-9a-f]{32}$/.test(id), `call_id ${id}`);
  assert(/sipp@/.test(hdr.From) && hdr['Call-ID'], `sip_headers: ${JSON.stringify(ev.data.sip_headers)}`);
  const m = /call_id (rtc_[0-9a-f]{32})/.exec(fs.readFileSync(logPath, 'utf8'));
  assert(m && m[1] === id, `the log's call_id ${m && m[1]} is not the webhook's ${id}`);
  console.log(`ok   realtime.call.incoming posted: ${id}`);
  return id;
}

async function main() {
  await refused('rtc_00000000000000000000000000000000', 404, 'call_not_found');
  const id = await callId();
  if (key) await refused(id, 401, 'invalid_api_key', {});

  const a = connect(id), b = connect(id), c = connect(id, headers, true);
  await Promise.all([a.opened, b.opened, c.opened]);
  const created = await a.ev.waitType('session.created', 10000);
  assert(created.session.object === 'realtime.session', 'session.created has a session');
  await b.ev.waitType('session.created', 10000);
  b.ws.close();
  const bClosed = Date.now();
  console.log('ok   three sidebands attached; B left');

  // what a sideband cannot do gets an error naming it, and the call goes on
  let from = a.ev.list.length;
  a.send({ type: 'input_audio_buffer.append', event_id: 'ev_app', audio: 'AAAA' });
  const e = await a.ev.waitType('error', 10000, from);
  assert(e.error.code === 'unsupported_on_sideband' && e.error.event_id === 'ev_app',
    `append on a sideband: ${JSON.stringify(e.error)}`);
  assert(!c.ev.find((x) => x.type === 'error'), 'the error went to the other sideband too');
  from = a.ev.list.length;
  a.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be brief.' } });
  const up = await a.ev.waitType('session.updated', 10000, from);
  assert(up.session.instructions === 'Be brief.', 'session.updated has the instructions');
  console.log('ok   append refused on a sideband; session.update taken');

  // the caller presses 1 2 #: each digit in order, after B left
  const digits = [];
  for (const k of ['1', '2', '#']) {
    const d = await a.ev.wait((x) => x.type === 'input_audio_buffer.dtmf_event_received' && !digits.includes(x),
      T, `the DTMF digit ${k}`);
    digits.push(d);
    assert(d.event === k, `DTMF digit ${digits.length}: expected ${k}, got ${d.event}`);
    assert(Number.isInteger(d.received_at) && Math.abs(d.received_at - Date.now() / 1000) < 60,
      `received_at is a Unix time in seconds: ${d.received_at}`);
    assert(d._at > bClosed, 'a digit came before B left (the test is wrong)');
  }
  const cd = c.ev.list.filter((x) => x.type === 'input_audio_buffer.dtmf_event_received').map((x) => x.event);
  await c.ev.wait((x) => x.type === 'input_audio_buffer.dtmf_event_received' && x.event === '#', 10000, 'C: #');
  assert(c.ev.list.filter((x) => x.type === 'input_audio_buffer.dtmf_event_received').map((x) => x.event).join('') === '12#',
    `C saw the digits ${cd.join('')}`);
  console.log('ok   DTMF 1 2 # to both sidebands, in order');

  // the digits are the user's turn; the agent answers it on the call
  const di = a.ev.index((x) => x === digits[2]);
  const item = await a.ev.wait((x) => x.type === 'conversation.item.added' && x.item.role === 'user', T, 'the digits as a user item', di);
  assert(item.item.content[0].text === '12', `the user item: ${JSON.stringify(item.item)}`);
  const done = await a.ev.wait((x) => x.type === 'response.done' && x.response.status === 'completed', T,
    'the answer to the digits', di);
  const said = done.response.output[0].content[0].transcript;
  assert(/what day/i.test(said), `the agent's answer to 12: "${said}"`);
  assert(a.ev.find((x) => x.type === 'response.output_audio_transcript.delta', di), 'no transcript deltas');
  assert(!a.ev.find((x) => x.type === 'response.output_audio.delta'), 'a sideband got audio deltas');
  console.log(`ok   the digits became the user's turn; the agent said "${said}"`);

  // the sideband steers the call: a typed answer and a response
  from = a.ev.list.length;
  a.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'tuesday' }] } });
  a.send({ type: 'response.create' });
  const added = await a.ev.wait((x) => x.type === 'conversation.item.added' && x.item.role === 'user', 10000, 'the typed item', from);
  assert(added.item.content[0].text === 'tuesday', `typed item: ${JSON.stringify(added.item)}`);
  const d2 = await a.ev.wait((x) => x.type === 'response.done', T, 'the answer to the typed item', from);
  const said2 = d2.response.output[0].content[0].transcript;
  assert(/what time/i.test(said2), `the agent's answer to "tuesday": "${said2}"`);
  await c.ev.wait((x) => x.type === 'response.done' && x.response.output[0].content[0].transcript === said2, 10000, 'C: the same answer');
  console.log(`ok   a typed item and response.create act on the call: "${said2}"`);

  // the caller says "seven pm": the sideband sees the turn and its
  // transcript, and response.cancel from it stops the agent's answer
  from = a.ev.list.length;
  a.send({ type: 'response.cancel', event_id: 'ev_idle' });
  const ce = await a.ev.waitType('error', 10000, from);
  assert(ce.error.code === 'response_cancel_not_active', `cancel with nothing playing: ${JSON.stringify(ce.error)}`);
  const st = await a.ev.waitType('input_audio_buffer.speech_started', T, from);
  const tr = await a.ev.waitType('conversation.item.input_audio_transcription.completed', T, from);
  assert(tr.transcript && tr.item_id === st.item_id, `the caller's transcript: ${JSON.stringify(tr)}`);
  assert(a.ev.index((x) => x.type === 'input_audio_buffer.committed' && x.item_id === tr.item_id, from) >= 0,
    'no input_audio_buffer.committed for the turn');
  assert(fs.readFileSync(logPath, 'utf8').includes(`: user: "${tr.transcript}"`), `the call's log has no user "${tr.transcript}"`);
  const ti = a.ev.index((x) => x === tr);
  await a.ev.wait((x) => x.type === 'response.output_audio_transcript.delta', T, 'the answer to the caller starting', ti);
  a.send({ type: 'response.cancel' });
  const d3 = await a.ev.wait((x) => x.type === 'response.done', T, 'the cancelled answer', ti);
  assert(d3.response.status === 'cancelled', `response.cancel: the response ${d3.response.status}`);
  console.log(`ok   the caller said "${tr.transcript}"; response.cancel stopped the answer after ` +
    `"${d3.response.output[0].content[0].transcript}"`);

  // the agent hangs up (its idle prompts ran out): a last event, then a
  // clean close, for both
  for (const [n, s] of [['A', a], ['C', c]]) {
    const cl = await Promise.race([s.closed, sleep(T).then(() => null)]);
    assert(cl, `${n} was not closed when the call ended`);
    assert(cl.code === 1000 && cl.reason === 'the call ended', `${n} closed ${cl.code} "${cl.reason}"`);
    const last = s.ev.list[s.ev.list.length - 1];
    assert(last.type === 'banter.call_ended' && last.call_id === id && last.reason === 'the agent ended the call',
      `${n}'s last event: ${JSON.stringify(last)}`);
  }
  console.log('ok   the call ended: banter.call_ended, then close 1000 for A and C');
  await refused(id, 404, 'call_not_found');
  return 0;
}

main().then((rc) => process.exit(rc), (e) => { console.log(`FAIL ${e.stack || e}`); process.exit(1); });
