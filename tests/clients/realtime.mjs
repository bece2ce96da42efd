// The Realtime protocol against a running `banter serve`, as real clients
// speak it: the `ws` package over ws:// and the official `openai` package
// over wss://. Usage: node realtime.mjs HTTP_PORT TLS_PORT [test ...]
// (the server must run with --api-key test-key).
import WebSocket from 'ws';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { Events, callerAudio, stream, run, assert, sleep, b64, silence } from './lib.mjs';

const [port, tlsPort, ...only] = process.argv.slice(2);
const KEY = 'test-key';
const URL = `ws://127.0.0.1:${port}/v1/realtime`;
const DATA = new globalThis.URL('../data/', import.meta.url).pathname;
const T = 60000;  // generous: the sanitizer build is slow

function connect({ key = KEY, protocols, url = URL } = {}) {
  const ws = new WebSocket(url, protocols, key ? { headers: { Authorization: `Bearer ${key}` } } : {});
  const ev = new Events();
  const c = { ws, ev, send: (o) => ws.send(JSON.stringify(o)) };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  c.opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); ws.on('unexpected-response', (_q, r) => rej(Object.assign(new Error(`HTTP ${r.statusCode}`), { status: r.statusCode }))); });
  c.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  return c;
}

// The agent greets first: wait for that reply to finish.
async function greeted(c) {
  await c.ev.waitType('session.created', T);
  const done = await c.ev.waitType('response.done', T);
  assert(done.response.status === 'completed', `greeting ${done.response.status}`);
  return done;
}

const audioBytes = (ev, from = 0) => ev.list.slice(from).filter((e) => e.type === 'response.output_audio.delta')
  .reduce((s, e) => s + Buffer.from(e.delta, 'base64').length, 0);

