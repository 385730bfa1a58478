import { type Simulator, startSimulator } from '../../src/sandbox/simulator';
import {
  type ReceivedWebhook,
  type WebhookReceiver,
  startWebhookReceiver,
} from '../helpers/webhook-receiver';
import { waitFor } from '../helpers/wait-for';

const KEY = 'k';
const matching = (re: RegExp): unknown => expect.stringMatching(re);

/** Scripted callers on inbound calls, with the test playing the agent over REST. */
describe('VoIPBIN simulator scripted calls', () => {
  let receiver: WebhookReceiver;
  let sim: Simulator;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    sim = await startSimulator({
      accessKey: KEY,
      webhookUri: receiver.url,
      webhookRetryDelayMs: 10,
      speechCharsPerSecond: 200, // 5 ms per character
      hangupDelayMs: 20,
    });
  });
  afterEach(async () => {
    await sim.close();
    await receiver.close();
  });

  async function post(path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${sim.baseUrl}${path}?accesskey=${KEY}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  }

  async function get(path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${sim.baseUrl}${path}${path.includes('?') ? '&' : '?'}accesskey=${KEY}`);
    return (await res.json()) as Record<string, unknown>;
  }

  const of = (type: string) => receiver.received.filter((h) => h.type === type);
  const data = (h: ReceivedWebhook | undefined) => (h?.data ?? {}) as Record<string, unknown>;
  const transcripts = (direction: string) =>
    of('transcript_created')
      .map(data)
      .filter((d) => d['direction'] === direction);

  /** Creates transcribe (both) and speaking sessions, as the agent does on call_progressing. */
  async function sessions(callId: string): Promise<{ transcribeId: string; speakingId: string }> {
    const t = await post('/transcribes', {
      reference_type: 'call',
      reference_id: callId,
      language: 'en-US',
      direction: 'both',
    });
    const s = await post('/speakings', { reference_type: 'call', reference_id: callId, direction: 'both' });
    return { transcribeId: t['id'] as string, speakingId: s['id'] as string };
  }

  it('walks a scripted conversation: transcripts in and out, flush, caller hangup', async () => {
    const call = sim.startInboundCall({
      from: '+15551112222',
      to: '+15553334444',
      script: {
        steps: [{ say: 'What is my balance?' }, { say: 'Thanks, bye.' }, { hangup: true, afterMs: 10 }],
      },
    });
    await waitFor(() => of('call_progressing').length === 1, 'call_progressing', 2000);
    expect(receiver.received.map((h) => h.type)).toEqual([
      'call_created',
      'call_ringing',
      'call_progressing',
    ]);
    expect(data(receiver.received[0])).toMatchObject({
      id: call.id,
      status: 'dialing',
      direction: 'incoming',
    });
    expect(data(receiver.received[0])['source']).toEqual({
      type: 'tel',
      target: '+15551112222',
      target_name: '',
      name: '',
      detail: '',
    });

    const { transcribeId, speakingId } = await sessions(call.id);
    expect(of('transcribe_created')).toHaveLength(1);
    await post(`/speakings/${speakingId}/say`, { text: 'Hello, how can I help?' });

    // The caller waits for the greeting to finish playing, then speaks.
    await waitFor(() => transcripts('in').length === 1, 'caller transcript', 3000);
    expect(transcripts('in')[0]).toMatchObject({
      transcribe_id: transcribeId,
      message: 'What is my balance?',
      tm_transcript: matching(/^0001-01-01T00:00:\d\d(\.\d{1,6})?Z$/),
    });
    expect(transcripts('out').map((d) => d['message'])).toEqual(['Hello, how can I help?']);
    expect(call.heard()).toEqual(['Hello, how can I help?']);
    const speechTypes = receiver.received
      .map((h) => h.type)
      .filter((t) => t.startsWith('transcribe_speech') || t === 'transcript_created');
    expect(speechTypes).toEqual([
      'transcript_created', // the greeting's echo ('out')
      'transcribe_speech_started',
      'transcribe_speech_interim',
      'transcribe_speech_ended',
      'transcript_created',
    ]);
    expect(data(of('transcribe_speech_interim')[0])).toMatchObject({
      transcribe_id: transcribeId,
      direction: 'in',
      message: 'What is my balance?',
    });
    expect(data(of('transcribe_speech_started')[0])).not.toHaveProperty('message');

    // A reply that gets flushed while playing is never heard, and its echo never comes.
    // 250+ characters: over a second of playback, so the flush surely lands while it plays.
    const long = 'Your balance is one hundred and twenty three dollars and forty five cents. '.repeat(4);
    await post(`/speakings/${speakingId}/say`, { text: long });
    await post(`/speakings/${speakingId}/say`, { text: 'Anything else?' });
    await post(`/speakings/${speakingId}/flush`);
    await post(`/speakings/${speakingId}/say`, { text: 'Sorry, go on.' });

    await call.ended;
    await call.scriptDone;
    expect(call.agentSaid()).toEqual(['Hello, how can I help?', long, 'Anything else?', 'Sorry, go on.']);
    expect(call.heard()).toEqual(['Hello, how can I help?', 'Sorry, go on.']);
    expect(call.callerSaid()).toEqual(['What is my balance?', 'Thanks, bye.']);
    expect(call.status()).toBe('hangup');

    await sim.webhooksIdle();
    expect(transcripts('out').map((d) => d['message'])).toEqual(['Hello, how can I help?', 'Sorry, go on.']);
    const tail = receiver.received.map((h) => h.type).slice(-2);
    expect(tail).toEqual(['call_hangup', 'transcribe_done']);
    expect(data(of('call_hangup')[0])).toMatchObject({ status: 'hangup', hangup_by: 'remote' });
    expect((await get(`/transcribes/${transcribeId}`))['status']).toBe('done');
    // tts-manager does not stop a speaking session on hangup.
    expect((await get(`/speakings/${speakingId}`))['status']).toBe('active');

    const list = await get(`/transcripts?transcribe_id=${transcribeId}`);
    const messages = (list['result'] as Array<Record<string, unknown>>).map((t) => [
      t['direction'],
      t['message'],
    ]);
    expect(messages).toEqual([
      ['in', 'Thanks, bye.'],
      ['out', 'Sorry, go on.'],
      ['in', 'What is my balance?'],
      ['out', 'Hello, how can I help?'],
    ]);
    expect(receiver.received.some((h) => h.type.startsWith('speaking_'))).toBe(false);
  });

  it('barges in while the agent speaks, and the agent hangs up over REST', async () => {
    const call = sim.startInboundCall({
      from: '+15551112222',
      to: '+15553334444',
      script: { steps: [{ say: 'Wait, stop.', duringAgentSpeech: true, afterMs: 30 }] },
    });
    await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
    const { speakingId } = await sessions(call.id);
    const long = 'This is a rather long sentence that takes a while to play to the caller. '.repeat(4);
    await post(`/speakings/${speakingId}/say`, { text: long });
    await call.scriptDone;
    expect(call.heard()).toEqual([]);
    await waitFor(() => transcripts('in').length === 1, 'barge-in transcript', 2000);
    await post(`/speakings/${speakingId}/flush`);

    const hung = await post(`/calls/${call.id}/hangup`);
    expect(hung['status']).toBe('terminating');
    await call.ended;
    await sim.webhooksIdle();
    expect(call.heard()).toEqual([]);
    expect(receiver.received.map((h) => h.type).slice(-3)).toEqual([
      'call_terminating',
      'call_hangup',
      'transcribe_done',
    ]);
    expect(data(of('call_hangup')[0])).toMatchObject({ hangup_by: 'local', hangup_reason: 'normal' });
  });

  it('loses caller speech when no transcribe runs, but records it', async () => {
    const call = sim.startInboundCall({ from: '+1', to: '+2' });
    await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
    call.speak('Is anybody there?');
    expect(call.callerSaid()).toEqual(['Is anybody there?']);
    call.hangup();
    await call.ended;
    await sim.webhooksIdle();
    expect(receiver.received.map((h) => h.type)).toEqual([
      'call_created',
      'call_ringing',
      'call_progressing',
      'call_hangup',
    ]);
  });

  it('waits for the agent, then stays quiet for quietMs before speaking', async () => {
    const call = sim.startInboundCall({
      from: '+1',
      to: '+2',
      script: {
        steps: [
          { waitForAgent: true, quietMs: 150 },
          { say: 'Hi.', waitForAgent: true, quietMs: 0 },
        ],
      },
    });
    await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
    const { speakingId } = await sessions(call.id);
    await post(`/speakings/${speakingId}/say`, { text: 'Hello.' }); // 30 ms
    await waitFor(() => call.heard().length === 1, 'greeting played', 2000);
    // A second sentence within the quiet window: the caller keeps waiting for it too.
    await post(`/speakings/${speakingId}/say`, { text: 'I am your agent.' });
    await call.scriptDone;
    expect(call.heard()).toEqual(['Hello.', 'I am your agent.']);
    expect(call.callerSaid()).toEqual(['Hi.']);
  });

  it("tells a listener each text as it starts playing and each /flush with what it dropped, not a session's stop", async () => {
    const call = sim.startInboundCall({ from: '+1', to: '+2' });
    await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
    const { speakingId } = await sessions(call.id);
    const events: unknown[] = [];
    const unsubscribe = call.onPlayback((e) => events.push(e));
    expect(call.agentSpeaking()).toBe(false);
    await post(`/speakings/${speakingId}/say`, { text: 'Hi.' }); // 15 ms
    await post(`/speakings/${speakingId}/say`, {
      text: 'A long second sentence, played for a while.'.repeat(3),
    });
    await post(`/speakings/${speakingId}/say`, { text: 'Never heard.' });
    await waitFor(() => events.length === 2, 'the second text playing', 2000);
    expect(call.agentSpeaking()).toBe(true);
    await post(`/speakings/${speakingId}/flush`);
    expect(call.agentSpeaking()).toBe(false);
    expect(events).toEqual([
      { kind: 'playing', text: 'Hi.' },
      { kind: 'playing', text: 'A long second sentence, played for a while.'.repeat(3) },
      {
        kind: 'flushed',
        interrupted: 'A long second sentence, played for a while.'.repeat(3),
        unplayed: ['Never heard.'],
      },
    ]);
    // The session's stop drops what plays too, but it is no /flush.
    await post(`/speakings/${speakingId}/say`, { text: 'Still there?' });
    await post(`/speakings/${speakingId}/stop`);
    expect(events.slice(3)).toEqual([{ kind: 'playing', text: 'Still there?' }]);
    unsubscribe();
    call.hangup();
    await call.ended;
  });

  it("agentDone: the agent's answer since the caller last spoke finished, then quietMs of quiet", async () => {
    const call = sim.startInboundCall({ from: '+1', to: '+2' });
    await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
    const { speakingId } = await sessions(call.id);
    await post(`/speakings/${speakingId}/say`, { text: 'Hello.' }); // 30 ms
    await call.agentDone(50);
    expect(call.heard()).toEqual(['Hello.']);
    call.speak('Hi.');
    let done = false;
    const answered = call.agentDone(50).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    // The greeting was before the caller spoke: not an answer.
    expect(done).toBe(false);
    await post(`/speakings/${speakingId}/say`, { text: 'How can I help?' });
    await answered;
    expect(call.heard()).toEqual(['Hello.', 'How can I help?']);
  });
});
