#!/usr/bin/env node
// llm_mock.mjs: a scripted stand-in for cloud LLM providers, for the tests
// of the engine. Node 18+, built-ins only.
//
//   node tests/clients/llm_mock.mjs --script FILE [--port N] [--log FILE]
//        [--first-token-ms MS] [--first-token-jitter-ms MS] [--token-ms MS]
//        [--key KEY]
//
// It prints one line `listening PORT` on stdout, then serves on 127.0.0.1
// until SIGTERM/SIGINT:
//
//   POST /v1/chat/completions  OpenAI Chat Completions (streaming and not)
//   POST /v1/messages          Anthropic Messages (streaming and not)
//   POST /hooks/NAME           a webhook tool, answered from the script
//   GET  /log                  every request so far, as a JSON array
//                              (t_ms since the mock started; at: wall
//                              clock, ms since the epoch)
//   POST /reset                clears the log and all use counts
//
// Each reply is chosen by the script's rules (see validateScript below and
// the header of llm_mock_selftest.mjs for an example). The wire formats
// follow the providers' public documentation; the comments below point out
// where they are subtle, since the engine's parsers are what is under test.

import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';

// ---------------------------------------------------------------- options

function usage(msg) {
  if (msg) process.stderr.write(`llm_mock: ${msg}\n`);
  process.stderr.write('usage: node llm_mock.mjs --script FILE [--port N (0 = any)] [--log FILE] ' +
    '[--first-token-ms MS (default 100)] [--first-token-jitter-ms MS (default 0)] ' +
    '[--token-ms MS (default 15)] [--key KEY]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { script: null, port: 0, log: null, firstTokenMs: 100, jitterMs: 0, tokenMs: 15, key: null };
  const num = (name, v) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n < 0) usage(`${name} needs a number >= 0, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    switch (a) {
      case '--script': if (v === undefined) usage('--script needs a file'); o.script = v; i++; break;
      case '--port': o.port = num(a, v); if (!Number.isInteger(o.port) || o.port > 65535) usage('bad --port'); i++; break;
      case '--log': if (v === undefined) usage('--log needs a file'); o.log = v; i++; break;
      case '--first-token-ms': o.firstTokenMs = num(a, v); i++; break;
      // Up to MS more, uniform, per request (reproducible: seeded by the
      // request's number). A benchmark needs it: a fixed delay and token
      // rate that are whole frames lock the answer's arrival to the
      // client's 20 ms frame clock, always the same wait for the next frame.
      case '--first-token-jitter-ms': o.jitterMs = num(a, v); i++; break;
      case '--token-ms': o.tokenMs = num(a, v); i++; break;
      case '--key': if (v === undefined) usage('--key needs a value'); o.key = v; i++; break;
      case '-h': case '--help': usage();
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!o.script) usage('--script is required');
  return o;
}

// ---------------------------------------------------------------- script

const FINISH = ['stop', 'tool_calls', 'length', 'end_turn', 'tool_use', 'max_tokens'];

// Checks the script strictly (unknown keys are errors: a typo in a test
// script should fail loudly, not silently match everything). Throws an
// Error whose message names the offending field.
function validateScript(s) {
  const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
  const fail = (where, what) => { throw new Error(`${where}: ${what}`); };
  const keys = (x, allowed, where) => {
    for (const k of Object.keys(x)) if (!allowed.includes(k)) fail(where, `unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  };
  const nonNeg = (x, where, int = false) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (int && !Number.isInteger(x)))
      fail(where, `must be a${int ? 'n integer' : ' number'} >= 0`);
  };

  const reply = (r, where) => {
    if (!isObj(r)) fail(where, 'must be an object');
    keys(r, ['text', 'tool_calls', 'first_token_ms', 'token_ms', 'finish', 'cut_after_tokens', 'malformed', 'error', 'stall'], where);
    if (r.text !== undefined && typeof r.text !== 'string') fail(`${where}.text`, 'must be a string');
    if (r.tool_calls !== undefined) {
      if (!Array.isArray(r.tool_calls)) fail(`${where}.tool_calls`, 'must be an array');
      r.tool_calls.forEach((c, i) => {
        const w = `${where}.tool_calls[${i}]`;
        if (!isObj(c)) fail(w, 'must be an object');
        keys(c, ['name', 'arguments'], w);
        if (typeof c.name !== 'string' || !c.name) fail(`${w}.name`, 'must be a non-empty string');
        // An object is JSON-encoded; a string is sent as-is (so a test can
        // script arguments that are not valid JSON).
        if (c.arguments !== undefined && !isObj(c.arguments) && typeof c.arguments !== 'string')
          fail(`${w}.arguments`, 'must be an object or a string');
      });
    }
    if (r.first_token_ms !== undefined) nonNeg(r.first_token_ms, `${where}.first_token_ms`);
    if (r.token_ms !== undefined) nonNeg(r.token_ms, `${where}.token_ms`);
    if (r.finish !== undefined && !FINISH.includes(r.finish)) fail(`${where}.finish`, `must be one of ${FINISH.join(', ')}`);
    if (r.cut_after_tokens !== undefined) nonNeg(r.cut_after_tokens, `${where}.cut_after_tokens`, true);
    if (r.malformed !== undefined && typeof r.malformed !== 'boolean') {
      nonNeg(r.malformed, `${where}.malformed`, true);   // a number: after that many tokens
    }
    if (r.stall !== undefined && typeof r.stall !== 'boolean') fail(`${where}.stall`, 'must be a boolean');
    if (r.error !== undefined) {
      const e = r.error, w = `${where}.error`;
      if (!isObj(e)) fail(w, 'must be an object');
      keys(e, ['status', 'retry_after', 'message', 'type', 'code'], w);
      if (!Number.isInteger(e.status) || e.status < 400 || e.status > 599) fail(`${w}.status`, 'must be an HTTP status 400..599');
      if (e.retry_after !== undefined && typeof e.retry_after !== 'number' && typeof e.retry_after !== 'string')
        fail(`${w}.retry_after`, 'must be a number or a string');
      for (const k of ['message', 'type', 'code'])
        if (e[k] !== undefined && typeof e[k] !== 'string') fail(`${w}.${k}`, 'must be a string');
    }
  };

  if (!isObj(s)) fail('script', 'must be a JSON object');
  keys(s, ['rules', 'default', 'hooks'], 'script');
  const rules = s.rules ?? [];
  if (!Array.isArray(rules)) fail('rules', 'must be an array');
  rules.forEach((rule, i) => {
    const w = `rules[${i}]`;
    if (!isObj(rule)) fail(w, 'must be an object');
    keys(rule, ['match', 'times', 'reply'], w);
    const m = rule.match ?? {};
    if (!isObj(m)) fail(`${w}.match`, 'must be an object');
    keys(m, ['model', 'last_user', 'last_role', 'has_tools', 'path', 'system'], `${w}.match`);
    if (m.model !== undefined && typeof m.model !== 'string') fail(`${w}.match.model`, 'must be a string');
    if (m.last_user !== undefined) {
      if (typeof m.last_user !== 'string') fail(`${w}.match.last_user`, 'must be a string (a regex)');
      try { new RegExp(m.last_user, 'i'); } catch (e) { fail(`${w}.match.last_user`, `bad regex: ${e.message}`); }
    }
    if (m.system !== undefined) {
      if (typeof m.system !== 'string') fail(`${w}.match.system`, 'must be a string (a regex)');
      try { new RegExp(m.system, 'i'); } catch (e) { fail(`${w}.match.system`, `bad regex: ${e.message}`); }
    }
    if (m.last_role !== undefined && !['user', 'tool', 'assistant', 'system'].includes(m.last_role))
      fail(`${w}.match.last_role`, 'must be user, tool, assistant or system');
    if (m.has_tools !== undefined && typeof m.has_tools !== 'boolean') fail(`${w}.match.has_tools`, 'must be a boolean');
    if (m.path !== undefined && !['openai', 'anthropic'].includes(m.path)) fail(`${w}.match.path`, 'must be openai or anthropic');
    if (rule.times !== undefined) nonNeg(rule.times, `${w}.times`, true);
    if (rule.reply === undefined) fail(w, 'needs a "reply"');
    reply(rule.reply, `${w}.reply`);
  });
  if (s.default !== undefined) reply(s.default, 'default');
  const hooks = s.hooks ?? {};
  if (!isObj(hooks)) fail('hooks', 'must be an object');
  for (const [name, h] of Object.entries(hooks)) {
    const w = `hooks.${name}`;
    if (!isObj(h)) fail(w, 'must be an object');
    keys(h, ['result', 'delay_ms', 'fail_times', 'status', 'retry_after_s'], w);
    if (h.retry_after_s !== undefined) nonNeg(h.retry_after_s, `${w}.retry_after_s`, true);
    if (h.delay_ms !== undefined) nonNeg(h.delay_ms, `${w}.delay_ms`);
    if (h.fail_times !== undefined) nonNeg(h.fail_times, `${w}.fail_times`, true);
    if (h.status !== undefined && (!Number.isInteger(h.status) || h.status < 100 || h.status > 599))
      fail(`${w}.status`, 'must be an HTTP status');
  }
  return {
    rules: rules.map((r) => ({ match: r.match ?? {}, times: r.times, reply: r.reply,
                               re: r.match?.last_user !== undefined ? new RegExp(r.match.last_user, 'i') : null,
                               sysRe: r.match?.system !== undefined ? new RegExp(r.match.system, 'i') : null })),
    default: s.default ?? { text: 'I did not understand.' },
    hooks,
  };
}

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomId(n) {
  const b = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[b[i] % ALNUM.length];
  return s;
}

