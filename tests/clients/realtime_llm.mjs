// An LLM agent behind `banter serve`, driven by the official `openai`
// package's Realtime client: the client's own instructions and function
// tools reach the model; a function call comes back to the client as
// OpenAI's Realtime model sends one (output item, arguments delta and
// done), and its function_call_output continues the response.
// With CALLER and NOTE, the memory across calls too: a caller named by
// ?caller_id= (percent-encoded) or by session.update's metadata gets NOTE,
// the summary of an earlier call of CALLER, in the model's system prompt.
// With MEMORY_UNLOCK (below), only the case of a slow memory read.
// Usage: node realtime_llm.mjs TLS_PORT MOCK_PORT [CALLER NOTE]   (the
// server runs an LLM agent against tests/clients/llm_mock.mjs on
// MOCK_PORT)
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import WebSocket from 'ws';
import { writeFileSync } from 'node:fs';
import { Events, run, assert } from './lib.mjs';

const [port, mockPort, caller, note] = process.argv.slice(2);
const T = 60000;

// The official client (its URL carries only ?model=).
async function officialClient() {
  const client = new OpenAI({ apiKey: 'unused', baseURL: `https://127.0.0.1:${port}/v1` });
  const rt = new OpenAIRealtimeWS({ model: 'assistant', options: { rejectUnauthorized: false } }, client);
  const ev = new Events();
  rt.on('event', (e) => ev.push(e));
  rt.on('error', () => {});   // error events are in ev too (and asserted on)
  await new Promise((res, rej) => { rt.socket.on('open', res); rt.socket.on('error', rej); });
  return { send: (e) => rt.send(e), ev, close: () => rt.close() };
}

// A plain WebSocket with our own query (?caller_id=); rejects with the
// HTTP status and body when the upgrade is refused.
function rawClient(query) {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/realtime?model=assistant&${query}`,
    { rejectUnauthorized: false });
  const ev = new Events();
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  return new Promise((res, rej) => {
    ws.on('open', () => res({ send: (e) => ws.send(JSON.stringify(e)), ev, close: () => ws.close() }));
    ws.on('unexpected-response', (req, r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => rej(Object.assign(new Error(`HTTP ${r.statusCode}`), { status: r.statusCode, body })));
    });
    ws.on('error', rej);
  });
}

// session.update (text out) and the agent's greeting, then one user turn
// answered: the system prompt of the model request it made.
async function start(c, session = {}) {
  c.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], ...session } });
  await c.ev.waitType('session.updated', T);
  await c.ev.waitType('response.done', T);   // the agent file's greeting
}
async function turn(c, text) {
  const from = c.ev.list.length;
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user',
    content: [{ type: 'input_text', text }] } });
  c.send({ type: 'response.create' });
  const d = await c.ev.waitType('response.done', T, from);
  assert(d.response.status === 'completed', `response ${d.response.status}`);
  const reqs = (await mockLog()).filter((r) => JSON.stringify(r.body.messages).includes(text));
  assert(reqs.length, `no model request carried "${text}"`);
  return reqs[reqs.length - 1].body.messages[0].content;
}

async function mockLog() {
  const r = await fetch(`http://127.0.0.1:${mockPort}/log`);
  return (await r.json()).filter((x) => x.path === '/v1/chat/completions');
}

const tests = [
  ['instructions and function tools from session.update; a function call round trip', async () => {
    // the package always speaks wss:// (banter serve's certificate is
    // self-signed)
    const client = new OpenAI({ apiKey: 'unused', baseURL: `https://127.0.0.1:${port}/v1` });
    const rt = new OpenAIRealtimeWS({ model: 'assistant', options: { rejectUnauthorized: false } }, client);
    const ev = new Events();
    const errors = [];
    rt.on('event', (e) => ev.push(e));
    rt.on('error', (e) => errors.push(e));
    await new Promise((res, rej) => { rt.socket.on('open', res); rt.socket.on('error', rej); });
    rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'],
      instructions: 'You are the weather line. Be brief.',
      tools: [{ type: 'function', name: 'get_weather', description: 'The weather in a city.',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] } });
    await ev.waitType('session.updated', T);
    await ev.waitType('response.done', T);   // the agent file's greeting
    let from = ev.list.length;
    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user',
      content: [{ type: 'input_text', text: 'what is the weather in paris' }] } });
    rt.send({ type: 'response.create' });
    const args = await ev.waitType('response.function_call_arguments.done', T, from);
    assert(args.name === 'get_weather', `called ${args.name}`);
    assert(JSON.parse(args.arguments).city === 'Paris', `arguments ${args.arguments}`);
    const delta = ev.find((e) => e.type === 'response.function_call_arguments.delta', from);
    assert(delta && delta.call_id === args.call_id, 'arguments delta with the call id');
    const added = ev.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call', from);
    assert(added && added.item.call_id === args.call_id && added.item.name === 'get_weather', 'function_call item added');
    const d1 = await ev.waitType('response.done', T, from);
    const fc = d1.response.output.find((o) => o.type === 'function_call');
    assert(fc && fc.call_id === args.call_id && fc.status === 'completed', 'response.done lists the function call');
    let reqs = await mockLog();
    const first = reqs[reqs.length - 1].body;
    assert(first.messages[0].role === 'system' && first.messages[0].content.startsWith('You are the weather line'),
      'the client\'s instructions are the system prompt');
    assert(first.tools.some((t) => t.function.name === 'get_weather'), 'the client\'s tool reaches the model');
    assert(first.tools.some((t) => t.function.name === 'save_booking'), 'the agent\'s tools stay');

    from = ev.list.length;
    rt.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: args.call_id,
      output: JSON.stringify({ temperature_c: 20, sky: 'clear' }) } });
    rt.send({ type: 'response.create' });
    const d2 = await ev.waitType('response.done', T, from);
    assert(d2.response.status === 'completed', `second response ${d2.response.status}`);
    const text = d2.response.output[0].content[0].text;
    assert(text.includes('20 degrees'), `the answer uses the output: "${text}"`);
    reqs = await mockLog();
    const second = JSON.stringify(reqs[reqs.length - 1].body.messages);
    assert(second.includes(args.call_id) && second.includes('temperature_c'), 'the output goes back with its call id');
    assert(errors.length === 0, `client errors: ${errors.map((e) => e.message)}`);
    console.log(`     ${args.name}(${args.arguments}) -> "${text}"`);
    rt.close();
  }],
];

