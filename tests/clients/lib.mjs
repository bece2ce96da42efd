// Helpers for the tests that talk to `banter serve` as real clients do.
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// A mono 16-bit PCM WAV file: {rate, pcm: Int16Array}.
export function readWav(path) {
  const b = fs.readFileSync(path);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path} is not a WAV file`);
  let off = 12, rate = 0, data = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') rate = b.readUInt32LE(off + 12);
    if (id === 'data') data = b.subarray(off + 8, off + 8 + len);
    off += 8 + len + (len & 1);
  }
  const pcm = new Int16Array(data.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = data.readInt16LE(i * 2);
  return { rate, pcm };
}

// A mono 16-bit PCM WAV file from an Int16Array.
export function writeWav(path, pcm, rate) {
  const b = Buffer.alloc(44 + pcm.length * 2);
  b.write('RIFF', 0, 'ascii'); b.writeUInt32LE(36 + pcm.length * 2, 4); b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii'); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii'); b.writeUInt32LE(pcm.length * 2, 40);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i], 44 + i * 2);
  fs.writeFileSync(path, b);
}

// Linear resampling is enough for a test caller.
export function resample(pcm, from, to) {
  if (from === to) return pcm;
  const n = Math.floor(pcm.length * to / from), out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const x = i * from / to, k = Math.floor(x), f = x - k;
    const a = pcm[k] ?? 0, c = pcm[k + 1] ?? a;
    out[i] = Math.round(a + (c - a) * f);
  }
  return out;
}

// Windowed-sinc resampling (a Hann window of 16 taps a side): what a
// client that measures latency uses, since linear interpolation images
// the speech's upper band into the audio and changes what the server's
// VAD and endpointer hear (it made them wait ~40 ms longer).
export function resampleSinc(pcm, from, to) {
  if (from === to) return pcm;
  const W = 16, fc = Math.min(1, to / from), n = Math.floor(pcm.length * to / from);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const x = i * from / to, k0 = Math.floor(x);
    let acc = 0;
    for (let k = k0 - W + 1; k <= k0 + W; k++) {
      if (k < 0 || k >= pcm.length) continue;
      const d = x - k, t = Math.PI * d * fc;
      const sinc = d === 0 ? 1 : Math.sin(t) / t;
      const win = 0.5 + 0.5 * Math.cos(Math.PI * d / W);
      acc += pcm[k] * fc * sinc * win;
    }
    out[i] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

export const silence = (ms, rate = 24000) => new Int16Array(Math.round(ms * rate / 1000));

export function concat(...parts) {
  const n = parts.reduce((s, p) => s + p.length, 0), out = new Int16Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const b64 = (pcm) => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');

// The caller's line: a WAV at 24 kHz with silence around it.
export function callerAudio(path, leadMs = 300, tailMs = 2000) {
  const w = readWav(path);
  return concat(silence(leadMs), resample(w.pcm, w.rate, 24000), silence(tailMs));
}

// Records every server event and lets a test wait for one.
export class Events {
  constructor() { this.list = []; this.waiters = []; }
  push(ev) {
    ev._at = Date.now();
    this.list.push(ev);
    for (const w of [...this.waiters]) if (w.pred(ev)) { this.waiters.splice(this.waiters.indexOf(w), 1); clearTimeout(w.t); w.res(ev); }
  }
  find(pred, from = 0) { return this.list.slice(from).find(pred); }
  count(type) { return this.list.filter((e) => e.type === type).length; }
  index(pred, from = 0) { const i = this.list.slice(from).findIndex(pred); return i < 0 ? -1 : i + from; }
  wait(pred, ms, what, from = 0) {
    const have = this.find(pred, from);
    if (have) return Promise.resolve(have);
    return new Promise((res, rej) => {
      const w = { pred, res };
      w.t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        rej(new Error(`timed out after ${ms} ms waiting for ${what}; last events: ` +
          this.list.slice(-6).map((e) => e.type).join(', ')));
      }, ms);
      this.waiters.push(w);
    });
  }
  waitType(type, ms, from = 0) { return this.wait((e) => e.type === type, ms, type, from); }
}

// Stream audio as a microphone would: 100 ms appends at real-time pace,
// paced by the samples sent (a short last chunk takes only its own
// length). `start` continues an earlier stream's clock, so a turn's
// trailing silence follows its speech with no gap in the line's time.
export async function stream(send, pcm, { chunkMs = 100, realtime = true, start = null } = {}) {
  const n = 24 * chunkMs;
  const t0 = start ?? Date.now();
  for (let i = 0; i < pcm.length; i += n) {
    const chunk = pcm.subarray(i, i + n);
    send({ type: 'input_audio_buffer.append', audio: b64(chunk) });
    if (realtime) {
      const due = t0 + (i + chunk.length) / 24 - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
  }
  return t0;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A tiny runner: prints one line per test and "N passed, M failed".
export async function run(tests, only) {
  let passed = 0, failed = 0;
  for (const [name, fn] of tests) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    try {
      await fn();
      passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e.stack || e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// How late a server's event loop ran (node's own monitor): for the mock
// servers' GET /stats, so that a benchmark that shares the CPU with them
// can tell their delays from banter's. `?reset` starts a new count.
export function loopLag() {
  const RES = 10;  // ms between samples; node counts them in the delay
  const h = monitorEventLoopDelay({ resolution: RES });
  h.enable();
  return (url) => {
    const ms = (ns) => Math.max(0, Math.round(ns / 1e5 - 10 * RES) / 10);
    const s = { loop_lag_ms: { p50: ms(h.percentile(50)), p95: ms(h.percentile(95)),
                               p99: ms(h.percentile(99)), max: ms(h.max) } };
    if (/[?&]reset\b/.test(url)) h.reset();
    return s;
  };
}