const tests = [
  ['voice turn over ws:// (server VAD, events in order)', async () => {
    const c = connect();
    await c.opened;
    const created = await c.ev.waitType('session.created', T);
    assert(created.session.audio.input.format.type === 'audio/pcm', 'default format is audio/pcm');
    const g = await greeted(c);
    assert(g.response.output[0].content[0].transcript.length > 10, 'greeting has a transcript');
    assert(audioBytes(c.ev) > 24000 * 2, 'greeting audio is at least a second at 24 kHz');
    const from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav'));
    const done = await c.ev.wait((e) => e.type === 'response.done', T, 'the reply', from);
    const idx = (t) => c.ev.index((e) => e.type === t, from);
    const order = ['input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed', 'conversation.item.added', 'conversation.item.input_audio_transcription.completed',
      'response.created', 'response.output_item.added', 'response.content_part.added',
      'response.output_audio_transcript.delta', 'response.output_audio.delta', 'response.output_audio.done',
      'response.output_audio_transcript.done', 'response.content_part.done', 'response.output_item.done', 'response.done'];
    for (let i = 0; i < order.length; i++) {
      assert(idx(order[i]) >= 0, `no ${order[i]}`);
      if (i) assert(idx(order[i]) > idx(order[i - 1]), `${order[i]} came before ${order[i - 1]}`);
    }
    const tr = c.ev.find((e) => e.type === 'conversation.item.input_audio_transcription.completed', from);
    assert(tr.transcript.length > 0, 'the caller was transcribed');
    assert(done.response.status === 'completed', `reply ${done.response.status}`);
    assert(audioBytes(c.ev, from) > 0, 'the reply has audio');
    const user = c.ev.find((e) => e.type === 'conversation.item.added' && e.item.role === 'user', from);
    assert(user.item.id === tr.item_id, 'transcript names the user item');
    console.log(`     heard "${tr.transcript}", answered "${done.response.output[0].content[0].transcript}"`);
    c.ws.close();
  }],

  ['barge-in cancels the reply; truncate cuts the history', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    // talk over the greeting once its audio plays
    const first = await c.ev.waitType('response.output_audio.delta', T);
    await sleep(600);
    const from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'stt_weather_rms.wav', 0, 1500));
    const done = await c.ev.wait((e) => e.type === 'response.done', T, 'the greeting to end', 0);
    assert(done.response.status === 'cancelled', `greeting was ${done.response.status}`);
    assert(done.response.status_details.reason === 'turn_detected', 'reason turn_detected');
    const st = c.ev.index((e) => e.type === 'input_audio_buffer.speech_started', from);
    assert(st >= 0 && st < c.ev.index((e) => e.type === 'response.done'), 'speech_started before response.done');
    const item = first.item_id;
    // the client played only 500 ms of it
    c.send({ type: 'conversation.item.truncate', item_id: item, content_index: 0, audio_end_ms: 500 });
    const tr = await c.ev.waitType('conversation.item.truncated', T);
    assert(tr.item_id === item && tr.audio_end_ms === 500, 'truncated names the item');
    c.send({ type: 'conversation.item.retrieve', item_id: item });
    const got = await c.ev.waitType('conversation.item.retrieved', T);
    const heard = got.item.content[0].transcript;
    const full = done.response.output[0].content[0].transcript;
    assert(heard.split(' ').length < 4, `history holds only the words heard in 500 ms, got "${heard}"`);
    assert(heard.length < full.length || full.length === 0, 'history was cut');
    console.log(`     heard before barge-in "${full}", after truncate "${heard}"`);
    c.ws.close();
  }],

  ['text-only session with typed input (the text fallback)', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    c.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    const up = await c.ev.waitType('session.updated', T);
    assert(up.session.output_modalities[0] === 'text', 'text modality');
    const g = await c.ev.waitType('response.done', T);
    assert(g.response.output[0].content[0].type === 'output_text', 'greeting as text');
    assert(c.ev.count('response.output_audio.delta') === 0, 'no audio in a text session');
    const from = c.ev.list.length;
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a table for three please' }] } });
    const added = await c.ev.waitType('conversation.item.added', T, from);
    assert(added.item.content[0].text === 'a table for three please', 'item echoed');
    c.send({ type: 'response.create' });
    const d = await c.ev.waitType('response.done', T, from);
    const text = d.response.output[0].content[0].text;
    assert(d.response.status === 'completed' && /day|when/i.test(text), `agent asks for the day: "${text}"`);
    assert(c.ev.find((e) => e.type === 'response.output_text.delta', from), 'text deltas');
    console.log(`     typed "a table for three please", agent: "${text}"`);
    c.ws.close();
  }],

  ['a typed booking: the tool runs on the worker pool and its result is spoken', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    c.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    await c.ev.waitType('response.done', T);
    let last = '';
    for (const t of ['a table for three please', 'tuesday', 'seven pm', 'yes']) {
      const from = c.ev.list.length;
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: t }] } });
      c.send({ type: 'response.create' });
      last = (await c.ev.waitType('response.done', T, from)).response.output[0].content[0].text;
    }
    assert(/booking number is \d+/.test(last), `the booking tool's result is in the reply: "${last}"`);
    await c.closed;  // the agent said goodbye and hung up
    console.log(`     agent: "${last}"`);
  }],

  ['manual turns: commit and response.create; protocol errors', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    const up = await c.ev.waitType('session.updated', T);
    assert(up.session.audio.input.turn_detection === null, 'turn_detection null');
    await greeted(c);
    let from = c.ev.list.length;
    c.send({ type: 'response.cancel', event_id: 'ev_cancel' });
    let e = await c.ev.waitType('error', T, from);
    assert(e.error.code === 'response_cancel_not_active' && e.error.event_id === 'ev_cancel', 'cancel without a response');
    c.send({ type: 'input_audio_buffer.commit' });
    e = await c.ev.waitType('error', T, c.ev.list.length);
    assert(e.error.code === 'input_audio_buffer_commit_empty', 'empty commit refused');
    from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav', 300, 800));
    await sleep(300);
    assert(!c.ev.find((e) => e.type.startsWith('input_audio_buffer.speech_'), from), 'no server VAD events');
    assert(!c.ev.find((e) => e.type === 'response.created', from), 'no reply before response.create');
    c.send({ type: 'input_audio_buffer.commit' });
    await c.ev.waitType('input_audio_buffer.committed', T, from);
    const tr = await c.ev.waitType('conversation.item.input_audio_transcription.completed', T, from);
    assert(tr.transcript.length > 0, 'committed audio was transcribed');
    c.send({ type: 'response.create' });
    await c.ev.waitType('response.created', T, from);
    c.send({ type: 'response.create' });
    e = await c.ev.waitType('error', T, from);
    assert(e.error.code === 'conversation_already_has_active_response', 'second response refused');
    const d = await c.ev.waitType('response.done', T, from);
    assert(d.response.status === 'completed' && audioBytes(c.ev, from) > 0, 'manual reply with audio');
    console.log(`     committed "${tr.transcript}", agent: "${d.response.output[0].content[0].transcript}"`);
    c.ws.close();
  }],

  ['response.cancel stops the reply', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('response.output_audio.delta', T);
    c.send({ type: 'response.cancel' });
    const d = await c.ev.waitType('response.done', T);
    assert(d.response.status === 'cancelled' && d.response.status_details.reason === 'client_cancelled', 'client_cancelled');
    const n = c.ev.count('response.output_audio.delta');
    await sleep(400);
    assert(c.ev.count('response.output_audio.delta') === n, 'no audio after the cancel');
    c.ws.close();
  }],

  ['?model= picks an agent by its file name; the default otherwise', async () => {
    const greet = async (model) => {
      const c = connect({ url: model ? `${URL}?model=${model}` : URL });
      await c.opened;
      const created = await c.ev.waitType('session.created', T);
      c.send({ type: 'session.update', session: { output_modalities: ['text'] } });
      const d = await c.ev.waitType('response.done', T);
      c.ws.close();
      return [created.session.model, d.response.output[0].content[0].text];
    };
    const [m2, g2] = await greet('second');
    assert(m2 === 'Second Line' && /second line/i.test(g2), `second agent: ${m2}: "${g2}"`);
    const [m1, g1] = await greet(null);
    assert(m1 === "Bella's Trattoria" && /Bella/.test(g1), `default agent: ${m1}: "${g1}"`);
    const [m3] = await greet('gpt-realtime');
    assert(m3 === "Bella's Trattoria", 'an OpenAI model name gets the default agent');
  }],

  ['keys: a wrong key is refused, the browser subprotocols work', async () => {
    let c = connect({ key: 'wrong' });
    const err = await c.opened.then(() => null, (e) => e);
    assert(err && err.status === 401, `wrong key gives 401, got ${err && err.message}`);
    c = connect({ key: null });
    const err2 = await c.opened.then(() => null, (e) => e);
    assert(err2 && err2.status === 401, 'no key gives 401');
    c = connect({ key: null, protocols: ['realtime', `openai-insecure-api-key.${KEY}`] });
    await c.opened;
    assert(c.ws.protocol === 'realtime', `subprotocol echoed, got "${c.ws.protocol}"`);
    await c.ev.waitType('session.created', T);
    c.ws.close();
  }],

  ['the official openai client over wss://', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `https://127.0.0.1:${tlsPort}/v1` });
    const rt = new OpenAIRealtimeWS({ model: 'restaurant', options: { rejectUnauthorized: false } }, client);
    const ev = new Events();
    rt.on('event', (e) => ev.push(e));
    const errors = [];
    rt.on('error', (e) => errors.push(e));
    await new Promise((res, rej) => { rt.socket.on('open', res); rt.socket.on('error', rej); });
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'alloy' } } } });
    const up = await ev.waitType('session.updated', T);
    assert(up.session.audio.output.voice === 'alloy', 'voice set');
    await ev.waitType('response.done', T);
    const from = ev.list.length;
    await stream((o) => rt.send(o), callerAudio(DATA + 'table_for_three_slt.wav'));
    const tr = await ev.waitType('conversation.item.input_audio_transcription.completed', T, from);
    const d = await ev.waitType('response.done', T, from);
    assert(d.response.status === 'completed', 'reply completed');
    const audio = ev.list.slice(from).filter((e) => e.type === 'response.output_audio.delta');
    assert(audio.length > 10, 'agent audio reached the openai client');
    assert(errors.length === 0, `client errors: ${errors.map((e) => e.message)}`);
    console.log(`     openai client: heard "${tr.transcript}", agent "${d.response.output[0].content[0].transcript}"`);
    rt.close();
  }],
];

process.exitCode = await run(tests, only.length ? only : null);
setTimeout(() => process.exit(process.exitCode), 100);
