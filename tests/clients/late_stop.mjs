// A call whose model runs a slow webhook tool when the server is told to
// stop (SIGTERM): the client asks its question as text, prints READY once
// the webhook has been called (the test sends the signal then) and waits
// for the server to close the connection. What happens to the tool's
// result is the test's to check (the log, the caller's memory).
// Usage: node late_stop.mjs HTTP_PORT MOCK_PORT CALLER
import WebSocket from 'ws';
import { Events, run, assert } from './lib.mjs';

const [port, mockPort, caller] = process.argv.slice(2);
const T = 60000;

async function hooks() {
  const r = await fetch(`http://127.0.0.1:${mockPort}/log`);
  return (await r.json()).filter((x) => x.path.startsWith('/hooks/'));
}

process.exitCode = await run([['a slow tool is running when the server stops', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime?model=assistant&caller_id=${encodeURIComponent(caller)}`);
  const ev = new Events();
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  const closed = new Promise((res) => ws.on('close', (code) => res(code)));
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  const send = (e) => ws.send(JSON.stringify(e));
  send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
  await ev.waitType('session.updated', T);
  await ev.waitType('response.done', T);   // the greeting
  send({ type: 'conversation.item.create', item: { type: 'message', role: 'user',
    content: [{ type: 'input_text', text: 'are you open on sunday' }] } });
  send({ type: 'response.create' });
  const t0 = Date.now();
  while (!(await hooks()).length) {
    assert(Date.now() - t0 < T, 'the model never called the webhook');
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log('READY');
  const code = await closed;
  console.log(`     the server closed the connection (${code})`);
}]]);
setTimeout(() => process.exit(process.exitCode), 100);
