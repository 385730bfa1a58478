// The call pages as an operator uses them: `voipbin-agent serve` with ADMIN_TOKEN (embedded Temporal,
// the VoIPBIN simulator, the fake model), calls driven through the simulator, `GET /calls` over
// HTTP, and `GET /calls/<id>` in headless Chromium: a finished call with a barge-in, and a running
// call whose page shows each new line without being reloaded.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  defaultReply,
  startFakeLlm,
  type FakeLlm,
  type FakeLlmRequest,
} from '../../src/sandbox/fake-llm/server';
import { PROJECT_ROOT } from '../../src/paths';
import { startSimulator, type SimCall, type Simulator } from '../../src/sandbox/simulator';
import { launchChromium } from '../helpers/chromium';
import { AgentProcesses, freePort, serveEnv, type AgentProcess } from '../helpers/cli';
import { waitFor } from '../helpers/wait-for';
import type { CallTimeline } from '../../src/inspect/timeline';

const TOKEN = `admin-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
const GREETING = 'Hello, thanks for calling. How can I help?';
const LONG_REPLY = [
  'Sure, here is everything about your account.',
  'It was opened in March two thousand nineteen.',
  'It has two cards and one savings pocket.',
];
/** Screenshots the test keeps, for a person to look at (gitignored). */
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');

let simulator: Simulator;
let llm: FakeLlm;
let dataDir: string;
let serve: AgentProcess;
let base: string;
let uiPort: number;
let browser: Browser;
const processes = new AgentProcesses(() => dataDir);

beforeAll(async () => {
  // First, so that a machine without Chromium fails here, saying how to install it.
  browser = await launchChromium();
  simulator = await startSimulator({ accessKey: 'pages-access-key', webhookRetryDelayMs: 200 });
  llm = await startFakeLlm({
    firstTokenDelayMs: 40,
    chunkDelayMs: 5,
    // The long reply pauses after its first sentence: the caller always talks over it there.
    reply: (req: FakeLlmRequest) =>
      String(req.messages.at(-1)?.content).includes('everything')
        ? { text: LONG_REPLY.join(' '), sentencePauseMs: 30_000 }
        : defaultReply(req),
  });
  dataDir = mkdtempSync(join(tmpdir(), 'voipbin-agent-pages-'));
  const [port, temporalPort] = [await freePort(), await freePort()];
  uiPort = await freePort();
  serve = processes.start(
    ['serve'],
    serveEnv(
      simulator,
      llm.baseUrl,
      { port, temporalPort, uiPort, dataDir: join(dataDir, 'data') },
      { ADMIN_TOKEN: TOKEN },
    ),
  );
  await serve.waitReady(port);
  base = `http://127.0.0.1:${port}`;
  simulator.setWebhookUri(`${base}/webhooks/voipbin`);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (serve) {
    serve.kill('SIGTERM');
    await serve.exited();
  }
  await simulator?.close();
  await llm?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const auth = { authorization: `Bearer ${TOKEN}` };

async function getJson(path: string, headers: Record<string, string> = auth) {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

interface Listed {
  callId: string;
  status: string;
  page: string;
  profile: string | null;
}

async function listed(query = ''): Promise<Listed[]> {
  const { status, body } = await getJson(`/calls${query}`);
  expect(status).toBe(200);
  return body.calls as Listed[];
}

/** The call's workflow has closed: the page is final. */
async function callClosed(call: SimCall): Promise<void> {
  await call.ended;
  await waitFor(
    async () => (await getJson(`/calls/${call.id}?format=json`)).body.status === 'completed',
    'the call workflow to complete',
    20_000,
  );
}

async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size).toBeGreaterThan(10_000);
  console.log(`call page screenshot kept at ${path}`);
  return path;
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

it('GET /calls: 401 without the token or with a wrong one, 200 with it', async () => {
  const refused: Record<string, string>[] = [
    {},
    { authorization: 'Bearer not-the-token-at-all' },
    { authorization: TOKEN },
  ];
  for (const headers of refused) {
    const res = await getJson('/calls', headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body).toEqual({ error: expect.any(String) as unknown });
  }
  expect(await listed()).toEqual([]);
});

