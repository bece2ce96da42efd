// A simulated caller over the Realtime WebSocket: says a caller file's
// turns (rendered with the flite or espeak-ng programs), prints both sides
// and each reply's voice-to-voice latency as the client saw it (last
// speech sample sent -> first agent audio received) and as the server
// traced it. Used by `make run` and bench/serve.sh.
// Usage: node call.mjs URL CALLER.json [--json FILE] [--key KEY] [--dump DIR]
//   [--chunk-ms MS]
// --dump writes the audio it sent, turn by turn, as DIR/caller.json and its
// WAVs, so that `banter simulate` can hear exactly the same caller.
import WebSocket from 'ws';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Events, readWav, writeWav, resampleSinc as resample, concat, silence, stream, sleep } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args.splice(i, 2)[1] : null; };
const jsonOut = opt('--json'), key = opt('--key'), dump = opt('--dump');
// --chunk-ms 20: audio appended in 20 ms chunks as a phone's RTP packets
// (bench/sip_v2v.sh); 100 ms chunks reach the server up to 100 ms ahead
const chunkMs = Number(opt('--chunk-ms') ?? 100);
const [url, callerPath] = args;
if (!url || !callerPath) { console.error('usage: node call.mjs ws://HOST:PORT/v1/realtime CALLER.json [--json OUT] [--key KEY]'); process.exit(2); }
const caller = JSON.parse(fs.readFileSync(callerPath, 'utf8'));
const T = 60000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'banter-call-'));

function say(text, voice) {
  const [prov, name] = (voice || 'flite:slt').split(':');
  const out = path.join(tmp, 'say.wav');
  if (prov === 'espeak') execFileSync('espeak-ng', ['-v', name || 'en-us', '-w', out, text]);
  else execFileSync('flite', ['-voice', name || 'slt', '-t', text, '-o', out]);
  const w = readWav(out);
  return resample(w.pcm, w.rate, 24000);
}

function turnAudio(t) {
  if (t.say) return say(t.say, t.voice || caller.voice);
  if (t.wav) { const w = readWav(path.resolve(path.dirname(callerPath), t.wav)); return resample(w.pcm, w.rate, 24000); }
  if (t.segments) return concat(...t.segments.map((s) => s.pause_ms ? silence(s.pause_ms) : say(s.say, caller.voice)));
  return null;
}

const ws = new WebSocket(url, key ? { headers: { Authorization: `Bearer ${key}` } } : {});
const ev = new Events();
const send = (o) => ws.send(JSON.stringify(o));
const rows = [], sent = [];
ws.on('message', (m) => {
  const e = JSON.parse(m.toString());
  ev.push(e);
  if (e.type === 'error') console.log(`  ! ${e.error.message}`);
});
await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });

let from = 0;
async function agentTurn(speechEnd) {
  const d = await ev.wait((e) => e.type === 'response.done', T, 'the agent', from);
  const first = ev.find((e) => e.type === 'response.output_audio.delta' && e.response_id === d.response.id, from);
  // the quiet the reply's audio starts with (voices lead in with some), to
  // the first 10 ms above -40 dBFS: audio leaves at the pace it plays, so
  // first delta + lead_ms is when its speech reaches the client
  // (bench/sip_v2v.sh compares that with what a phone heard)
  const pcm = Buffer.concat(ev.list.slice(from).filter((e) => e.type === 'response.output_audio.delta' &&
    e.response_id === d.response.id).map((e) => Buffer.from(e.delta, 'base64')));
  let lead = null;
  for (let i = 0; i + 480 <= pcm.length && lead === null; i += 480) {
    let e2 = 0;
    for (let j = i; j < i + 480; j += 2) e2 += pcm.readInt16LE(j) ** 2;
    if (Math.sqrt(e2 / 240) > 327.68) lead = i / 48;
  }
  const turn = await ev.wait((e) => e.type === 'banter.turn', 5000, 'the turn trace', from).catch(() => null);
  const user = ev.find((e) => e.type === 'conversation.item.input_audio_transcription.completed', from);
  const text = d.response.output[0]?.content[0]?.transcript ?? '';
  if (user) console.log(`caller: ${user.transcript || '(nothing heard)'}`);
  console.log(`agent:  ${text}${d.response.status !== 'completed' ? `  [${d.response.status}]` : ''}`);
  rows.push({
    heard: user ? user.transcript : null, said: text, status: d.response.status,
    v2v_client_ms: speechEnd && first ? first._at - speechEnd : null,
    v2v_server_ms: turn?.turn?.voice_to_voice_ms ?? null,
    lead_ms: lead,
    trace: turn?.turn ?? null,  // the server's trace of the turn (bench/serve.sh)
  });
  from = ev.list.length;
}

await agentTurn(null);  // the greeting
for (const t of caller.turns) {
  await sleep(caller.gap_ms ?? 300);
  let audio = turnAudio(t);
  // whole chunks, as a client that streams its microphone sends them: a
  // short last chunk would shift the chunks after it against the
  // server's 20 ms frames, and a frame that straddles two chunks waits
  // for the second (bench/serve.sh compares with the simulator's frames)
  if (audio && audio.length % (24 * chunkMs)) audio = concat(audio, new Int16Array(24 * chunkMs - audio.length % (24 * chunkMs)));
  if (!audio) { sent.push({ silence_ms: t.silence_ms || 0 }); await stream(send, silence(t.silence_ms || 0), { chunkMs }); continue; }
  if (dump) {
    fs.mkdirSync(dump, { recursive: true });
    writeWav(path.join(dump, `turn${sent.length + 1}.wav`), audio, 24000);
    sent.push({ wav: `turn${sent.length + 1}.wav` });
  }
  // the last speech sample's send time (the render ends in silence)
  let last = audio.length - 1;
  while (last > 0 && Math.abs(audio[last]) < 300) last--;
  const t0 = await stream(send, audio, { chunkMs });
  const speechEnd = t0 + Math.round(last / 24);
  const trailing = stream(send, silence(3000), { chunkMs, start: t0 + audio.length / 24 });
  await agentTurn(speechEnd);
  await trailing;
  if (ev.find((e) => e.type === 'response.done' && /goodbye|bye/i.test(JSON.stringify(e.response.output)), 0)) break;
}
ws.close();
console.log('\nturn  voice-to-voice (client / server)  heard');
rows.slice(1).forEach((r, i) => console.log(`${String(i + 1).padStart(4)}  ${String(r.v2v_client_ms ?? '-').padStart(8)} / ${String(r.v2v_server_ms ?? '-').padEnd(8)} ms    ${r.heard ?? ''}`));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows));
if (dump) fs.writeFileSync(path.join(dump, 'caller.json'), JSON.stringify({ gap_ms: caller.gap_ms ?? 300, turns: sent }));
fs.rmSync(tmp, { recursive: true, force: true });
setTimeout(() => process.exit(0), 100);
