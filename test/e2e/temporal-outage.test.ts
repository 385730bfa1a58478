// The Temporal server SIGKILLed mid-call (on its database file) and kept down longer than
// VoIPBIN's webhook retries (3 attempts, 1 s apart, each waiting out the ingress's deadline),
// first while the caller speaks, then while the caller hangs up. Nothing the ingress acknowledged
// may be lost, and what VoIPBIN gave up on must be reconciled once Temporal is back. (The
// scenario: test/helpers/outage.ts; its timing: `npm run bench -- outage`.)
import { FOLLOW_UP, GREETING, OutageStack } from '../helpers/outage';
import { SESSIONS_CREATED, readsOf, requestSequence } from '../helpers/voipbin-requests';

let stack: OutageStack;

beforeAll(async () => {
  stack = await OutageStack.start();
}, 60_000);

afterAll(() => stack?.close());

it('events sent while Temporal is down are refused, then reconciled: the transcript answered once, the hangup ends the call', async () => {
  const call = await stack.answeredCall();

  // Down while the caller speaks: the webhooks and /readyz answer 503 (stack.down, stack.givenUp).
  await stack.questionLost(call, 'What are your opening hours?', 2);
  // Down while the caller hangs up.
  const summary = await stack.hangupLost(call);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 2 });
  expect(await stack.readyz()).toBe(200);

  // Each caller final answered once; nothing said into the dead call; both sessions stopped.
  expect(requestSequence(stack.simulator)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: I need help with my bill. -> 200',
    `POST /speakings/{id}/say ${FOLLOW_UP} -> 200`,
    'POST /speakings/{id}/say You said: What are your opening hours. -> 200',
    `POST /speakings/{id}/say ${FOLLOW_UP} -> 200`,
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // What brought them back: the workflow asked VoIPBIN (how often depends on timers too).
  const reads = readsOf(stack.simulator);
  expect(reads).toContain('GET /calls/{id} -> 200');
  expect(reads).toContain('GET /transcripts -> 200 ?page_size&transcribe_id');

  // Refused events, reconciliation and all: no transcript, phone number or key in the logs above debug.
  const logs = stack.ingress.output + stack.worker.output;
  for (const secret of ['opening hours', 'my bill', '+15550009999', stack.simulator.accessKey])
    expect(logs).not.toContain(secret);

  stack.ingress.kill('SIGTERM');
  stack.worker.kill('SIGTERM');
  expect(await Promise.all([stack.ingress.exited(), stack.worker.exited()])).toEqual([0, 0]);
}, 180_000);
