// Two Realtime calls to `banter serve` in turn, for
// tests/e2e/test_filler_network.sh: an LLM agent speaking in a network
// voice whose fillers are rendered ahead into the process's sentence
// cache. Each call waits for its greeting; the second also asks a question
// the model is slow to answer, so its filler is said (text and audio)
// before the answer.
// Usage: node realtime_filler.mjs HTTP_PORT SPEECH_LOG_URL FILLER
//   SPEECH_LOG_URL: the speech mock's /log; the first call ends once it
//   holds a request for FILLER (rendered ahead: no question asked).
import WebSocket from 'ws';
import { Events, run, assert, sleep } from './lib.mjs';

const [port, logUrl, filler] = process.argv.slice(2);
const T = 60000;

function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime?model=assistant`);
  const ev = new Events();
  const c = { ws, ev, send: (o) => ws.send(JSON.stringify(o)) };
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  c.opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  return c;
}
const speechLog = async () => (await fetch(logUrl)).json();
const asked = (log) => log.filter((r) => r.body?.input === filler).length;

run([
  ['the first call renders the filler ahead, after its greeting', async () => {
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    const g = await c.ev.waitType('response.done', T);
    assert(g.response.status === 'completed', `greeting ${g.response.status}`);
    const until = Date.now() + 20000;
    while (!asked(await speechLog()) && Date.now() < until) await sleep(100);
    // the other lines follow one at a time: until the requests stop
    let n = -1, log = await speechLog();
    while (log.length !== n && Date.now() < until) { n = log.length; await sleep(1500); log = await speechLog(); }
    assert(asked(log) === 1, `the filler was not asked for once (${asked(log)})`);
    c.ws.close();
  }],
  ['the second call says it from the cache', async () => {
    const before = (await speechLog()).length;
    const c = connect();
    await c.opened;
    await c.ev.waitType('session.created', T);
    await c.ev.waitType('response.done', T);
    const from = c.ev.list.length;
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'slow question' }] } });
    c.send({ type: 'response.create' });
    const done = await c.ev.wait((e) => e.type === 'response.done', T, 'the answer', from);
    assert(done.response.status === 'completed', `answer ${done.response.status}`);
    const said = c.ev.list.slice(from).filter((e) => e.type === 'response.output_audio_transcript.delta').map((e) => e.delta).join('');
    assert(said.startsWith(filler), `the reply does not begin with the filler: "${said}"`);
    const audio = c.ev.list.slice(from).filter((e) => e.type === 'response.output_audio.delta').length;
    assert(audio > 0, 'no audio in the reply');
    const errors = c.ev.list.slice(from).filter((e) => e.type === 'error');
    assert(!errors.length, `errors: ${JSON.stringify(errors)}`);
    const log = await speechLog();
    assert(asked(log) === 1, `the second call asked for the filler again (${asked(log)} requests)`);
    const inputs = log.slice(before).map((r) => r.body?.input);
    assert(inputs.some((t) => t && t.includes('Yes')), `the answer was not streamed: ${JSON.stringify(inputs)}`);
    console.log(`     said "${said}"; this call's speech requests: ${JSON.stringify(inputs)}`);
    c.ws.close();
  }],
]).then((rc) => process.exit(rc));
