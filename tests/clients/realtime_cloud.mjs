// A Realtime client of `banter serve` whose agent hears through a Deepgram
// server and speaks through an ElevenLabs one (the mocks of
// tests/e2e/test_serve_cloud.sh): a voice turn end to end, a barge-in
// over the greeting, and a caller who sends no audio for 10 s, then speaks. Usage: node realtime_cloud.mjs HTTP_PORT
import WebSocket from 'ws';
import { Events, callerAudio, stream, run, assert, sleep } from './lib.mjs';

const [port] = process.argv.slice(2);
const URL = `ws://127.0.0.1:${port}/v1/realtime`;
const DATA = new globalThis.URL('../data/', import.meta.url).pathname;
const T = 60000;

function connect() {
  const ws = new WebSocket(URL);
  const ev = new Events();
  const c = { ws, ev, send: (o) => ws.send(JSON.stringify(o)) };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  c.opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  return c;
}
const audioBytes = (ev, from = 0) => ev.list.slice(from).filter((e) => e.type === 'response.output_audio.delta')
  .reduce((n, e) => n + Buffer.from(e.delta, 'base64').length, 0);

run([
  ['a voice turn: Deepgram hears, ElevenLabs speaks', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    const g = await c.ev.waitType('response.done', T);
    assert(g.response.status === 'completed', `greeting ${g.response.status}`);
    assert(audioBytes(c.ev) > 24000 * 2, 'the greeting has the network voice\'s audio');
    const from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav'));
    const tr = await c.ev.wait((e) => e.type === 'conversation.item.input_audio_transcription.completed', T, 'the transcript', from);
    assert(tr.transcript === 'a table for three please', `Deepgram's words, got "${tr.transcript}"`);
    const done = await c.ev.wait((e) => e.type === 'response.done', T, 'the reply', from);
    assert(done.response.status === 'completed', `reply ${done.response.status}`);
    assert(audioBytes(c.ev, from) > 0, 'the reply has audio');
    console.log(`     heard "${tr.transcript}", answered "${done.response.output[0].content[0].transcript}"`);
    c.ws.close();
  }],
  ['barge-in over the network voice cancels the reply', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    await c.ev.waitType('response.output_audio.delta', T);
    await sleep(600);
    const from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav', 0, 1500));
    const done = await c.ev.wait((e) => e.type === 'response.done', T, 'the greeting ends', 0);
    assert(done.response.status === 'cancelled', `the greeting was ${done.response.status}`);
    void from;
    c.ws.close();
  }],
  ['a caller who sends no audio for 10 s, then speaks', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    await c.ev.waitType('response.done', T);
    // nothing appended: the line is silent, and its silence goes on to
    // Deepgram as audio (test_serve_cloud.sh checks the server's log)
    await sleep(10000);
    const from = c.ev.list.length;
    await stream(c.send, callerAudio(DATA + 'table_for_three_slt.wav'));
    const tr = await c.ev.wait((e) => e.type === 'conversation.item.input_audio_transcription.completed', T, 'the transcript', from);
    assert(tr.transcript === 'a table for three please', `Deepgram's words after the silence, got "${tr.transcript}"`);
    c.ws.close();
  }],
]);