it('the page of a call with a barge-in: the conversation, what was cut, one latency row per answered turn', async () => {
  const call = simulator.startInboundCall({
    from: '+15550005555',
    to: '+15550006666',
    script: {
      steps: [
        { say: 'Tell me everything about my account.', quietMs: 300 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await callClosed(call);

  const context = await browser.newContext({
    extraHTTPHeaders: auth,
    viewport: { width: 1100, height: 900 },
  });
  try {
    const page = await context.newPage();
    const res = await page.goto(`${base}/calls/${call.id}`);
    expect(res?.status()).toBe(200);
    await expect(page.title()).resolves.toBe(`Call ${call.id} · voipbin-agent`);
    expect(await page.locator('main').getAttribute('data-status')).toBe('completed');
    expect(await page.locator('.status').textContent()).toBe('completed · caller-hangup');

    expect(await texts(page, '[data-kind="caller"] .text')).toEqual([
      'Tell me everything about my account.',
      'Stop, just the balance please.',
    ]);
    expect(await texts(page, '[data-kind="agent"] .text')).toEqual([
      GREETING,
      LONG_REPLY[0],
      'You said: Stop, just the balance please.',
      'How else can I help you today?',
    ]);
    // The sentence playing when the caller cut in, marked on its line and on the barge-in.
    expect(await texts(page, '[data-kind="agent"][data-cut="interrupted"] .text')).toEqual([LONG_REPLY[0]]);
    expect(await texts(page, '[data-cut="interrupted"] .tag.cut')).toEqual(['cut off by the caller']);
    const bargeIns = page.locator('[data-kind="barge-in"]');
    expect(await bargeIns.count()).toBe(1);
    expect(await bargeIns.textContent()).toContain('the caller cut in; turn 1 cancelled.');
    expect(await bargeIns.locator('.flushed q').textContent()).toBe(LONG_REPLY[0]);
    // Nothing else was sent or ready: the caller missed nothing else.
    expect(await bargeIns.locator('.never-heard').count()).toBe(0);
    expect(await texts(page, '.counts')).toEqual(['2 turn(s), 1 barge-in(s), 0 reprompt(s)']);

    // Both turns were answered: one row each, three bars each, with their numbers.
    const turns = page.locator('.turn[data-answered="true"]');
    expect(await turns.count()).toBe(2);
    expect(await page.locator('.turn').count()).toBe(2);
    expect(await texts(page, '.turn .question')).toEqual([
      'Tell me everything about my account.',
      'Stop, just the balance please.',
    ]);
    for (let i = 0; i < 2; i++) {
      const bars = turns.nth(i).locator('.bar');
      expect(await bars.count()).toBe(3);
      for (let b = 0; b < 3; b++) expect((await bars.nth(b).boundingBox())!.width).toBeGreaterThan(0);
      const numbers = await turns.nth(i).locator('.ms').allTextContents();
      expect(numbers).toHaveLength(3);
      for (const n of numbers) expect(n).toMatch(/^\d+ ms$/);
    }
    expect(await page.locator('a[href*="/namespaces/default/workflows/"]').getAttribute('href')).toBe(
      `http://localhost:${uiPort}/namespaces/default/workflows/call-${call.id}`,
    );
    expect(await texts(page, '#live')).toEqual(['The call has ended: this page is final.']);
    await screenshot(page, 'call-page.png');
  } finally {
    await context.close();
  }

  // The list has it, with its page and its search attributes (serve registers them), under the
  // filters that match it only.
  expect(await listed()).toEqual([
    {
      callId: call.id,
      workflowId: `call-${call.id}`,
      runId: expect.any(String) as unknown,
      runs: 1,
      status: 'completed',
      startedAt: expect.any(String) as unknown,
      closedAt: expect.any(String) as unknown,
      profile: 'default',
      direction: 'inbound',
      callStatus: 'hangup',
      endReason: 'caller-hangup',
      page: `/calls/${call.id}`,
    },
  ]);
  expect((await listed('?profile=default')).map((c) => c.callId)).toEqual([call.id]);
  expect(await listed('?profile=sales')).toEqual([]);
  expect((await listed('?status=ended')).map((c) => c.callId)).toEqual([call.id]);
  expect(await listed('?status=running')).toEqual([]);
  expect(await listed('?status=failed&limit=5')).toEqual([]);
  expect((await getJson('/calls?status=hungup')).status).toBe(400);
  expect((await getJson('/calls?limit=1000')).status).toBe(400);
}, 90_000);

it('the page of a running call shows each new line without a reload, on its view token, until the call ends', async () => {
  const call = simulator.startInboundCall({ from: '+15550007777', to: '+15550006666' });
  await waitFor(() => call.heard().includes(GREETING), 'the greeting', 30_000);

  // A browser sends no header of its own: the operator's bearer token goes with the page's request
  // only (as a header-adding proxy would); the page's refreshes must do with what it embedded.
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const refreshes: { authorization?: string; status?: number }[] = [];
  try {
    await context.route(`${base}/calls/**`, async (route) => {
      const request = route.request();
      if (!request.isNavigationRequest()) return route.continue();
      return route.continue({ headers: { ...request.headers(), ...auth } });
    });
    const page = await context.newPage();
    page.on('request', (request) => {
      if (request.url().includes('format=fragment'))
        refreshes.push({ authorization: request.headers()['authorization'] });
    });
    page.on('response', (response) => {
      if (response.url().includes('format=fragment'))
        refreshes[refreshes.length - 1]!.status = response.status();
    });
    await page.goto(`${base}/calls/${call.id}`);
    expect(await page.locator('main').getAttribute('data-status')).toBe('running');
    await page.locator('#live', { hasText: 'Live' }).waitFor();
    expect(await texts(page, '[data-kind="agent"] .text')).toEqual([GREETING]);
    expect(await page.locator('[data-kind="caller"]').count()).toBe(0);
    await page.evaluate(() => {
      (globalThis as { sameDocument?: boolean }).sameDocument = true;
    });

    // What a caller says is shown as said, markup and all, never as markup.
    const said = 'My name is <b>Bob</b> & "Co" <script>document.title="owned"</script>.';
    call.speak(said);
    await page.locator('[data-kind="caller"] .text').waitFor({ timeout: 15_000 });
    expect(await texts(page, '[data-kind="caller"] .text')).toEqual([said]);
    expect(
      await page.locator('[data-kind="caller"] .text b, [data-kind="caller"] .text script').count(),
    ).toBe(0);
    await page
      .locator('[data-kind="agent"] .text', { hasText: 'You said: My name is' })
      .waitFor({ timeout: 15_000 });
    expect((await texts(page, '[data-kind="agent"] .text'))[1]).toBe(`You said: ${said}`);
    await expect(page.title()).resolves.toBe(`Call ${call.id} · voipbin-agent`);
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);

    // A reply still being said (the model pauses 30 s after its first sentence): its first sentence
    // is on the page while its turn runs (a speaking turn's are in no history event before it ends).
    // Within 4 s: the model's stall timeout (5 s) would end the turn, and its result say it anyway.
    call.speak('Tell me everything about my account.');
    await page.locator('[data-kind="agent"] .text', { hasText: LONG_REPLY[0] }).waitFor({ timeout: 4000 });
    const json = (await getJson(`/calls/${call.id}?format=json`)).body as unknown as CallTimeline;
    expect(json.status).toBe('running');
    expect(json.turns.at(-1)).toMatchObject({ outcome: 'running', said: 1 });
    await screenshot(page, 'call-page-live.png');

    call.hangup();
    await page.locator('main[data-status="completed"]').waitFor({ timeout: 20_000 });
    // The reply cut by the hangup, once, as it was said.
    expect((await texts(page, '[data-kind="agent"] .text')).filter((t) => t === LONG_REPLY[0])).toHaveLength(
      1,
    );
    await page.locator('#live', { hasText: 'The call has ended: this page is final.' }).waitFor();
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // Every refresh went with the page's view token for this call, never the admin token, and was let in.
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    for (const r of refreshes) {
      expect(r.authorization).toMatch(/^Bearer view\.\d+\.[\w-]{43}$/);
      expect(r.status).toBe(200);
    }

    // Then it stops asking.
    const asked = refreshes.length;
    await page.waitForTimeout(4000);
    expect(refreshes.length).toBe(asked);
  } finally {
    await context.close();
  }
}, 90_000);
