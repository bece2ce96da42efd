#!/usr/bin/env node
// Self-test of llm_mock.mjs: starts it with a temporary script and checks
// its wire formats with plain fetch (and node:http where fetch hides the
// transport). Prints `ok N checks` and exits 0, or lists what failed and
// exits 1.

import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MOCK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'llm_mock.mjs');
const KEY = 'sk-test-0123456789abcdef';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm_mock_selftest-'));
const scriptFile = path.join(dir, 'script.json');
const logFile = path.join(dir, 'log.jsonl');

const ARGS2 = { people: 4, time: '19:30', note: 'window seat, "quiet" ünïcode 🍕' };
const script = {
  rules: [
    /* 0 */ { match: { last_user: '^hello', path: 'openai' },
              reply: { text: 'Hello there, how can I help you today?', first_token_ms: 150, token_ms: 5 } },
    /* 1 */ { match: { last_user: 'hours', has_tools: true, last_role: 'user' },
              reply: { tool_calls: [{ name: 'opening_hours', arguments: { day: 'tuesday' } },
                                    { name: 'book_table', arguments: ARGS2 }], token_ms: 1, first_token_ms: 10 } },
    /* 2 */ { match: { last_user: 'ratelimit' }, times: 1,
              reply: { error: { status: 429, retry_after: 1, message: 'Rate limit reached' } } },
    /* 3 */ { match: { last_user: 'ratelimit' }, reply: { text: 'Recovered.', first_token_ms: 0, token_ms: 0 } },
    /* 4 */ { match: { last_role: 'tool' }, reply: { text: 'We are open from noon to ten.', first_token_ms: 0, token_ms: 1 } },
    /* 5 */ { match: { last_user: 'overload', path: 'anthropic' }, reply: { error: { status: 529 } } },
    /* 6 */ { match: { last_user: 'cut' }, reply: { text: 'one two three four five six', cut_after_tokens: 3, first_token_ms: 0, token_ms: 1 } },
    /* 7 */ { match: { last_user: 'malformed' }, reply: { text: 'still fine after that', malformed: true, first_token_ms: 0, token_ms: 1 } },
    /* 8 */ { match: { last_user: 'stall' }, reply: { stall: true } },
    /* 9 */ { match: { model: 'long-model' }, reply: { text: 'Truncated reply', finish: 'length', first_token_ms: 0, token_ms: 0 } },
    /* 10 */ { match: { system: 'keep notes' }, reply: { text: 'Noted.', first_token_ms: 0, token_ms: 0 } },
  ],
  default: { text: 'I did not understand.', first_token_ms: 0, token_ms: 0 },
  hooks: { opening_hours: { result: { hours: 'noon to ten' }, fail_times: 1, delay_ms: 20 } },
};
fs.writeFileSync(scriptFile, JSON.stringify(script, null, 2));

let checks = 0;
const failures = [];
function check(cond, what, detail) {
  checks++;
  if (!cond) failures.push(detail === undefined ? what : `${what}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  return cond;
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------- helpers

let base;
const OA = () => ({ 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` });
const AN = () => ({ 'Content-Type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' });

const oaBody = (text, extra = {}) => ({ model: 'gpt-mock', stream: true, messages: [
  { role: 'system', content: 'You are a test.' }, { role: 'user', content: text }], ...extra });
const anBody = (text, extra = {}) => ({ model: 'claude-mock', max_tokens: 256, stream: true,
  messages: [{ role: 'user', content: text }], ...extra });

// Reads an SSE body, noting when each event arrived (ms since t0). Events:
// {event, data (string), json (parsed or undefined), t}. A cut stream
// returns what arrived plus error.
async function readSSE(res, t0) {
  const events = [];
  const dec = new TextDecoder();
  let buf = '', error = null;
  try {
    for await (const chunk of res.body) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { event: null, data: '', t: performance.now() - t0 };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data += line.slice(6);
        }
        try { ev.json = JSON.parse(ev.data); } catch { ev.json = undefined; }
        events.push(ev);
      }
    }
  } catch (e) { error = e; }
  return { events, rest: buf, error };
}

async function post(p, headers, body) {
  const t0 = performance.now();
  const res = await fetch(base + p, { method: 'POST', headers, body: JSON.stringify(body) });
  return { res, t0 };
}

// ---------------------------------------------------------------- checks

