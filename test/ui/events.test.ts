/**
 * The --events schema: unit checks of the writer on a replayed session, and
 * every line a real loopback download and seed emit validated against
 * EVENT_SCHEMA (the table docs/EVENTS.md documents).
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA, validateEvent } from '../../src/ui/event-schema.ts';
import { EventStream } from '../../src/ui/events.ts';
import { runShoal, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { FakeStream, loadRecording, ReplaySession } from './replay.ts';

trackProcesses();

function lines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('event schema', () => {
  it('docs/EVENTS.md documents every event type', () => {
    const doc = readFileSync(new URL('../../docs/EVENTS.md', import.meta.url), 'utf8');
    for (const type of Object.keys(EVENT_SCHEMA)) expect(doc).toContain(`| \`${type}\` |`);
  });

  it('the validator rejects what does not match', () => {
    expect(
      validateEvent({ v: 1, type: 'piece-verified', time: new Date().toISOString(), index: 3 }),
    ).toEqual([]);
    expect(validateEvent({ v: 2, type: 'piece-verified', time: 'x', index: '3' })).toHaveLength(3);
    expect(validateEvent({ v: 1, type: 'nope', time: new Date().toISOString() })).toHaveLength(1);
  });

  it('a replayed session gives valid lines, one per event', () => {
    const out = new FakeStream(undefined, false);
    const events = new EventStream(out);
    const session = new ReplaySession(loadRecording());
    events.start('download', 'x.torrent', '0.0.0');
    events.sources(session.sources);
    events.session(session as never);
    session.replay();
    events.emit('done', { command: 'download' });
    events.emit('warning', { message: 'after the end: dropped' });
    const parsed = lines(out.output);
    for (const event of parsed) expect(validateEvent(event)).toEqual([]);
    expect(parsed.at(-1)?.type).toBe('done');
    const types = new Set(parsed.map((event) => event.type));
    for (const type of [
      'phase',
      'check',
      'listening',
      'tracker',
      'dht',
      'pex',
      'peer-connected',
      'piece-verified',
      'piece-failed',
      'progress',
      'warning',
      'peer-disconnected',
    ])
      expect(types).toContain(type);
  });
});

describe('events of a real loopback download', () => {
  it('every line of seed, download, create and inspect --verify matches the schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-events-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.bin'), randomBytes(700_000));
    writeFileSync(join(data, 'b.bin'), randomBytes(300_000));
    const env = { SHOAL_NO_DHT: '1' };
    const created = await runShoal(
      ['create', data, '-o', join(dir, 't.torrent'), '--piece-length', '32KiB', '--events'],
      { env, timeoutMs: 30_000 },
    );
    expect(created.code).toBe(0);
    const seed = spawnShoal(
      ['seed', join(dir, 't.torrent'), '-d', dir, '--port', '0', '--events'],
      {
        env,
      },
    );
    const port = (
      await seed.waitFor(/"type":"listening","time":"[^"]+","port":(\d+)/, 30_000, 'stdout')
    )[1];
    const download = await runShoal(
      [
        'download',
        join(dir, 't.torrent'),
        '-o',
        join(dir, 'out'),
        '--peer',
        `127.0.0.1:${port}`,
        '--events',
      ],
      { env, timeoutMs: 60_000 },
    );
    expect(download.code, download.stderr).toBe(0);
    seed.kill('SIGTERM');
    const seedResult = await seed.wait(30_000);
    expect(seedResult.code, seed.describe()).toBe(130);
    const verify = await runShoal(
      ['inspect', join(dir, 't.torrent'), '--verify', join(dir, 'out'), '--events'],
      { env, timeoutMs: 30_000 },
    );
    expect(verify.code).toBe(0);

    for (const [name, text] of [
      ['create', created.stdout],
      ['download', download.stdout],
      ['seed', seed.stdout],
      ['inspect', verify.stdout],
    ] as const) {
      const parsed = lines(text);
      for (const event of parsed)
        expect(validateEvent(event), `${name}: ${JSON.stringify(event)}`).toEqual([]);
      expect(parsed[0]?.type, name).toBe('start');
      expect(['done', 'error'], name).toContain(parsed.at(-1)?.type);
    }
    const downloaded = lines(download.stdout);
    expect(downloaded.at(-1)).toMatchObject({
      type: 'done',
      command: 'download',
      status: 'complete',
    });
    expect(downloaded.filter((event) => event.type === 'piece-verified')).toHaveLength(31);
    for (const type of ['metadata', 'peer-connected', 'phase'])
      expect(downloaded.map((e) => e.type)).toContain(type);
    // The seed was stopped by SIGTERM: its stream ends with the interruption.
    expect(lines(seed.stdout).at(-1)).toMatchObject({ type: 'error', code: 130 });
    // Four runs bounded at 30 + 60 + 30 + 30 s.
  }, 180_000);

  it('--events with --json is a usage error', async () => {
    const result = await runShoal(['inspect', 'x.torrent', '--verify', '.', '--events', '--json'], {
      env: { SHOAL_NO_DHT: '1' },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });
});
