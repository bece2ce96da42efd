// banter's browser client: one call over the Realtime protocol on the same
// host (/v1/realtime), microphone in and the agent's voice out as PCM16 at
// 24 kHz, transcripts of both sides as they form, and each reply's latency.
//
// Page parameters: ?key=K     API key (sent as the browser subprotocol)
//                  ?raw=1     no echo cancellation, noise suppression or gain
//                             control on the microphone (tests, measurements)
//                  ?voice=V   the agent's voice (alloy, coral, ...)
//                  ?chunk_ms=N  microphone audio per append, 20..200 (default 40)
// window.bt exposes counters and the event log for tests.
const RATE = 24000;
const VOICE_RMS = 0.01;   // a chunk this loud (-40 dBFS) has speech in it

const params = new URLSearchParams(location.search);
const CHUNK_MS = Math.min(200, Math.max(20, Number(params.get('chunk_ms')) || 40));
const $ = (id) => document.getElementById(id);
const ui = { talk: $('talk'), status: $('status'), transcript: $('transcript'),
  typed: $('typed'), text: $('text'), errors: $('errors') };

const stats = { audioMs: 0, playedMs: 0, sentMs: 0, events: 0 };
const bt = window.bt = { stats, log: [], playing: false };

// The call: null when there is none.
let call = null;

function newCall() {
  return {
    ws: null, ctx: null, micCtx: null, mic: null, capture: null, playback: null,
    hangingUp: false,
    resp: null,              // the active response {id, item}
    lastDone: null,          // the item of the newest finished response
    cut: new Set(),          // items whose late audio is dropped
    ready: false,            // session.updated came
    pendingText: [],         // typed before the session was ready
    createAfterDone: false,  // a typed turn waits for the cancelled reply
    nText: 0,
    lastVoiceAt: 0,          // when the page last sent audio with speech
    awaitingReply: 0,        // speech end of a turn not answered yet (0: none)
    replyWait: null,         // {resp, since}: first audio not received yet
  };
}

// ---- showing things ----

function setStatus(s) { ui.status.textContent = s; }

function showError(s) {
  const li = document.createElement('li');
  li.textContent = s;
  li.dataset.testid = 'error';
  ui.errors.append(li);
}

const lines = new Map();   // item id -> {li, text, full, who}

function line(id, who) {
  let l = lines.get(id);
  if (l) return l;
  const li = document.createElement('li');
  li.className = who;
  li.dataset.testid = `line-${who}`;
  li.dataset.item = id;
  const name = document.createElement('span');
  name.className = 'who';
  name.textContent = who === 'user' ? 'You' : 'Agent';
  const text = document.createElement('span');
  text.className = 'text';
  text.dataset.testid = `text-${who}`;
  li.append(name, text);
  ui.transcript.append(li);
  l = { li, textEl: text, text: '', full: '', who };
  lines.set(id, l);
  setLine(l, '', 'partial');
  return l;
}

// state: partial (forming), final, or cut (the words heard, then what was not)
function setLine(l, text, state) {
  l.text = text;
  l.li.dataset.state = state;
  l.li.setAttribute('aria-busy', state === 'partial' ? 'true' : 'false');
  l.textEl.textContent = text || (state === 'partial' ? '…' : '');
  if (state === 'cut') {
    const rest = l.full.startsWith(text) ? l.full.slice(text.length) : '';
    if (rest.trim()) {
      const s = document.createElement('span');
      s.className = 'unheard';
      s.title = 'not heard: interrupted';
      s.textContent = rest;
      l.textEl.append(s);
    }
    if (!text) l.textEl.prepend('(interrupted before any word) ');
  }
  l.li.scrollIntoView({ block: 'nearest' });
}

function showLatency(item, kind, ms) {
  const l = lines.get(item);
  if (!l || ms == null) return;
  let box = l.li.querySelector('.latency');
  if (!box) {
    box = document.createElement('span');
    box.className = 'latency';
    l.li.append(box);
  }
  let cell = box.querySelector(`[data-testid="latency-${kind}"]`);
  if (!cell) {
    cell = document.createElement('span');
    cell.dataset.testid = `latency-${kind}`;
    if (kind === 'server') box.prepend(cell); else box.append(cell);
  }
  cell.dataset.ms = String(Math.round(ms));
  cell.textContent = `${kind === 'server' ? 'voice-to-voice (server)' : 'voice-to-voice (page)'}: ${Math.round(ms)} ms`;
  cell.title = kind === 'server' ?
    "banter's measurement: end of your speech to its first audio out" :
    'measured here: last audio with speech sent to the first audio received';
  if (box.children.length === 2 && !box.querySelector('.sep'))
    box.firstChild.after(Object.assign(document.createElement('span'), { className: 'sep', textContent: ' · ' }));
}

// ---- sending ----

function send(o) {
  if (call && call.ws && call.ws.readyState === WebSocket.OPEN) call.ws.send(JSON.stringify(o));
}