async function openaiText() {
  const { res, t0 } = await post('/v1/chat/completions', OA(), oaBody('Hello, are you there?'));
  check(res.status === 200, 'openai stream status 200', res.status);
  check(/^text\/event-stream/.test(res.headers.get('content-type')), 'openai content-type is text/event-stream', res.headers.get('content-type'));
  const { events, error, rest } = await readSSE(res, t0);
  check(!error && rest === '', 'openai stream ends cleanly', String(error));
  check(events.at(-1)?.data === '[DONE]', '[DONE] is last', events.at(-1)?.data);
  check(events.filter((e) => e.data === '[DONE]').length === 1, 'exactly one [DONE]');
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => e.json);
  check(chunks.every((c) => c && c.object === 'chat.completion.chunk' && c.id === chunks[0].id && /^chatcmpl-/.test(c.id) &&
                       c.model === 'gpt-mock' && c.system_fingerprint === 'fp_mock' && Number.isInteger(c.created)),
        'every chunk is a chat.completion.chunk with the same id and the request model', chunks[0]);
  check(chunks.every((c) => !('usage' in c)), 'no usage field without include_usage');
  check(eq(chunks[0].choices[0].delta, { role: 'assistant', content: '' }), 'first delta is role + empty content', chunks[0].choices[0]);
  const last = chunks.at(-1).choices[0];
  check(eq(last.delta, {}) && last.finish_reason === 'stop', 'last chunk: empty delta, finish_reason stop', last);
  check(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null && c.choices[0].logprobs === null && c.choices[0].index === 0),
        'finish_reason null until the last chunk');
  const toks = chunks.map((c) => c.choices[0].delta.content).filter((x) => typeof x === 'string' && x !== '');
  check(toks.join('') === 'Hello there, how can I help you today?', 'openai text reassembles', toks.join(''));
  check(eq(toks.slice(0, 4), ['Hello', ' there', ',', ' how']), 'tokens keep leading spaces, punctuation alone', toks);
  const first = events.find((e) => e.json?.choices?.[0]?.delta?.content);
  check(first && first.t >= 150, 'first token no sooner than first_token_ms (150)', first?.t);
}

async function openaiUsage() {
  const { res, t0 } = await post('/v1/chat/completions', OA(), oaBody('blah', { stream_options: { include_usage: true } }));
  const { events } = await readSSE(res, t0);
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => e.json);
  const u = chunks.at(-1);
  check(eq(u.choices, []) && Number.isInteger(u.usage?.prompt_tokens) && Number.isInteger(u.usage?.completion_tokens) &&
        u.usage.total_tokens === u.usage.prompt_tokens + u.usage.completion_tokens, 'include_usage: last chunk has choices [] and usage', u);
  check(chunks.slice(0, -1).every((c) => c.usage === null), 'include_usage: other chunks carry usage null');
  check(chunks.at(-2).choices[0].finish_reason === 'stop', 'finish chunk precedes the usage chunk');
  check(events.at(-1).data === '[DONE]', '[DONE] after the usage chunk');
  const texts = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  check(texts === 'I did not understand.', 'unmatched request gets the default reply', texts);
}

