// The browser page (web/, served at /) in a real Chromium against a running
// `banter serve`: the fake microphone plays a WAV, the page talks to the
// agent, and the test reads what the page shows.
// Usage: node browser.mjs HTTP_PORT [test ...]; $OUT_DIR gets a screenshot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { readWav, resample, concat, silence, run, assert } from './lib.mjs';

const [port, ...only] = process.argv.slice(2);
const DATA = new URL('../data/', import.meta.url).pathname;
const T = 45000;           // generous: the sanitizer build is slow
const MIC_RATE = 48000;    // Chromium's fake capture device runs at 48 kHz
const LEAD_MS = 8000;      // the greeting (~6 s) is over before the caller speaks
// the page's own 40 ms appends (CHUNK_MS to try others: a first append of
// 20 ms or less makes the sanitizer build of banter serve abort)
const QUERY = `?raw=1&chunk_ms=${process.env.CHUNK_MS || 40}`;

function writeWav(file, pcm, rate) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.byteLength, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(pcm.byteLength, 40);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]));
}

// The caller: silence while the agent greets, one sentence, silence.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'banter-browser-'));
const mic = path.join(tmp, 'mic.wav');
const w = readWav(DATA + 'table_for_three_slt.wav');
writeWav(mic, concat(silence(LEAD_MS, MIC_RATE), resample(w.pcm, w.rate, MIC_RATE), silence(3000, MIC_RATE)), MIC_RATE);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${mic}%noloop`, '--autoplay-policy=no-user-gesture-required'],
});
const page = await browser.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });

// what the page shows: its transcript lines, latency cells and errors
const shown = () => page.evaluate(() => ({
  lines: [...document.querySelectorAll('#transcript li')].map((li) => ({
    who: li.className, state: li.dataset.state, text: li.querySelector('.text').textContent,
    server: li.querySelector('[data-testid=latency-server]')?.dataset.ms,
    page: li.querySelector('[data-testid=latency-page]')?.dataset.ms })),
  errors: [...document.querySelectorAll('[data-testid=error]')].map((e) => e.textContent),
  status: document.getElementById('status').textContent,
  stats: { ...window.bt.stats }, log: window.bt.log.slice(-8),
}));

// Wait until pred(shown()) holds; the error says what the page showed.
async function until(pred, what, ms = T) {
  const end = Date.now() + ms;
  let s;
  for (;;) {
    s = await shown();
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the page shows ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const agent = (s) => s.lines.filter((l) => l.who === 'agent');
const user = (s) => s.lines.filter((l) => l.who === 'user');
const final = (l) => l && l.state === 'final' && l.text.trim().length > 0;

let greeting, userLine, reply;
const tests = [
  ['the page loads and the call connects', async () => {
    await page.goto(`http://127.0.0.1:${port}/${QUERY}`);
    assert(await page.getByRole('button', { name: 'Talk' }).isVisible(), 'a Talk button');
    await page.click('#talk');
    await until((s) => /Connected/.test(s.status) || s.lines.length, 'the session');
  }],

  ['the agent greets, in text and audio', async () => {
    // whole, or cut where the caller spoke over its end
    const s = await until((s) => agent(s)[0] && agent(s)[0].state !== 'partial' && agent(s)[0].text, 'the greeting');
    greeting = agent(s)[0].text;
    assert(/Bella/.test(greeting), `greeting "${greeting}"`);
    const a = await until((s) => s.stats.audioMs > 1000, 'the greeting audio');
    console.log(`     greeting "${greeting}", ${Math.round(a.stats.audioMs)} ms of audio received`);
  }],

  ['the caller is heard and transcribed', async () => {
    const s = await until((s) => final(user(s)[0]), "the caller's transcript");
    userLine = user(s)[0].text;
    assert(userLine !== '(nothing recognised)', 'words were recognised');
    assert(s.stats.sentMs > LEAD_MS, `the page sent the microphone (${s.stats.sentMs} ms)`);
    if (agent(s)[0].state !== 'final') console.log('     (the caller spoke over the end of the greeting)');
  }],

  ['the agent replies, with both latency figures', async () => {
    // the first reply after the caller's words that played (a reply cut
    // at once has no voice-to-voice figure)
    const after = (s) => s.lines.slice(s.lines.findIndex((l) => l.who === 'user') + 1);
    const s = await until((s) => after(s).some((l) => l.who === 'agent' && final(l) && l.server),
      'the reply and its latency');
    reply = after(s).find((l) => l.who === 'agent' && final(l) && l.server);
    assert(Number(reply.server) > 0, `server voice-to-voice ${reply.server}`);
    assert(Number(reply.page) > 0, `page voice-to-voice ${reply.page}`);
    assert(s.stats.playedMs > 1000, `the page played the audio (${s.stats.playedMs} ms)`);
    console.log(`     heard "${user(s).map((l) => l.text).join(' / ')}", agent "${reply.text}", ` +
      `voice-to-voice ${reply.server} ms (server), ${reply.page} ms (page)`);
  }],

  ['typed text gets a reply', async () => {
    await until((s) => !s.lines.some((l) => l.state === 'partial'), 'the voice turn to settle');
    const before = (await shown()).lines.length;
    await page.getByLabel('Type instead of speaking').fill('a table for three please');
    await page.keyboard.press('Enter');
    const mine = (s) => s.lines.slice(before);
    const s = await until((s) => mine(s).some((l) => l.who === 'user' && l.text === 'a table for three please') &&
      final(agent({ lines: mine(s) })[0]), 'the reply to the typed text');
    console.log(`     typed "a table for three please", agent "${agent({ lines: mine(s) })[0].text}"`);
  }],

  ['typing over the agent cuts its reply', async () => {
    const n = agent(await shown()).length;
    await page.getByLabel('Type instead of speaking').fill('four people');
    await page.keyboard.press('Enter');
    // the agent starts answering; talk over it once its audio plays
    await until((s) => agent(s).length > n, 'the reply to "four people"');
    const a0 = (await shown()).stats.audioMs;
    await until((s) => s.stats.audioMs > a0 + 300, 'its audio');
    await page.getByLabel('Type instead of speaking').fill('friday');
    await page.keyboard.press('Enter');
    const s = await until((s) => agent(s)[n].state === 'cut' && final(agent(s)[n + 1]), 'the cut reply and the next one');
    const log = await page.evaluate(() => window.bt.log);
    assert(log.includes('conversation.item.truncated'), 'the page truncated the cut item');
    assert(log.includes('conversation.item.retrieved'), 'and read back what was heard');
    console.log(`     cut: "${agent(s)[n].text}", then "${agent(s)[n + 1].text}"`);
  }],

  ['no errors; hanging up ends the call', async () => {
    if (process.env.OUT_DIR) await page.screenshot({ path: path.join(process.env.OUT_DIR, 'browser.png'), fullPage: true });
    await page.click('#talk');
    const s = await until((s) => /ended/.test(s.status), 'the hang-up');
    assert(s.errors.length === 0, `the page shows errors: ${s.errors.join('; ')}`);
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    assert(await page.getByRole('button', { name: 'Talk' }).isVisible(), 'Talk again');
  }],
];

process.exitCode = await run(tests, only.length ? only : null);
await browser.close();
fs.rmSync(tmp, { recursive: true, force: true });
setTimeout(() => process.exit(process.exitCode), 100);
