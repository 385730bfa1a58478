// The agent acts (#13), with real processes: a Temporal server, `voipbin-agent ingress`, two
// `voipbin-agent worker`s with a profile that declares an HTTP tool and a transfer
// (test/fixtures/agent.tools.json), the simulator's signed webhooks, the fake model (which calls a
// tool the caller names), and a local server standing in for the customer's CRM. Each worker
// reaches the CRM through its own path prefix, so the server knows which one asked.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import type { SimCall } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { FailoverStack, GREETING } from '../helpers/failover';
import { SESSIONS_CREATED, requestSequence, saysOf } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

const matching = (re: RegExp): unknown => expect.stringMatching(re);
const FILLER = 'One moment while I check that.';
const ANSWER = ['Here is what I found: balance $12.50.', 'Is there anything else I can help you with?'];

interface ToolRequest {
  /** `/worker-1` or `/worker-2`: who asked. */
  worker: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * The CRM: answers a balance, after 2 s for account `slow`; never answers the first request for
 * account `kill` (its worker is killed while it waits). It deduplicates by Idempotency-Key, as a
 * careful server does: `booked` counts the distinct keys it acted on.
 */
class Crm {
  readonly requests: ToolRequest[] = [];
  readonly booked = new Set<string>();
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const [, worker = '', path = ''] = /^(\/worker-\d)(.*)$/.exec(req.url ?? '') ?? [];
        const r = { worker, path, headers: req.headers, body, at: performance.now() };
        this.requests.push(r);
        const account = (JSON.parse(body) as { account?: string }).account;
        const answer = () => {
          this.booked.add(String(req.headers['idempotency-key']));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ balance: '$12.50' }));
        };
        if (account === 'kill' && this.requests.filter((x) => x.body === body).length === 1)
          this.held.push(res);
        else setTimeout(answer, account === 'slow' ? 2000 : 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const crm = new Crm();
let stack: FailoverStack;

beforeAll(async () => {
  await crm.start();
  stack = await FailoverStack.start({
    env: {
      AGENT_CONFIG: join(PROJECT_ROOT, 'test', 'fixtures', 'agent.tools.json'),
      CRM_TOKEN: 'crm-secret',
    },
    workerEnvFor: (prefix) => ({ TOOL_BASE_URL: `${crm.base}${prefix}` }),
  });
  await stack.ensureWorkers();
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await crm.close();
});

interface AskedCall {
  call: SimCall;
  /** What VoIPBIN was asked to do on this call, in order (requestSequence). */
  requests: () => string[];
  /** Waits until VoIPBIN was asked to say `text`. */
  heard: (text: string, timeoutMs?: number) => Promise<void>;
}

/** A caller who asks one thing once greeted; the test hangs up when it has heard what it checks. */
function callAsking(question: string): AskedCall {
  const first = stack.simulator.requests.length;
  const call = stack.simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550008888',
    script: { steps: [{ say: question, quietMs: 500 }] },
  });
  const mine = () => ({ requests: stack.simulator.requests.slice(first) });
  return {
    call,
    requests: () => requestSequence(mine()),
    heard: async (text, timeoutMs = 30_000) => {
      await waitFor(() => saysOf(mine()).includes(text), `"${text}" said`, timeoutMs);
    },
  };
}

const say = (text: string) => `POST /speakings/{id}/say ${text} -> 200`;
const ENDED = ['POST /speakings/{id}/stop -> 200', 'POST /transcribes/{id}/stop -> 200'];

async function hangUpAndSummary(call: SimCall) {
  call.hangup();
  await call.ended;
  return stack.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();
}

