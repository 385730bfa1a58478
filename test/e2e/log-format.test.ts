// One log format across the process: `voipbin-agent serve` handles a whole call, and every line it
// wrote, on stdout and stderr, is in the format LOG_FORMAT names, its own lines and those forwarded
// from Temporal Core, the SDK's worker and the call's workflow alike. At info, no transcript text
// and no phone number; at any level, no key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { AgentProcess, freePort, serveEnv } from '../helpers/cli';
import { requestSequence } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

let simulator: Simulator;
let llm: FakeLlm;
let dir: string;

beforeAll(async () => {
  simulator = await startSimulator({ accessKey: 'log-access-key' });
  llm = await startFakeLlm({ firstTokenDelayMs: 50, chunkDelayMs: 5 });
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-log-'));
});

afterAll(async () => {
  await simulator?.close();
  await llm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const FROM = '+15550007171';
const TO = '+15550008282';
const SAID = 'Can I change my delivery address?';

interface Run {
  lines: string[];
  callId: string;
}

/**
 * `serve` with `env` (its events by the WebSocket alone) handles one call: greeting, a turn,
 * hangup; then is stopped with SIGTERM (a SIGKILL would leave its Temporal server running). The
 * lines of stdout, then of stderr.
 */
async function serveOneCall(name: string, env: Record<string, string>, waitForLine: string): Promise<Run> {
  const port = await freePort();
  const at = { port, temporalPort: await freePort(), uiPort: await freePort(), dataDir: join(dir, name) };
  const vars = serveEnv(simulator, llm.baseUrl, at, { VOIPBIN_EVENTS: 'websocket', ...env });
  delete vars['VOIPBIN_WEBHOOK_SECRET'];
  const subscribed = simulator.socketSubscribes.length;
  const agent = new AgentProcess(['serve'], vars, dir);
  // 'close', not 'exit': the pipes are read to their end.
  const closed = new Promise<number | null>((resolve) => agent.child.once('close', (code) => resolve(code)));
  try {
    await agent.waitReady(port);
    await waitFor(() => simulator.socketSubscribes.length > subscribed, 'the subscription', 10_000);
    const mark = simulator.requests.length;
    const call = simulator.startInboundCall({
      from: FROM,
      to: TO,
      script: {
        steps: [{ say: SAID, quietMs: 600 }, { waitForAgent: true, quietMs: 300 }, { hangup: true }],
      },
    });
    await call.ended;
    await waitFor(
      () =>
        requestSequence({ requests: simulator.requests.slice(mark) }).includes(
          'POST /transcribes/{id}/stop -> 200',
        ),
      'the sessions stopped',
      15_000,
    );
    // The agent answered the turn (the fake model echoes it).
    expect(call.heard().some((said) => said.includes(SAID.slice(0, -1)))).toBe(true);
    // The workflow's lines reach the logger through the SDK's sink, some 100 ms later.
    await agent.waitOutput(waitForLine, 10_000);
    agent.kill('SIGTERM');
    expect(await closed).toBe(0);
    const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));
    return { lines: [...lines(agent.streams.stdout), ...lines(agent.streams.stderr)], callId: call.id };
  } finally {
    agent.kill('SIGTERM');
    await closed;
  }
}

/** What must never be written, at any level: the access key, and the simulator's webhook secret. */
function keys(): string[] {
  return [simulator.accessKey, simulator.customer.webhookSecret].filter((k) => k.length > 0);
}

describe('LOG_FORMAT=json, LOG_LEVEL=debug', () => {
  let run: Run;
  let records: Array<Record<string, unknown>>;

  beforeAll(async () => {
    run = await serveOneCall('json', { LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }, '"msg":"call ended"');
    records = run.lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a line that is not JSON: ${line}`);
      }
    });
  }, 90_000);

  it('writes every line as JSON with a level, a time and a message', () => {
    expect(records.length).toBeGreaterThan(50);
    for (const record of records) {
      expect(record).toEqual(
        expect.objectContaining({
          level: expect.stringMatching(/^(debug|info|warn|error)$/) as unknown,
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
          msg: expect.any(String) as unknown,
        }),
      );
    }
  });

  it("carries Temporal Core's lines, at debug too, with their target", () => {
    const core = records.filter((r) => r['sdkComponent'] === 'core');
    expect(core.length).toBeGreaterThan(0);
    expect(core.every((r) => String(r['target']).startsWith('temporalio_'))).toBe(true);
    expect(core.some((r) => r['level'] === 'debug')).toBe(true);
  });

  it("carries the SDK worker's lines, at info and at debug", () => {
    const worker = records.filter((r) => r['sdkComponent'] === 'worker');
    expect(worker).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'Worker state changed', state: 'RUNNING' }),
    );
    expect(worker).toContainEqual(
      expect.objectContaining({ level: 'debug', msg: 'Activity completed', activityType: 'llmTurn' }),
    );
  });

  it("carries the call workflow's own log lines, with the workflow's fields", () => {
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'call ended',
        sdkComponent: 'workflow',
        workflowType: 'callWorkflow',
        workflowId: `call-${run.callId}`,
        endReason: 'caller-hangup',
        turns: 1,
      }),
    );
  });

  it('writes no key', () => {
    for (const key of keys()) expect(run.lines.join('\n')).not.toContain(key);
  });
});

describe('the default text format, LOG_LEVEL=info', () => {
  let run: Run;

  beforeAll(async () => {
    run = await serveOneCall('text', { LOG_LEVEL: 'info' }, ' INFO  call ended ');
  }, 90_000);

  it('writes every line as `<time> LEVEL message key=value...`, without colour', () => {
    expect(run.lines.length).toBeGreaterThan(5);
    for (const line of run.lines) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) \S.*$/);
      expect(line).not.toContain('\u001b');
    }
  });

  it('carries the lines of Core, the SDK worker and the workflow in that format', () => {
    expect(run.lines.some((l) => l.includes(' sdkComponent=core target=temporalio_'))).toBe(true);
    expect(run.lines.some((l) => /INFO {2}Worker state changed sdkComponent=worker /.test(l))).toBe(true);
    expect(
      run.lines.some((l) => l.includes(' INFO  call ended sdkComponent=workflow ') && l.includes(run.callId)),
    ).toBe(true);
  });

  it("writes neither the caller's words nor the phone numbers, nor any key", () => {
    const text = run.lines.join('\n');
    for (const secret of [SAID, 'delivery address', FROM, TO, FROM.slice(1), TO.slice(1), ...keys()])
      expect(text).not.toContain(secret);
  });
});
