// The microphone as PCM16 chunks at 24 kHz, for input_audio_buffer.append.
// Runs on the audio thread. The page's AudioContext normally runs at
// 24 kHz already (then this only converts); otherwise it resamples
// linearly. Each chunk goes to the page with its RMS level (0..1), which
// the page uses for its own latency measurement.
class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.rate = o.rate || 24000;
    this.step = sampleRate / this.rate;     // input samples per output sample
    this.size = Math.round(this.rate * (o.chunkMs || 50) / 1000);
    this.chunk = new Int16Array(this.size);
    this.n = 0;
    this.sumsq = 0;
    this.pos = 0;       // next output sample's place in the input block
    this.prev = 0;      // the previous block's last sample (place -1)
    this.running = true;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.running = false; };
  }

  put(x) {
    const v = Math.max(-1, Math.min(1, x));
    this.chunk[this.n++] = v < 0 ? v * 0x8000 : v * 0x7fff;
    this.sumsq += v * v;
    if (this.n === this.size) {
      const rms = Math.sqrt(this.sumsq / this.size);
      this.port.postMessage({ pcm: this.chunk, rms }, [this.chunk.buffer]);
      this.chunk = new Int16Array(this.size);
      this.n = 0;
      this.sumsq = 0;
    }
  }

  process(inputs) {
    if (!this.running) return false;   // the node may go now
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    if (this.step === 1) {
      for (let i = 0; i < ch.length; i++) this.put(ch[i]);
      return true;
    }
    for (; this.pos < ch.length - 1; this.pos += this.step) {
      const i = Math.floor(this.pos), f = this.pos - i;
      const a = i < 0 ? this.prev : ch[i];
      this.put(a + (ch[i + 1] - a) * f);
    }
    this.pos -= ch.length;
    this.prev = ch[ch.length - 1];
    return true;
  }
}
registerProcessor('capture', Capture);
