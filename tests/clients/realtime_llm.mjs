// An LLM agent behind `banter serve`, driven by the official `openai`
// package's Realtime client: the client's own instructions and function
// tools reach the model; a function call comes back to the client as
// OpenAI's Realtime model sends one (output item, arguments delta and
// done), and its function_call_output continues the response.
// Usage: node realtime_llm.mjs TLS_PORT MOCK_PORT   (the server runs an
// LLM agent against tests/clients/llm_mock.mjs on MOCK_PORT)
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { Events, run, assert } from './lib.mjs';

const [port, mockPort] = process.argv.slice(2);
const T = 60000;

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

process.exitCode = await run(tests, null);
setTimeout(() => process.exit(process.exitCode), 100);
