// The HTTP tools: declared in the agent config (checked at load, `${VAR}` checked at the worker's
// start), called by their activity against a real local server: what the server received.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { parseAgentConfig } from '../../src/agent-config';
import { requireToolEnvironment, type ToolConfig } from '../../src/agent-tools';
import { createToolActivities, idempotencyKey, TOOL_RESULT_MAX_CHARS } from '../../activities/tools';
import type { ToolCallInput, ToolResult } from '../../activities/types';

const BALANCE = {
  name: 'get_balance',
  description: "Look up the caller's account balance.",
  parameters: { type: 'object', properties: { account: { type: 'string' } }, required: ['account'] },
  http: {
    method: 'POST',
    url: 'https://crm.example.com/balance',
    headers: { Authorization: 'Bearer ${CRM_TOKEN}' },
    timeoutSeconds: 5,
  },
  fillerText: 'One moment while I check that.',
};

const anyNumber: unknown = expect.any(Number);
const containing = (text: string): unknown => expect.stringContaining(text);

const configWith = (profile: Record<string, unknown>) => JSON.stringify({ profiles: { default: profile } });

function configError(profile: Record<string, unknown>): string {
  try {
    parseAgentConfig(configWith(profile), 'agent.config.json');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('tools in the agent config', () => {
  it('takes the public shape (SPEC §3), with defaults', () => {
    const cfg = parseAgentConfig(
      configWith({ tools: [BALANCE], transfer: { to: '+15550001111', text: 'Let me put you through.' } }),
      'agent.config.json',
    );
    const profile = cfg.profiles['default']!;
    expect(profile.tools).toEqual([BALANCE]);
    expect(profile.transfer).toEqual({ to: '+15550001111', text: 'Let me put you through.' });
    const minimal = parseAgentConfig(
      configWith({ tools: [{ name: 'ping', description: 'Ping.', http: { url: 'http://x.test/' } }] }),
      'a.json',
    ).profiles['default']!.tools![0]!;
    expect(minimal).toEqual({
      name: 'ping',
      description: 'Ping.',
      parameters: { type: 'object', properties: {} },
      http: { method: 'POST', url: 'http://x.test/', headers: {}, timeoutSeconds: 10 },
    });
  });

  it('refuses a built-in name, a name used twice, an unusable schema and a URL that is not http', () => {
    expect(configError({ tools: [{ ...BALANCE, name: 'end_call' }] })).toContain(
      'profiles.default.tools.0.name: is built in (end_call, transfer_call)',
    );
    expect(configError({ tools: [BALANCE, BALANCE] })).toContain(
      'profiles.default.tools.1.name: "get_balance" is defined twice',
    );
    expect(
      configError({
        tools: [{ ...BALANCE, parameters: { type: 'object', properties: { a: { type: 'nope' } } } }],
      }),
    ).toMatch(/profiles\.default\.tools\.0\.parameters: is not a usable JSON Schema: .*nope/);
    expect(configError({ tools: [{ ...BALANCE, parameters: { type: 'string' } }] })).toContain(
      'must be a JSON Schema with "type": "object"',
    );
    expect(configError({ tools: [{ ...BALANCE, http: { url: 'ftp://x' } }] })).toContain(
      'profiles.default.tools.0.http.url: must be an http(s) URL',
    );
    expect(configError({ tools: [{ ...BALANCE, name: 'has space' }] })).toContain(
      'letters, digits, _ and - only',
    );
  });

  it('names each ${VAR} the worker lacks, and where it is used', () => {
    const cfg = parseAgentConfig(
      configWith({ tools: [BALANCE, { ...BALANCE, name: 'b2', http: { url: 'https://${CRM_HOST}/x' } }] }),
      'a.json',
    );
    expect(() => requireToolEnvironment(cfg.profiles, { CRM_TOKEN: 't', CRM_HOST: 'h' })).not.toThrow();
    expect(() => requireToolEnvironment(cfg.profiles, {})).toThrow(
      'the agent config\'s tools use environment variables that are not set: ${CRM_TOKEN} (profile "default", tool "get_balance"), ${CRM_HOST} (profile "default", tool "b2")',
    );
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('the tool activity', () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let answer: (r: Received) => { status: number; body: string; type?: string; delayMs?: number } = () => ({
    status: 200,
    body: '{ "balance": "$12.50" }',
    type: 'application/json',
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        received.push(r);
        const a = answer(r);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(a.status, { 'Content-Type': a.type ?? 'text/plain' });
          res.end(a.body);
        }, a.delayMs ?? 0).unref();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
  });

  const tool = (over: Partial<ToolConfig['http']> = {}): ToolCallInput['tool'] => ({
    name: BALANCE.name,
    parameters: BALANCE.parameters,
    http: {
      method: 'POST',
      url: `${base}/balance`,
      headers: { Authorization: 'Bearer ${CRM_TOKEN}' },
      timeoutSeconds: 5,
      ...over,
    },
  });
  const input = (over: Partial<ToolCallInput> = {}): ToolCallInput => ({
    callId: 'call-1',
    caller: '+15551230001',
    called: '+15559870001',
    turnId: 3,
    step: 0,
    index: 0,
    tool: tool(),
    arguments: '{"account":"42"}',
    ...over,
  });
  const env = (attempt = 1) =>
    new MockActivityEnvironment(
      { attempt, workflowExecution: { workflowId: 'call-call-1', runId: 'run-1' } },
      { logger: new DefaultLogger('ERROR', () => undefined) },
    );
  const acts = createToolActivities({ env: { CRM_TOKEN: 'secret-token' } });
  const call = (i: ToolCallInput, attempt = 1): Promise<ToolResult> =>
    env(attempt).run<[ToolCallInput], ToolResult, typeof acts.callTool>(acts.callTool, i);

  it('POSTs the arguments as JSON, with the Idempotency-Key, the call and its numbers, and ${VAR} filled in', async () => {
    const result = await call(input());
    expect(result).toEqual({
      ok: true,
      status: 200,
      content: '{"balance":"$12.50"}',
      ms: anyNumber,
    });
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect([r.method, r.url, r.body]).toEqual(['POST', '/balance', '{"account":"42"}']);
    expect(r.headers).toMatchObject({
      authorization: 'Bearer secret-token',
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey('call-call-1', input()),
      'x-voipbin-call-id': 'call-1',
      'x-voipbin-caller': '+15551230001',
      'x-voipbin-called': '+15559870001',
    });
  });

  it('sends the same key on every attempt of one tool call, and another for any other call', async () => {
    await call(input(), 1);
    await call(input(), 2);
    await call(input({ index: 1 }));
    await call(input({ step: 1 }));
    await call(input({ turnId: 4 }));
    const keys = received.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(new Set(keys).size).toBe(4);
  });

  it('puts the arguments in the query for GET', async () => {
    await call(input({ tool: tool({ method: 'GET' }) }));
    expect([received[0]!.method, received[0]!.url, received[0]!.body]).toEqual([
      'GET',
      '/balance?account=42',
      '',
    ]);
  });

  it('tells the model what is wrong with its arguments, and sends nothing', async () => {
    expect(await call(input({ arguments: '{"acct":1}' }))).toEqual({
      ok: false,
      error: containing("the arguments do not match the tool's parameters: account:"),
      ms: anyNumber,
    });
    expect(await call(input({ arguments: '{"account":' }))).toMatchObject({
      ok: false,
      error: containing('not valid JSON'),
    });
    expect(received).toEqual([]);
  });

  it('gives the model a 4xx as an error result, and retries a 5xx (the activity fails, retryable)', async () => {
    answer = () => ({ status: 404, body: 'no such account' });
    expect(await call(input())).toMatchObject({
      ok: false,
      status: 404,
      error: 'get_balance answered 404: no such account',
    });
    answer = () => ({ status: 503, body: '' });
    const failure = await call(input()).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect((failure as ApplicationFailure).message).toBe('get_balance answered 503');
  });

  it('gives up on a tool that does not answer in time: an error result, not a retry', async () => {
    answer = () => ({ status: 200, body: 'late', delayMs: 3000 });
    const started = Date.now();
    expect(await call(input({ tool: tool({ timeoutSeconds: 0.5 }) }))).toMatchObject({
      ok: false,
      error: 'get_balance did not answer within 0.5 s',
    });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('retries a tool that cannot be reached', async () => {
    const failure = await call(input({ tool: tool({ url: 'http://127.0.0.1:9/x' }) })).catch(
      (e: unknown) => e,
    );
    expect((failure as ApplicationFailure).type).toBe('ToolUnreachable');
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('caps a long answer, and tells the model a variable the worker lacks', async () => {
    answer = () => ({ status: 200, body: 'x'.repeat(TOOL_RESULT_MAX_CHARS + 10) });
    const long = await call(input());
    expect(long.content).toHaveLength(
      TOOL_RESULT_MAX_CHARS + ` [cut: ${TOOL_RESULT_MAX_CHARS + 10} characters in all]`.length,
    );
    const bare = createToolActivities({ env: {} });
    const result = await env().run<[ToolCallInput], ToolResult, typeof bare.callTool>(bare.callTool, input());
    expect(result).toMatchObject({
      ok: false,
      error: containing('uses ${CRM_TOKEN}, which is not set'),
    });
  });
});
