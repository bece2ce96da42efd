// The agent's voice: 24 kHz chunks, each tagged with its item id, played in
// order on the audio thread. It counts what was really played of the item
// playing (what conversation.item.truncate needs) and can drop everything
// queued at once (barge-in).
//
// From the page: {type:'push', item, pcm: Float32Array at 24 kHz}
//                {type:'flush', tag}  -> {type:'flushed', tag, item, playedMs, queued}
// To the page:   {type:'state', playing}, {type:'played', item, ms, totalMs} (every ~100 ms)
class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = 24000 / sampleRate;   // source samples per output sample
    this.queue = [];
    this.pos = 0;                      // place in queue[0]
    this.item = null;                  // the item playing (or last played)
    this.base = 0;                     // its samples in chunks already done
    this.playing = false;
    this.sinceReport = 0;
    this.total = 0;                    // output samples played, all items
    this.port.onmessage = (e) => this.message(e.data);
  }

  played() { return this.base + Math.min(Math.floor(this.pos), this.queue[0] ? this.queue[0].pcm.length : 0); }

  message(m) {
    if (m.type === 'push') {
      this.queue.push({ item: m.item, pcm: m.pcm });
    } else if (m.type === 'flush') {
      const queued = this.queue.length > 0;
      this.port.postMessage({ type: 'flushed', tag: m.tag, item: this.item,
        playedMs: this.played() / 24, queued });
      this.queue = [];
      this.pos = 0;
      this.base = 0;
      this.item = null;
      this.state(false);
    }
  }

  state(playing) {
    if (playing === this.playing) return;
    this.playing = playing;
    this.port.postMessage({ type: 'state', playing });
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length && this.queue.length) {
      const c = this.queue[0];
      if (c.item !== this.item) { this.item = c.item; this.base = 0; }
      for (; i < out.length && this.pos < c.pcm.length; i++, this.pos += this.step)
        out[i] = c.pcm[Math.floor(this.pos)];
      if (this.pos >= c.pcm.length) {
        this.pos -= c.pcm.length;
        this.base += c.pcm.length;
        this.queue.shift();
      }
    }
    out.fill(0, i);
    for (let k = 1; k < outputs[0].length; k++) outputs[0][k].set(out);
    this.state(i > 0);
    this.total += i;
    if (i > 0 && (this.sinceReport += out.length) >= sampleRate / 10) {
      this.sinceReport = 0;
      this.port.postMessage({ type: 'played', item: this.item, ms: this.played() / 24,
        totalMs: this.total * 1000 / sampleRate });
    }
    return true;
  }
}
registerProcessor('playback', Playback);