if (caller) tests.push(
  ['?caller_id= is percent-decoded: %2B names the caller of an earlier call', async () => {
    const c = await rawClient(`caller_id=${encodeURIComponent(caller)}`);
    await start(c);
    const sys = await turn(c, 'hello from the url caller');
    assert(sys.includes('earlier calls') && sys.includes(note), `the system prompt lacks the caller's memory: ${sys}`);
    c.close();
  }],
  ['?caller_id= with a bad escape is refused with HTTP 400 and why', async () => {
    let err = null;
    try { (await rawClient('caller_id=%2G1555')).close(); } catch (e) { err = e; }
    assert(err && err.status === 400, `expected HTTP 400, got ${err ? err.message : 'a connection'}`);
    const body = JSON.parse(err.body);
    assert(body.error.code === 'invalid_value' && /percent escape/.test(body.error.message), `body ${err.body}`);
  }],
  ['session.update metadata.user_id names the caller: memory recalled', async () => {
    const c = await officialClient();
    await start(c, { metadata: { user_id: caller, plan: 'gold' } });
    const sys = await turn(c, 'hello from the metadata caller');
    assert(sys.includes('earlier calls') && sys.includes(note), `the system prompt lacks the caller's memory: ${sys}`);
    c.close();
  }],
  ['a caller named while a response runs applies from the next one', async () => {
    const c = await officialClient();
    await start(c);
    let from = c.ev.list.length;
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user',
      content: [{ type: 'input_text', text: 'a slow question' }] } });
    c.send({ type: 'response.create' });
    await c.ev.waitType('response.created', T, from);
    c.send({ type: 'session.update', session: { type: 'realtime', metadata: { caller_id: caller } } });
    await c.ev.waitType('session.updated', T, from);
    const d = await c.ev.waitType('response.done', T, from);
    assert(d.response.status === 'completed', `response ${d.response.status}`);
    const slow = (await mockLog()).filter((r) => JSON.stringify(r.body.messages).includes('a slow question'));
    assert(slow.length === 1 && !slow[0].body.messages[0].content.includes('earlier calls'),
      'the response already started got the memory');
    const sys = await turn(c, 'and the next question');
    assert(sys.includes(note), `the next response lacks the caller's memory: ${sys}`);
    c.close();
  }],
  ['an oversized or malformed caller id is an error event', async () => {
    const c = await officialClient();
    let from = c.ev.list.length;
    c.send({ type: 'session.update', event_id: 'ev_big', session: { metadata: { user_id: 'x'.repeat(200) } } });
    let e = await c.ev.waitType('error', T, from);
    assert(e.error.type === 'invalid_request_error' && e.error.code === 'invalid_value' &&
      e.error.param === 'session.metadata.user_id' && e.error.event_id === 'ev_big', `error ${JSON.stringify(e.error)}`);
    from = c.ev.list.length;
    c.send({ type: 'session.update', session: { metadata: { user_id: 15551234567 } } });
    e = await c.ev.waitType('error', T, from);
    assert(e.error.code === 'invalid_value' && e.error.param === 'session.metadata', `error ${JSON.stringify(e.error)}`);
    assert(!c.ev.find((x) => x.type === 'session.updated', from), 'a refused update still applied');
    c.close();
  }],
);

// MEMORY_UNLOCK=FILE: the store is locked by the test until FILE exists,
// so the caller's memory, read on the worker pool from the session's
// set-up, is not back when the first response must start (the agent waits
// llm.memory.wait_ms for it, then answers without it).
const unlock = process.env.MEMORY_UNLOCK;
const slowRead = ['a memory read slower than wait_ms: the first response goes without it, the next has it', async () => {
  const c = await rawClient(`caller_id=${encodeURIComponent(caller)}`);
  await start(c);
  const sys1 = await turn(c, 'hello while the store is locked');
  assert(!sys1.includes('earlier calls'), `a response got memory from a locked store: ${sys1}`);
  writeFileSync(unlock, '');
  const sys2 = await turn(c, 'hello once it is unlocked');
  assert(sys2.includes('earlier calls') && sys2.includes(note), `the next response lacks the caller's memory: ${sys2}`);
  c.close();
}];

process.exitCode = await run(unlock ? [slowRead] : tests, null);
setTimeout(() => process.exit(process.exitCode), 100);