function b64(pcm) {
  const u8 = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function pcmFromB64(s) {
  const bin = atob(s), n = bin.length >> 1, out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    if (v >= 0x8000) v -= 0x10000;
    out[i] = v / 0x8000;
  }
  return out;
}

// Stop the agent's voice now (barge-in, a typed turn): drop what is queued;
// the worklet answers with how much of the item it really played.
function interrupt() {
  const c = call;
  const item = c.resp && c.resp.item;
  if (item) c.cut.add(item);
  if (c.playback) c.playback.port.postMessage({ type: 'flush', tag: item });
}

function onPlayback({ data: m }) {
  if (m.type === 'state') {
    bt.playing = m.playing;
  } else if (m.type === 'played') {
    stats.playedMs = m.totalMs;
  } else if (m.type === 'flushed' && m.item && (m.queued || m.item === m.tag)) {
    // the agent's item is cut to what this page played of it
    send({ type: 'conversation.item.truncate', item_id: m.item, content_index: 0,
      audio_end_ms: Math.floor(m.playedMs) });
  }
}

function sendText(text) {
  const c = call;
  if (!c) { start(false, [text]); return; }   // a call without the microphone
  if (!c.ready) { c.pendingText.push(text); return; }
  send({ type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  if (c.resp) {
    send({ type: 'response.cancel' });
    interrupt();
    c.createAfterDone = true;   // response.create once the reply is done
  } else {
    send({ type: 'response.create', event_id: `text_${++c.nText}` });
  }
}

// ---- server events ----

function onEvent(e) {
  const c = call;
  stats.events++;
  if (e.type !== 'response.output_audio.delta') {
    bt.log.push(e.type);
    if (bt.log.length > 500) bt.log.shift();
  }
  switch (e.type) {
  case 'session.updated':
    if (!c.ready) {
      c.ready = true;
      setStatus(c.mic ? 'Connected: speak any time.' : 'Connected.');
      for (const t of c.pendingText.splice(0)) sendText(t);
    }
    break;
  case 'input_audio_buffer.speech_started':
    interrupt();
    c.awaitingReply = 0;
    setStatus('Listening…');
    break;
  case 'input_audio_buffer.speech_stopped':
    c.awaitingReply = c.lastVoiceAt || performance.now();
    setStatus('Thinking…');
    break;
  case 'conversation.item.input_audio_transcription.delta': {
    const l = line(e.item_id, 'user');
    setLine(l, e.banter_partial ?? l.text + e.delta, 'partial');
    break;
  }
  case 'conversation.item.input_audio_transcription.completed': {
    const l = line(e.item_id, 'user');
    setLine(l, e.transcript || '(nothing recognised)', 'final');
    // partials of speech that never became an item (noise, a restart)
    for (const [id, o] of lines)
      if (o.who === 'user' && id !== e.item_id && o.li.dataset.state === 'partial') { o.li.remove(); lines.delete(id); }
    break;
  }
  case 'conversation.item.added': {
    const it = e.item;
    const part = it.content && it.content[0];
    if (it.role === 'user' && part && part.type === 'input_text') setLine(line(it.id, 'user'), part.text, 'final');
    break;
  }
  case 'response.created':
    c.resp = { id: e.response.id, item: null };
    if (c.awaitingReply) c.replyWait = { resp: e.response.id, since: c.awaitingReply };
    c.awaitingReply = 0;
    break;
  case 'response.output_item.added':
    if (c.resp) c.resp.item = e.item.id;
    line(e.item.id, 'agent');
    setStatus('The agent is speaking.');
    break;
  case 'response.output_audio_transcript.delta':
  case 'response.output_text.delta': {
    const l = line(e.item_id, 'agent');
    l.full += e.delta;
    setLine(l, l.full, 'partial');
    break;
  }
  case 'response.output_audio_transcript.done':
  case 'response.output_text.done': {
    const l = line(e.item_id, 'agent');
    setLine(l, e.transcript ?? e.text, c.cut.has(e.item_id) ? 'cut' : 'final');
    break;
  }
  case 'response.output_audio.delta': {
    if (c.cut.has(e.item_id) || !c.playback) break;
    const pcm = pcmFromB64(e.delta);
    stats.audioMs += pcm.length * 1000 / RATE;
    c.playback.port.postMessage({ type: 'push', item: e.item_id, pcm }, [pcm.buffer]);
    if (c.replyWait && c.replyWait.resp === e.response_id) {
      showLatency(e.item_id, 'page', performance.now() - c.replyWait.since);
      c.replyWait = null;
    }
    break;
  }
  case 'response.done': {
    const r = e.response;
    const item = r.output && r.output[0] && r.output[0].id;
    if (item && r.status !== 'completed') {
      const l = line(item, 'agent');
      setLine(l, l.text, 'cut');
    }
    c.lastDone = item || null;
    c.resp = null;
    c.replyWait = null;
    setStatus('Your turn.');
    if (c.createAfterDone) {
      c.createAfterDone = false;
      send({ type: 'response.create', event_id: `text_${++c.nText}` });
    }
    break;
  }
  case 'banter.turn':
    if (c.lastDone) showLatency(c.lastDone, 'server', e.turn.voice_to_voice_ms);
    break;
  case 'conversation.item.truncated':
    send({ type: 'conversation.item.retrieve', item_id: e.item_id });
    break;
  case 'conversation.item.retrieved': {
    const l = lines.get(e.item.id), part = e.item.content && e.item.content[0];
    if (l && part) setLine(l, part.transcript ?? part.text ?? '', 'cut');
    break;
  }
  case 'error': {
    const er = e.error || {};
    // a typed turn that met a reply just starting: cancel it, then retry
    if (er.code === 'conversation_already_has_active_response' && String(er.event_id).startsWith('text_')) {
      send({ type: 'response.cancel' });
      interrupt();
      c.createAfterDone = true;
      break;
    }
    showError(`Server error (${er.code || er.type}): ${er.message}`);
    break;
  }
  }
}

// ---- the call ----

async function startMic(c) {
  const on = !params.has('raw');
  c.mic = await navigator.mediaDevices.getUserMedia({ audio: {
    channelCount: 1, echoCancellation: on, noiseSuppression: on, autoGainControl: on } });
  let ctx = c.ctx, src;
  try {
    src = ctx.createMediaStreamSource(c.mic);
  } catch {
    // a browser that will not mix rates: capture at its own rate, resampled in the worklet
    ctx = c.micCtx = new AudioContext();
    await ctx.audioWorklet.addModule('capture-worklet.js');
    src = ctx.createMediaStreamSource(c.mic);
  }
  c.capture = new AudioWorkletNode(ctx, 'capture', { processorOptions: { rate: RATE, chunkMs: CHUNK_MS } });
  c.capture.port.onmessage = ({ data }) => {
    if (call !== c || c.hangingUp) return;
    if (data.rms >= VOICE_RMS) c.lastVoiceAt = performance.now();
    send({ type: 'input_audio_buffer.append', audio: b64(data.pcm) });
    stats.sentMs += data.pcm.length * 1000 / RATE;
  };
  src.connect(c.capture);
  c.capture.connect(ctx.destination);   // silent; keeps the node pulled
}

async function start(withMic, texts = []) {
  const c = call = newCall();
  c.pendingText = texts;
  ui.talk.textContent = 'Hang up';
  ui.talk.setAttribute('aria-pressed', 'true');
  setStatus('Connecting…');
  try {
    c.ctx = new AudioContext({ sampleRate: RATE });
    await c.ctx.resume();
    await c.ctx.audioWorklet.addModule('playback-worklet.js');
    await c.ctx.audioWorklet.addModule('capture-worklet.js');
    c.playback = new AudioWorkletNode(c.ctx, 'playback', { outputChannelCount: [1] });
    c.playback.port.onmessage = onPlayback;
    c.playback.connect(c.ctx.destination);
  } catch (err) {
    showError(`Audio output unavailable: ${err.message}`);
  }
  const key = params.get('key');
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/realtime`;
  c.ws = new WebSocket(url, key ? ['realtime', `openai-insecure-api-key.${key}`] : []);
  c.ws.onopen = () => {
    const audio = { input: { format: { type: 'audio/pcm', rate: RATE } },
      output: { format: { type: 'audio/pcm', rate: RATE } } };
    if (params.get('voice')) audio.output.voice = params.get('voice');
    send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['audio'], audio } });
  };
  c.ws.onmessage = (m) => { if (call === c) onEvent(JSON.parse(m.data)); };
  c.ws.onclose = (e) => {
    if (call !== c) return;
    const why = `${e.code}${e.reason ? ` "${e.reason}"` : ''}`;
    if (!c.hangingUp && e.code !== 1000) showError(`Connection closed: ${why}`);
    setStatus(c.hangingUp ? 'Call ended.' : `The call ended (${why}).`);
    stop(c);
  };
  if (withMic) {
    try {
      await startMic(c);
    } catch (err) {
      showError(`Microphone unavailable (${err.name}: ${err.message}): you can still type.`);
    }
  }
}

// Hang up: the capture worklet stops before the socket closes.
function stop(c) {
  c.hangingUp = true;
  if (c.capture) {
    c.capture.port.postMessage('stop');
    c.capture.disconnect();
    c.capture.port.onmessage = null;
  }
  if (c.mic) for (const t of c.mic.getTracks()) t.stop();
  if (c.playback) {
    c.playback.port.onmessage = null;
    c.playback.port.postMessage({ type: 'flush' });
  }
  if (c.ws && c.ws.readyState <= WebSocket.OPEN) c.ws.close(1000, 'hang up');
  for (const ctx of [c.ctx, c.micCtx]) if (ctx) ctx.close().catch(() => {});
  if (call === c) call = null;
  bt.playing = false;
  ui.talk.textContent = 'Talk';
  ui.talk.setAttribute('aria-pressed', 'false');
}

ui.talk.addEventListener('click', () => {
  if (call) { stop(call); setStatus('Call ended.'); } else start(true);
});

ui.typed.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = ui.text.value.trim();
  if (!t) return;
  ui.text.value = '';
  sendText(t);
});