// Splits text into word-sized tokens the way BPE tokenizers do: a token
// carries its leading whitespace ("Hello", " there", ",", " how"), and
// punctuation stands alone. The tokens always join back to the text exactly.
const TOKEN_RE = /\s*(?:[\p{L}\p{N}\p{M}_'’]+|[^\s\p{L}\p{N}\p{M}_'’])|\s+$/gu;
function tokenize(text) {
  const toks = text.match(TOKEN_RE) ?? [];
  return toks.join('') === text ? toks : Array.from(text);
}

// A small seeded PRNG (mulberry32) so that the argument pieces of a given
// request are reproducible from run to run.
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

// Splits a tool call's JSON arguments into pieces of 3..8 characters (the
// last may be shorter), by code point so no piece holds half a surrogate pair.
function splitPieces(str, rand) {
  const cps = Array.from(str), out = [];
  for (let i = 0; i < cps.length;) {
    const n = 3 + Math.floor(rand() * 6);
    out.push(cps.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

const approxTokens = (s) => Math.max(1, Math.ceil(s.length / 4));

// The text of an OpenAI message's content: a string, or an array of parts
// of which the {type:"text", text} ones count.
function openaiText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.filter((p) => p && p.type === 'text' && typeof p.text === 'string').map((p) => p.text).join('\n');
  return '';
}

// Anthropic: content is a string or an array of blocks; text blocks count,
// tool_result blocks do not.
function anthropicText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.filter((b) => b && b.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('\n');
  return '';
}
const anthropicToolOnly = (m) => Array.isArray(m.content) && m.content.length > 0 &&
  m.content.every((b) => b && b.type === 'tool_result');

// What the rules match on, for either provider.
function facts(route, body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  let lastUser = null, lastRole = null, system = '';
  if (route === 'openai') {
    // the system prompt: the system (or developer) messages' text
    system = msgs.filter((m) => m?.role === 'system' || m?.role === 'developer')
      .map((m) => openaiText(m.content)).join('\n');
    for (let i = msgs.length - 1; i >= 0; i--)
      if (msgs[i]?.role === 'user') { lastUser = openaiText(msgs[i].content); break; }
    lastRole = msgs.length ? msgs[msgs.length - 1]?.role ?? null : null;
  } else {
    // A user message made only of tool_result blocks is a tool turn: it
    // counts as role "tool" and is skipped when looking for the user's
    // words, so last_user means the same thing on both routes.
    const role = (m) => (m?.role === 'user' && anthropicToolOnly(m) ? 'tool' : m?.role ?? null);
    system = anthropicText(body.system);
    for (let i = msgs.length - 1; i >= 0; i--)
      if (role(msgs[i]) === 'user') { lastUser = anthropicText(msgs[i].content); break; }
    lastRole = msgs.length ? role(msgs[msgs.length - 1]) : null;
  }
  return {
    path: route,
    model: body.model,
    lastUser,
    lastRole,
    system,
    hasTools: Array.isArray(body.tools) && body.tools.length > 0,
  };
}

// ---------------------------------------------------------------- state

const opts = parseArgs(process.argv.slice(2));
let script;
try {
  script = validateScript(JSON.parse(fs.readFileSync(opts.script, 'utf8')));
} catch (e) {
  process.stderr.write(`llm_mock: bad script ${opts.script}: ${e.message}\n`);
  process.exit(2);
}
if (opts.log) {
  try { fs.appendFileSync(opts.log, ''); } catch (e) {
    process.stderr.write(`llm_mock: cannot write log ${opts.log}: ${e.message}\n`);
    process.exit(2);
  }
}

const t0 = Date.now();
let log = [];
let seq = 0;            // request counter: ids and the argument splitter's seed
let uses = script.rules.map(() => 0);
let hookCalls = {};

function record(entry) {
  log.push(entry);
  if (opts.log) fs.appendFileSync(opts.log, JSON.stringify(entry) + '\n');
}

// First rule whose match holds and whose uses are not spent; counts the use.
function pick(f) {
  for (let i = 0; i < script.rules.length; i++) {
    const r = script.rules[i], m = r.match;
    if (r.times !== undefined && uses[i] >= r.times) continue;
    if (m.path !== undefined && m.path !== f.path) continue;
    if (m.model !== undefined && m.model !== f.model) continue;
    if (m.has_tools !== undefined && m.has_tools !== f.hasTools) continue;
    if (m.last_role !== undefined && m.last_role !== f.lastRole) continue;
    if (r.re && (f.lastUser === null || !r.re.test(f.lastUser))) continue;
    if (r.sysRe && !r.sysRe.test(f.system)) continue;
    uses[i]++;
    return { index: i, reply: r.reply };
  }
  return { index: 'default', reply: script.default };
}

// ---------------------------------------------------------------- errors
// Bodies in each provider's documented error shape.

function openaiError(status, message, type, code) {
  const dflt = {
    400: ['invalid_request_error', null],
    401: ['invalid_request_error', 'invalid_api_key'],
    403: ['invalid_request_error', 'unsupported_country_region_territory'],
    404: ['invalid_request_error', 'model_not_found'],
    429: ['requests', 'rate_limit_exceeded'],
  }[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
  return { error: { message: message ?? defaultMessage(status), type: type ?? dflt[0], param: null, code: code ?? dflt[1] } };
}

function anthropicError(status, message, type) {
  const t = type ?? ({
    400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
    404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 529: 'overloaded_error',
  }[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'));
  // Current API responses also carry the request id at the top level.
  return { type: 'error', error: { type: t, message: message ?? defaultMessage(status) }, request_id: `req_mock${randomId(20)}` };
}

function defaultMessage(status) {
  return {
    400: 'Invalid request.', 401: 'Unauthorized.', 403: 'Forbidden.', 404: 'Not found.',
    429: 'Rate limit reached. Please try again later.', 500: 'The server had an error while processing your request.',
    503: 'The service is temporarily unavailable.', 529: 'Overloaded',
  }[status] ?? `HTTP ${status}`;
}

function sendJson(res, status, obj, extra = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

// ---------------------------------------------------------------- replies

const STOP = {
  openai: { stop: 'stop', end_turn: 'stop', tool_calls: 'tool_calls', tool_use: 'tool_calls', length: 'length', max_tokens: 'length' },
  anthropic: { stop: 'end_turn', end_turn: 'end_turn', tool_calls: 'tool_use', tool_use: 'tool_use', length: 'max_tokens', max_tokens: 'max_tokens' },
};

// Everything about one reply that both providers need.
function plan(route, reply, n) {
  const rand = rng(n * 2654435761);
  const calls = (reply.tool_calls ?? []).map((c) => {
    const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {});
    return {
      name: c.name,
      args,
      pieces: splitPieces(args, rand),
      id: route === 'openai' ? `call_${randomId(24)}` : `toolu_${randomId(24)}`,
    };
  });
  const text = reply.text ?? '';
  const tokens = tokenize(text);
  const natural = calls.length ? 'tool_calls' : 'stop';
  const finish = STOP[route][reply.finish ?? natural];
  const completionTokens = tokens.length + calls.reduce((a, c) => a + approxTokens(c.args) + 5, 0) || 1;
  return {
    text, tokens, calls, finish, completionTokens,
    firstMs: reply.first_token_ms ?? opts.firstTokenMs + opts.jitterMs * rng(n)(),
    tokenMs: reply.token_ms ?? opts.tokenMs,
    cut: reply.cut_after_tokens,
    malformedAt: reply.malformed === true ? 1 : (typeof reply.malformed === 'number' ? reply.malformed : null),
  };
}

// Paces the content units of a stream (text tokens and tool-argument
// pieces): token_ms between units, a cut after cut_after_tokens units, and
// one malformed event after the malformed-th unit.
class Pacer {
  constructor(res, p, writeMalformed) {
    this.res = res; this.p = p; this.count = 0; this.writeMalformed = writeMalformed;
    this.gone = false;
    res.on('close', () => { if (!res.writableFinished) this.gone = true; });
  }
  // Closes the connection mid-body: no terminating zero-length chunk, so
  // the client sees a truncated chunked response. The events already
  // written must reach the client first: the HTTP layer corks the socket
  // until the next tick, and destroy() drops whatever is still queued, so
  // wait a tick and then for an empty write, which completes only after
  // everything before it was handed to the kernel.
  cutNow() {
    this.gone = true;
    const s = this.res.socket;
    if (!s) return;
    setImmediate(() => { if (s.destroyed) return; s.write('', () => s.destroy()); });
  }
  // Sends one unit via write(); false when the stream is over (cut or the
  // client went away) and the caller must stop.
  async unit(write) {
    if (this.gone) return false;
    if (this.p.cut !== undefined && this.count >= this.p.cut) { this.cutNow(); return false; }
    if (this.count > 0 && this.p.tokenMs > 0) { await sleep(this.p.tokenMs); if (this.gone) return false; }
    write();
    this.count++;
    if (this.p.malformedAt === this.count) this.writeMalformed();
    return true;
  }
  // Before the final events: a cut that the reply was too short to reach
  // still happens, so cut_after_tokens always yields a truncated stream.
  finishing() {
    if (this.gone) return false;
    if (this.p.cut !== undefined) { this.cutNow(); return false; }
    return true;
  }
}

function sseHeaders(res, extra) {
  // Real providers send `text/event-stream; charset=utf-8`; no
  // Content-Length, so Node uses chunked transfer encoding, and the
  // connection stays open for the next request (keep-alive).
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    ...extra,
  });
  res.flushHeaders();
}

// ---- OpenAI Chat Completions

async function openaiStream(res, body, p, id) {
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = body.stream_options?.include_usage === true;
  const model = body.model ?? 'mock';
  // Every chunk repeats id/object/created/model/system_fingerprint. With
  // include_usage, the API also puts "usage": null on every chunk but the
  // last, which carries the totals and an empty choices array.
  const chunk = (delta, finish = null) => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  const pacer = new Pacer(res, p, () =>
    // A data line that is not valid JSON (cut off mid-object).
    res.write(`data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"choices":[{"index":0,"delta":{"content":\n\n`));

  sseHeaders(res, { 'x-request-id': `req_${randomId(16)}`, 'openai-processing-ms': String(Math.round(p.firstMs)) });
  if (p.stall) return;
  await sleep(p.firstMs);
  if (pacer.gone) return;
  // The first chunk announces the role with empty content.
  send(chunk({ role: 'assistant', content: '' }));
  for (const tok of p.tokens)
    if (!(await pacer.unit(() => send(chunk({ content: tok }))))) return;
  for (let i = 0; i < p.calls.length; i++) {
    const c = p.calls[i];
    // A tool call opens with its index, id, type and name and an empty
    // arguments string; later chunks carry only index and an arguments
    // piece, which the client appends. Calls are not interleaved.
    let opened = false;
    const open = () => send(chunk({ tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const piece of c.pieces)
      if (!(await pacer.unit(() => {
        if (!opened) { open(); opened = true; }
        send(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
      }))) return;
    if (!opened) open();
  }
  if (!pacer.finishing()) return;
  send(chunk({}, p.finish));
  if (includeUsage) {
    const prompt = approxTokens(JSON.stringify(body.messages ?? []) + JSON.stringify(body.tools ?? []));
    send({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [],
           usage: { prompt_tokens: prompt, completion_tokens: p.completionTokens, total_tokens: prompt + p.completionTokens } });
  }
  res.write('data: [DONE]\n\n');
  res.end();
}

function openaiFull(body, p, id) {
  const prompt = approxTokens(JSON.stringify(body.messages ?? []) + JSON.stringify(body.tools ?? []));
  const message = { role: 'assistant', content: p.text === '' && p.calls.length ? null : p.text, refusal: null };
  if (p.calls.length)
    message.tool_calls = p.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
  return {
    id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model ?? 'mock',
    system_fingerprint: 'fp_mock',
    choices: [{ index: 0, message, logprobs: null, finish_reason: p.finish }],
    usage: { prompt_tokens: prompt, completion_tokens: p.completionTokens, total_tokens: prompt + p.completionTokens },
  };
}

// ---- Anthropic Messages

async function anthropicStream(res, body, p, id) {
  const model = body.model ?? 'mock';
  const input = approxTokens(JSON.stringify(body.messages ?? []) + JSON.stringify(body.system ?? '') + JSON.stringify(body.tools ?? []));
  // Every event is `event: NAME` + `data: JSON` whose "type" equals NAME.
  const send = (obj) => res.write(`event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`);
  let block = -1;   // index of the open content block, for the malformed event
  const pacer = new Pacer(res, p, () =>
    res.write(`event: content_block_delta\ndata: {"type":"content_block_delta","index":${block},"delta":{"type":"text_delta","text":\n\n`));

  sseHeaders(res, { 'request-id': `req_${randomId(24)}` });
  if (p.stall) return;
  // message_start carries the Message with empty content; output_tokens
  // starts at 1 as the API reports it. A ping may follow at any point.
  send({ type: 'message_start', message: {
    id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: input, output_tokens: 1 } } });
  send({ type: 'ping' });
  await sleep(p.firstMs);
  if (pacer.gone) return;
  // A text block only when there is text, or when there is nothing else.
  if (p.text !== '' || p.calls.length === 0) {
    block++;
    send({ type: 'content_block_start', index: block, content_block: { type: 'text', text: '' } });
    for (const tok of p.tokens)
      if (!(await pacer.unit(() => send({ type: 'content_block_delta', index: block, delta: { type: 'text_delta', text: tok } })))) return;
    send({ type: 'content_block_stop', index: block });
  }
  for (const c of p.calls) {
    // tool_use starts with input {} and the input arrives as partial JSON
    // strings; the first is empty, as the API sends it.
    block++;
    send({ type: 'content_block_start', index: block, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
    send({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const piece of c.pieces)
      if (!(await pacer.unit(() => send({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: piece } })))) return;
    send({ type: 'content_block_stop', index: block });
  }
  if (!pacer.finishing()) return;
  send({ type: 'message_delta', delta: { stop_reason: p.finish, stop_sequence: null }, usage: { output_tokens: p.completionTokens } });
  send({ type: 'message_stop' });
  res.end();
}

function anthropicFull(body, p, id) {
  const input = approxTokens(JSON.stringify(body.messages ?? []) + JSON.stringify(body.system ?? '') + JSON.stringify(body.tools ?? []));
  const content = [];
  if (p.text !== '' || p.calls.length === 0) content.push({ type: 'text', text: p.text });
  for (const c of p.calls) {
    let inputObj;
    try { inputObj = JSON.parse(c.args); } catch { inputObj = {}; }
    content.push({ type: 'tool_use', id: c.id, name: c.name, input: inputObj });
  }
  return {
    id, type: 'message', role: 'assistant', model: body.model ?? 'mock', content,
    stop_reason: p.finish, stop_sequence: null, usage: { input_tokens: input, output_tokens: p.completionTokens },
  };
}

// ---------------------------------------------------------------- routes

async function handleLLM(route, req, res, headers, body, entry) {
  // Authentication, in each provider's error shape.
  if (opts.key !== null) {
    if (route === 'openai') {
      const auth = headers.authorization;
      if (!auth) {
        record(entry);
        return sendJson(res, 401, openaiError(401, "You didn't provide an API key. You need to provide your API key in an " +
          'Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).', 'invalid_request_error', null));
      }
      const m = /^Bearer\s+(.*)$/i.exec(auth);
      if (!m || m[1] !== opts.key) {
        const k = m ? m[1] : auth;
        const masked = k.length > 8 ? `${k.slice(0, 3)}*********${k.slice(-4)}` : '*****';
        record(entry);
        return sendJson(res, 401, openaiError(401, `Incorrect API key provided: ${masked}. You can find your API key at ` +
          'https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'));
      }
    } else if (headers['x-api-key'] !== opts.key) {
      record(entry);
      return sendJson(res, 401, anthropicError(401, headers['x-api-key'] === undefined ? 'x-api-key header is required' : 'invalid x-api-key'));
    }
  }
  const bad = (msg) => {
    record(entry);
    return sendJson(res, 400, route === 'openai' ? openaiError(400, msg) : anthropicError(400, msg));
  };
  if (route === 'anthropic' && !headers['anthropic-version']) return bad('anthropic-version: header is required');
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    return bad(route === 'openai'
      ? "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)"
      : 'There was an issue with your request body: the body must be a JSON object.');
  if (!Array.isArray(body.messages))
    return bad(route === 'openai' ? "Missing required parameter: 'messages'." : 'messages: Field required');
  if (typeof body.model !== 'string') return bad(route === 'openai' ? 'you must provide a model parameter' : 'model: Field required');
  // The Messages API requires max_tokens; a client that omits it fails there.
  if (route === 'anthropic' && body.max_tokens === undefined) return bad('max_tokens: Field required');

  const n = ++seq;
  const { index, reply } = pick(facts(route, body));
  const p = plan(route, reply, n);
  const id = route === 'openai' ? `chatcmpl-${n}` : `msg_${n}`;
  entry.rule = index;
  entry.response_id = id;
  if (p.calls.length) entry.tool_call_ids = p.calls.map((c) => c.id);
  record(entry);

  if (reply.error) {
    const e = reply.error, extra = {};
    if (e.retry_after !== undefined) extra['Retry-After'] = String(e.retry_after);
    return sendJson(res, e.status, route === 'openai' ? openaiError(e.status, e.message, e.type, e.code)
                                                      : anthropicError(e.status, e.message, e.type), extra);
  }
  p.stall = reply.stall === true;
  if (body.stream === true)
    return route === 'openai' ? openaiStream(res, body, p, id) : anthropicStream(res, body, p, id);

  // Not streaming: answer after the time the stream would have taken.
  if (p.stall) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    return;
  }
  const units = p.tokens.length + p.calls.reduce((a, c) => a + c.pieces.length, 0);
  await sleep(p.firstMs + p.tokenMs * Math.max(0, units - 1));
  if (res.destroyed) return;
  if (p.cut !== undefined) { res.socket?.destroy(); return; }
  const json = JSON.stringify(route === 'openai' ? openaiFull(body, p, id) : anthropicFull(body, p, id));
  const out = p.malformedAt !== null ? json.slice(0, Math.floor(json.length / 2)) : json;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
  res.end(out);
}

async function handleHook(name, res, entry) {
  const h = script.hooks[name];
  entry.hook = name;
  if (!h) {
    record(entry);
    return sendJson(res, 404, { error: `unknown hook ${name}` });
  }
  const call = (hookCalls[name] = (hookCalls[name] ?? 0) + 1);
  const fail = call <= (h.fail_times ?? 0);
  entry.hook_call = call;
  entry.hook_failed = fail;
  record(entry);
  if (h.delay_ms) await sleep(h.delay_ms);
  if (res.destroyed) return;
  // a failure with retry_after_s is a 503 that says when to come back
  // (the Retry-After header, in seconds)
  if (fail && h.retry_after_s !== undefined) {
    return sendJson(res, 503, { error: 'mock hook unavailable', call },
      { 'Retry-After': String(h.retry_after_s) });
  }
  if (fail) return sendJson(res, 500, { error: 'mock hook failure', call });
  const status = h.status ?? 200;
  if (typeof h.result === 'string') {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(h.result) });
    return res.end(h.result);
  }
  return sendJson(res, status, h.result ?? {});
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://localhost').pathname;
    const raw = await readBody(req);
    let body;
    if (raw !== '') { try { body = JSON.parse(raw); } catch { body = raw; } }
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
    const entry = { t_ms: Date.now() - t0, at: Date.now(), method: req.method, path, headers, body: body ?? null, rule: null };

    if (req.method === 'GET' && path === '/log') return sendJson(res, 200, log);
    if (req.method === 'POST' && path === '/reset') {
      log = []; uses = script.rules.map(() => 0); hookCalls = {};
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return await handleLLM('openai', req, res, headers, body, entry);
    if (req.method === 'POST' && path === '/v1/messages') return await handleLLM('anthropic', req, res, headers, body, entry);
    if (req.method === 'POST' && path.startsWith('/hooks/') && path.length > 7)
      return await handleHook(decodeURIComponent(path.slice(7)), res, entry);
    record(entry);
    // OpenAI's answer to an unknown URL.
    return sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}. Please check the URL for typos.`,
                                          type: 'invalid_request_error', param: null, code: 'unknown_url' } });
  } catch (e) {
    process.stderr.write(`llm_mock: ${e.stack}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: { message: String(e.message), type: 'server_error', param: null, code: null } });
    else res.destroy();
  }
});
// Keep idle connections well past any test's pause between turns (Node's
// default of 5 s would race with a client reusing a pooled connection), and
// never time out a request that is stalling on purpose.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.requestTimeout = 0;

server.on('error', (e) => {
  process.stderr.write(`llm_mock: ${e.message}\n`);
  process.exit(2);
});
server.listen(opts.port, '127.0.0.1', () => {
  fs.writeSync(1, `listening ${server.address().port}\n`);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