it('the model calls the tool: the CRM gets the arguments, an Idempotency-Key and the call; the reply uses its answer', async () => {
  const asked = crm.requests.length;
  const { call, requests, heard } = callAsking("What's my balance? Account 42.");
  await heard(ANSWER[1]!);
  const summary = await hangUpAndSummary(call);

  const [r, ...more] = crm.requests.slice(asked);
  expect(more).toEqual([]);
  expect([r!.path, r!.body]).toEqual(['/balance', '{"account":"42"}']);
  expect(r!.headers).toMatchObject({
    authorization: 'Bearer crm-secret',
    'content-type': 'application/json',
    'idempotency-key': matching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    'x-voipbin-call-id': call.id,
    'x-voipbin-caller': '+15550007777',
    'x-voipbin-called': '+15550008888',
  });
  // A quick tool: no filler; the answer, once, from the tool's result.
  expect(requests()).toEqual([...SESSIONS_CREATED, say(GREETING), ...ANSWER.map(say), ...ENDED]);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 1 });
  expect(summary.messages.find((m) => m.role === 'tool')).toMatchObject({
    text: '{"balance":"$12.50"}',
    tool: { name: 'get_balance', arguments: '{"account":"42"}', ok: true },
  });
}, 90_000);

it('a tool that takes 2 s: the filler is said once, before the answer', async () => {
  const asked = crm.requests.length;
  const { call, requests, heard } = callAsking("What's my balance? Account slow.");
  await heard(ANSWER[1]!);
  await hangUpAndSummary(call);
  expect(crm.requests.slice(asked)).toHaveLength(1);
  expect(requests()).toEqual([...SESSIONS_CREATED, say(GREETING), say(FILLER), ...ANSWER.map(say), ...ENDED]);
}, 90_000);

it('the worker SIGKILLed while the tool request is out: the retry carries the same key, the caller hears the answer once', async () => {
  const asked = crm.requests.length;
  const booked = crm.booked.size;
  const { call, requests, heard } = callAsking("What's my balance? Account kill.");
  const first = await waitFor(() => crm.requests.slice(asked)[0], 'the tool request', 30_000);
  stack.worker(first.worker)!.kill('SIGKILL');
  await heard(ANSWER[1]!, 60_000);
  const summary = await hangUpAndSummary(call);

  const [, retry, ...more] = crm.requests.slice(asked);
  expect(more).toEqual([]);
  // The other worker, the same request, the same key: the CRM acted once.
  expect(retry!.worker).not.toBe(first.worker);
  expect(retry!.body).toBe(first.body);
  expect(retry!.headers['idempotency-key']).toBe(first.headers['idempotency-key']);
  expect(crm.booked.size - booked).toBe(1);
  // The answer once. The filler at most once, before it: it is due 1 s after the call, and the
  // worker that died may have held the workflow too, so that the filler's moment and the retry's
  // answer reach the other worker together; then the answer is said without the filler.
  const heardLines = requests();
  const filler = heardLines.includes(say(FILLER)) ? [say(FILLER)] : [];
  expect(heardLines).toEqual([...SESSIONS_CREATED, say(GREETING), ...filler, ...ANSWER.map(say), ...ENDED]);
  expect(summary.messages.filter((m) => m.role === 'tool')).toHaveLength(1);
  await stack.ensureWorkers();
}, 120_000);

it('transfer_call: the line, then POST /transfers with the number; the workflow ends transferred, both sessions stopped', async () => {
  const { call, requests } = callAsking('Can I talk to a person, please?');
  await call.ended;
  const summary = await stack.client.workflow
    .getHandle<typeof callWorkflow>(callWorkflowId(call.id))
    .result();
  expect(requests()).toEqual([
    ...SESSIONS_CREATED,
    say(GREETING),
    say('Let me put you through.'),
    'POST /transfers -> 200',
    ...ENDED,
  ]);
  const transfer = stack.simulator.requests.find((r) => r.path === '/transfers');
  expect(transfer?.body).toEqual({
    transfer_type: 'blind',
    transferer_call_id: call.id,
    transferee_addresses: [{ type: 'tel', target: '+15550001111' }],
  });
  expect(summary).toMatchObject({ endReason: 'transferred' });
  expect(call.status()).toBe('hangup');
}, 90_000);
