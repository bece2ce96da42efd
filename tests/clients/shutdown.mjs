// A call in progress when the server is told to stop (SIGTERM): the caller
// hears a goodbye, then the server closes the connection. Prints READY once
// the call is up (the test sends the signal then) and "1 passed, 0 failed".
// Usage: node shutdown.mjs HTTP_PORT
import WebSocket from 'ws';
import { Events, run, assert } from './lib.mjs';

const port = process.argv[2];
const T = 60000;
process.exitCode = await run([['a live call hears a goodbye on shutdown', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime`);
  const ev = new Events();
  ws.on('message', (m) => ev.push(JSON.parse(m.toString())));
  const closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  await new Promise((r) => ws.on('open', r));
  await ev.waitType('response.done', T);  // the greeting
  const from = ev.list.length;
  console.log('READY');
  const bye = await ev.wait((e) => e.type === 'response.done' && /goodbye/i.test(JSON.stringify(e.response.output)), T, 'the goodbye', from);
  assert(bye.response.status === 'completed', `goodbye ${bye.response.status}`);
  assert(ev.find((e) => e.type === 'response.output_audio.delta' && e.response_id === bye.response.id, from), 'the goodbye was spoken');
  const cl = await closed;
  assert(cl.code === 1000 || cl.code === 1001, `closed with ${cl.code}`);
  console.log(`     heard "${bye.response.output[0].content[0].transcript}", then close ${cl.code}`);
}]]);
setTimeout(() => process.exit(process.exitCode), 100);