async function openaiTools() {
  const tools = [{ type: 'function', function: { name: 'opening_hours', parameters: { type: 'object' } } }];
  const { res, t0 } = await post('/v1/chat/completions', OA(), oaBody('What are your hours?', { tools }));
  const { events } = await readSSE(res, t0);
  check(events.at(-1)?.data === '[DONE]', 'tool stream: [DONE] last');
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => e.json);
  check(chunks.at(-1).choices[0].finish_reason === 'tool_calls', 'finish_reason tool_calls', chunks.at(-1).choices[0]);
  const calls = [], order = [];
  let badShape = null;
  for (const c of chunks) {
    for (const tc of c.choices[0].delta.tool_calls ?? []) {
      order.push(tc.index);
      if (!calls[tc.index]) {
        if (!(tc.id && tc.type === 'function' && typeof tc.function?.name === 'string' && tc.function.arguments === ''))
          badShape = tc;
        calls[tc.index] = { id: tc.id, name: tc.function.name, args: '', pieces: [] };
      } else {
        if (tc.id !== undefined || tc.function?.name !== undefined || Object.keys(tc).join() !== 'index,function') badShape = tc;
        calls[tc.index].args += tc.function.arguments;
        calls[tc.index].pieces.push(tc.function.arguments);
      }
    }
  }
  check(!badShape, 'tool_call deltas: opening chunk has id/type/name/"" args, later ones only index + arguments', badShape);
  check(calls.length === 2 && calls[0].name === 'opening_hours' && calls[1].name === 'book_table', 'two tool calls by name', calls.map((c) => c.name));
  check(calls.every((c) => /^call_[A-Za-z0-9]{24}$/.test(c.id)), 'tool call ids look like call_...', calls.map((c) => c.id));
  let parsed = [];
  try { parsed = calls.map((c) => JSON.parse(c.args)); } catch (e) { parsed = null; }
  check(parsed && eq(parsed[0], { day: 'tuesday' }) && eq(parsed[1], ARGS2), 'argument pieces concatenate to the JSON arguments', calls.map((c) => c.args));
  check(calls.every((c) => c.pieces.length > 1 && c.pieces.slice(0, -1).every((p) => [...p].length >= 3 && [...p].length <= 8)),
        'argument pieces are 3-8 characters', calls.map((c) => c.pieces));
  check(eq(order, [...order].sort((a, b) => a - b)), 'tool calls are not interleaved', order);

  // The same, not streamed.
  const r2 = await post('/v1/chat/completions', OA(), { ...oaBody('What are your hours?', { tools }), stream: false });
  const j = await r2.res.json();
  const m = j.choices?.[0]?.message;
  check(j.object === 'chat.completion' && j.choices[0].finish_reason === 'tool_calls' && m.role === 'assistant' && m.content === null &&
        m.tool_calls?.length === 2 && eq(JSON.parse(m.tool_calls[1].function.arguments), ARGS2) && m.tool_calls[0].type === 'function' &&
        j.usage?.total_tokens > 0, 'non-streaming chat.completion with tool_calls', j);
  const r3 = await post('/v1/chat/completions', OA(), { model: 'gpt-mock', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
  const j3 = await r3.res.json();
  check(j3.choices?.[0]?.message?.content === 'Hello there, how can I help you today?' && j3.choices[0].finish_reason === 'stop',
        'non-streaming text reply; content-array user text matches', j3);
}

async function openaiToolResult() {
  const msgs = [{ role: 'user', content: 'What are your hours?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'opening_hours', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'call_x', content: '{"hours":"noon to ten"}' }];
  const { res, t0 } = await post('/v1/chat/completions', OA(), { model: 'gpt-mock', stream: true, messages: msgs,
    tools: [{ type: 'function', function: { name: 'opening_hours' } }] });
  const { events } = await readSSE(res, t0);
  const text = events.filter((e) => e.json).map((e) => e.json.choices[0]?.delta?.content ?? '').join('');
  check(text === 'We are open from noon to ten.', 'last_role tool matches after a tool result (not the has_tools rule)', text);
}

async function openaiLength() {
  const { res, t0 } = await post('/v1/chat/completions', OA(), { ...oaBody('anything'), model: 'long-model' });
  const { events } = await readSSE(res, t0);
  check(events.at(-2)?.json?.choices[0]?.finish_reason === 'length', 'finish override gives length', events.at(-2)?.json);
}

// match.system: the system messages' text (OpenAI), the system field
// (Anthropic)
async function systemMatch() {
  let { res, t0 } = await post('/v1/chat/completions', OA(), { ...oaBody('summary please'),
    messages: [{ role: 'system', content: 'You keep notes.' }, { role: 'user', content: 'summary please' }] });
  let { events } = await readSSE(res, t0);
  let text = events.filter((e) => e.json?.choices).map((e) => e.json.choices[0]?.delta?.content ?? '').join('');
  check(text === 'Noted.', 'openai system prompt matched', text);
  ({ res, t0 } = await post('/v1/messages', AN(), anBody('summary please', { system: 'You keep notes.' })));
  ({ events } = await readSSE(res, t0));
  text = events.filter((e) => e.event === 'content_block_delta').map((e) => e.json.delta.text ?? '').join('');
  check(text === 'Noted.', 'anthropic system field matched', text);
  ({ res, t0 } = await post('/v1/chat/completions', OA(), oaBody('summary please')));
  ({ events } = await readSSE(res, t0));
  text = events.filter((e) => e.json?.choices).map((e) => e.json.choices[0]?.delta?.content ?? '').join('');
  check(text === 'I did not understand.', 'another system prompt is not matched', text);
}

async function anthropicText() {
  const { res, t0 } = await post('/v1/messages', AN(), anBody('Hello there'));
  check(res.status === 200 && /^text\/event-stream/.test(res.headers.get('content-type')), 'anthropic stream 200 event-stream');
  const { events, error } = await readSSE(res, t0);
  check(!error, 'anthropic stream ends cleanly', String(error));
  check(events.every((e) => e.json && e.event === e.json.type), 'every event name equals its data type', events.map((e) => [e.event, e.json?.type]));
  const names = events.map((e) => e.event).filter((n) => n !== 'ping');
  const want = ['message_start', 'content_block_start', ...Array(names.length - 5).fill('content_block_delta'),
    'content_block_stop', 'message_delta', 'message_stop'];
  check(eq(names, want), 'anthropic event order', names);
  const ms = events[0].json.message;
  check(ms.id.startsWith('msg_') && ms.type === 'message' && ms.role === 'assistant' && ms.model === 'claude-mock' && eq(ms.content, []) &&
        ms.stop_reason === null && ms.stop_sequence === null && Number.isInteger(ms.usage.input_tokens) && ms.usage.output_tokens === 1,
        'message_start carries an empty Message', ms);
  const cbs = events.find((e) => e.event === 'content_block_start').json;
  check(eq(cbs, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }), 'text content_block_start', cbs);
  const text = events.filter((e) => e.event === 'content_block_delta').map((e) => {
    if (e.json.delta.type !== 'text_delta' || e.json.index !== 0) throw new Error('bad text delta');
    return e.json.delta.text;
  }).join('');
  check(text === 'I did not understand.', 'anthropic text reassembles (rule 0 is openai-only)', text);
  const md = events.find((e) => e.event === 'message_delta').json;
  check(md.delta.stop_reason === 'end_turn' && md.delta.stop_sequence === null && Number.isInteger(md.usage.output_tokens),
        'message_delta end_turn with usage', md);
}

async function anthropicTools() {
  const tools = [{ name: 'opening_hours', input_schema: { type: 'object' } }];
  const { res, t0 } = await post('/v1/messages', AN(), anBody('your hours please', { tools }));
  const { events } = await readSSE(res, t0);
  const names = events.map((e) => e.event).filter((n) => n !== 'ping');
  // Compress runs of deltas to check the shape.
  const shape = names.filter((n, i) => !(n === 'content_block_delta' && names[i - 1] === 'content_block_delta'));
  check(eq(shape, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']),
  'anthropic tool event order (two tool_use blocks, no text block)', names);
  const blocks = [];
  for (const e of events) {
    if (e.event === 'content_block_start') blocks[e.json.index] = { ...e.json.content_block, json: '' };
    if (e.event === 'content_block_delta') {
      if (e.json.delta.type !== 'input_json_delta') throw new Error('bad delta type');
      blocks[e.json.index].json += e.json.delta.partial_json;
    }
  }
  check(blocks.length === 2 && blocks.every((b) => b.type === 'tool_use' && /^toolu_/.test(b.id) && eq(b.input, {})),
        'tool_use blocks start with id toolu_... and input {}', blocks);
  check(eq(JSON.parse(blocks[0].json), { day: 'tuesday' }) && eq(JSON.parse(blocks[1].json), ARGS2),
        'input_json_delta pieces concatenate to the arguments', blocks.map((b) => b.json));
  check(events.find((e) => e.event === 'message_delta').json.delta.stop_reason === 'tool_use', 'stop_reason tool_use');

  // A user turn of only tool_result blocks counts as role "tool".
  const r2 = await post('/v1/messages', AN(), { model: 'claude-mock', max_tokens: 100, stream: false, tools, messages: [
    { role: 'user', content: [{ type: 'text', text: 'your hours please' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_x', name: 'opening_hours', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'noon to ten' }] }] });
  const j = await r2.res.json();
  check(j.type === 'message' && j.role === 'assistant' && eq(j.content, [{ type: 'text', text: 'We are open from noon to ten.' }]) &&
        j.stop_reason === 'end_turn' && j.usage?.output_tokens > 0, 'non-streaming Message; tool_result turn is last_role tool', j);
}

async function errors() {
  // 429 with Retry-After, once (times: 1), then the next rule.
  let { res } = await post('/v1/chat/completions', OA(), oaBody('ratelimit me'));
  let j = await res.json();
  check(res.status === 429 && res.headers.get('retry-after') === '1', 'openai 429 with Retry-After', [res.status, res.headers.get('retry-after')]);
  check(eq(Object.keys(j.error), ['message', 'type', 'param', 'code']) && j.error.message === 'Rate limit reached' &&
        j.error.code === 'rate_limit_exceeded' && j.error.param === null, 'openai error body shape', j);
  ({ res } = await post('/v1/chat/completions', OA(), { ...oaBody('ratelimit me'), stream: false }));
  j = await res.json();
  check(res.status === 200 && j.choices[0].message.content === 'Recovered.', 'times: 1 is honoured', [res.status, j]);

  ({ res } = await post('/v1/messages', AN(), anBody('overload please')));
  j = await res.json();
  check(res.status === 529 && j.type === 'error' && j.error.type === 'overloaded_error' && typeof j.error.message === 'string',
        'anthropic 529 overloaded_error', [res.status, j]);

  // Authentication.
  ({ res } = await post('/v1/chat/completions', { ...OA(), Authorization: 'Bearer sk-wrong-key-123456' }, oaBody('hello')));
  j = await res.json();
  check(res.status === 401 && j.error.code === 'invalid_api_key' && j.error.type === 'invalid_request_error' &&
        /^Incorrect API key provided/.test(j.error.message) && j.error.param === null, 'openai wrong key: 401', [res.status, j]);
  ({ res } = await post('/v1/messages', { ...AN(), 'x-api-key': 'nope' }, anBody('hello')));
  j = await res.json();
  check(res.status === 401 && eq({ type: j.type, error: j.error }, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }),
        'anthropic wrong key: 401', [res.status, j]);
  const noVer = AN(); delete noVer['anthropic-version'];
  ({ res } = await post('/v1/messages', noVer, anBody('hello')));
  j = await res.json();
  check(res.status === 400 && j.type === 'error' && j.error.type === 'invalid_request_error', 'missing anthropic-version: 400', [res.status, j]);

  res = await fetch(base + '/v2/nothing');
  j = await res.json();
  check(res.status === 404 && j.error?.code === 'unknown_url', 'unknown route: 404 JSON', [res.status, j]);
}

async function hooks() {
  const call = () => fetch(base + '/hooks/opening_hours', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ day: 'tuesday' }) });
  let res = await call();
  await res.arrayBuffer();
  check(res.status === 500, 'hook fails first (fail_times 1)', res.status);
  res = await call();
  const j = await res.json();
  check(res.status === 200 && eq(j, { hours: 'noon to ten' }), 'hook then succeeds with its result', [res.status, j]);
  res = await fetch(base + '/hooks/unknown', { method: 'POST', body: '{}' });
  check(res.status === 404, 'unknown hook: 404', res.status);
  await res.arrayBuffer();
}

async function faults() {
  // cut_after_tokens: 3 tokens, then the connection dies mid-body.
  let { res, t0 } = await post('/v1/chat/completions', OA(), oaBody('cut please'));
  let r = await readSSE(res, t0);
  const toks = r.events.filter((e) => e.json?.choices?.[0]?.delta?.content).map((e) => e.json.choices[0].delta.content);
  check(r.error && eq(toks, ['one', ' two', ' three']) && !r.events.some((e) => e.data === '[DONE]'),
        'cut_after_tokens 3: three tokens then a truncated body', [toks, String(r.error)]);

  ({ res, t0 } = await post('/v1/messages', AN(), anBody('cut please')));
  r = await readSSE(res, t0);
  const atoks = r.events.filter((e) => e.json?.delta?.type === 'text_delta').map((e) => e.json.delta.text);
  check(r.error && eq(atoks, ['one', ' two', ' three']) && !r.events.some((e) => e.event === 'message_stop'),
        'anthropic cut_after_tokens 3', [atoks, String(r.error)]);

  // malformed: one data line that is not JSON, then the stream goes on.
  ({ res, t0 } = await post('/v1/chat/completions', OA(), oaBody('malformed please')));
  r = await readSSE(res, t0);
  const bad = r.events.filter((e) => e.data !== '[DONE]' && e.json === undefined);
  const text = r.events.filter((e) => e.json).map((e) => e.json.choices[0].delta.content ?? '').join('');
  check(!r.error && bad.length === 1 && text === 'still fine after that' && r.events.at(-1).data === '[DONE]',
        'malformed: exactly one bad data line, the rest intact', [bad.map((e) => e.data), text]);

  // stall: headers arrive, nothing after.
  const ac = new AbortController();
  const t = performance.now();
  res = await fetch(base + '/v1/chat/completions', { method: 'POST', headers: OA(), body: JSON.stringify(oaBody('stall please')), signal: ac.signal });
  const headersAfter = performance.now() - t;
  const reader = res.body.getReader();
  const got = await Promise.race([reader.read().then(() => 'data'), new Promise((r) => setTimeout(() => r('silence'), 400))]);
  ac.abort();
  check(res.status === 200 && headersAfter < 300 && got === 'silence', 'stall: headers, then silence', [res.status, headersAfter, got]);
}

async function transport() {
  // Chunked transfer and keep-alive, seen with node:http on one socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () => new Promise((resolve, reject) => {
    const req = http.request(base + '/v1/chat/completions', { method: 'POST', agent, headers: OA() }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ res, body, socket: req.socket }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(oaBody('hello again')));
  });
  const a = await once();
  const b = await once();
  check(a.res.headers['transfer-encoding'] === 'chunked' && a.res.headers['content-length'] === undefined, 'stream uses chunked transfer',
        a.res.headers);
  check(a.res.headers.connection === 'keep-alive' && a.socket === b.socket, 'connection kept alive and reused', a.res.headers.connection);
  check(/data: \[DONE\]\n\n$/.test(b.body), 'raw body ends with data: [DONE]\\n\\n', b.body.slice(-40));
  agent.destroy();
}

async function logAndReset() {
  let log = await (await fetch(base + '/log')).json();
  check(Array.isArray(log) && log.length > 10, 'GET /log returns the requests', log.length);
  const e = log.find((x) => x.path === '/v1/messages' && x.rule === 1);
  check(e && e.method === 'POST' && e.headers['x-api-key'] === KEY && e.body?.model === 'claude-mock' && typeof e.t_ms === 'number' &&
        e.tool_call_ids?.length === 2, 'log entry: method, lower-cased headers, body, t_ms, rule', e);
  check(log.some((x) => x.rule === 'default'), 'log records "default"');
  check(log.some((x) => x.hook === 'opening_hours' && x.body?.day === 'tuesday'), 'log records hook calls');
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  check(lines.length === log.length && eq(lines.at(-1), log.at(-1)), '--log file has the same entries, one per line', [lines.length, log.length]);

  await (await fetch(base + '/reset', { method: 'POST' })).arrayBuffer();
  log = await (await fetch(base + '/log')).json();
  check(log.length === 0, 'POST /reset clears the log', log.length);
  const { res } = await post('/v1/chat/completions', OA(), oaBody('ratelimit me'));
  await res.arrayBuffer();
  check(res.status === 429, 'POST /reset restores times', res.status);
  const h = await fetch(base + '/hooks/opening_hours', { method: 'POST', body: '{}' });
  await h.arrayBuffer();
  check(h.status === 500, 'POST /reset restores hook fail_times', h.status);
}

function badScript() {
  const f = path.join(dir, 'bad.json');
  fs.writeFileSync(f, JSON.stringify({ rules: [{ match: { last_usr: 'x' }, reply: { text: 'y' } }] }));
  const r = spawnSync(process.execPath, [MOCK, '--script', f], { encoding: 'utf8', timeout: 10000 });
  check(r.status === 2 && /last_usr/.test(r.stderr), 'bad script: exit 2 with a message naming the field', [r.status, r.stderr]);
  fs.writeFileSync(f, '{ not json');
  const r2 = spawnSync(process.execPath, [MOCK, '--script', f], { encoding: 'utf8', timeout: 10000 });
  check(r2.status === 2 && /bad script/.test(r2.stderr), 'unparsable script: exit 2', [r2.status, r2.stderr]);
}

// ---------------------------------------------------------------- main

const child = spawn(process.execPath, [MOCK, '--script', scriptFile, '--port', '0', '--log', logFile, '--key', KEY,
  '--first-token-ms', '0', '--token-ms', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    const m = /^listening (\d+)\n/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  child.on('exit', (code) => reject(new Error(`mock exited with ${code} before listening`)));
  setTimeout(() => reject(new Error('mock did not print "listening PORT" within 10 s')), 10000);
});
base = `http://127.0.0.1:${port}`;

try {
  for (const t of [openaiText, openaiUsage, openaiTools, openaiToolResult, openaiLength, systemMatch, anthropicText, anthropicTools,
    errors, hooks, faults, transport, logAndReset, badScript]) {
    try { await t(); } catch (e) { failures.push(`${t.name} threw: ${e.stack}`); }
  }
} finally {
  child.kill('SIGTERM');
}
const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
check(code === 0, 'mock exits 0 on SIGTERM', code);
fs.rmSync(dir, { recursive: true, force: true });

if (failures.length) {
  console.log(`FAILED ${failures.length} of ${checks} checks:`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log(`ok ${checks} checks`);
process.exit(0);
