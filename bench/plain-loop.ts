// The baseline: a voice agent as VoIPBIN's integration guide builds it, a plain in-memory loop in
// one process with no Temporal. Webhooks in, the model streamed, each sentence to `/say` as soon as
// it is complete, `/flush` on barge-in. Nothing survives a crash; it is here to be fast, and to
// show what durability costs the caller. Benchmarks only.
import express from 'express';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { SentenceSplitter } from '../activities/sentences';
import { DEFAULT_AGENT_CONFIG } from '../src/agent-config';
import { verifySignature } from '../src/ingress/signature';
import { VoipbinClient } from '../src/voipbin/client';
import { parseWebhookEvent } from '../src/voipbin/events';

const PROFILE = DEFAULT_AGENT_CONFIG.profiles.default!;

interface PlainCall {
  speakingId?: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
  /** The turn in flight: aborted on barge-in. */
  turn?: AbortController;
  /** `/say` and `/flush` in order, one at a time. */
  speech: Promise<unknown>;
}

export interface PlainLoop {
  url: string;
  close(): Promise<void>;
}

export async function startPlainLoop(opts: {
  voipbin: { baseUrl: string; apiKey: string };
  webhookSecret: string;
  llmBaseUrl: string;
}): Promise<PlainLoop> {
  const voipbin = new VoipbinClient(opts.voipbin);
  const openai = new OpenAI({ baseURL: opts.llmBaseUrl, apiKey: 'plain', maxRetries: 0 });
  const calls = new Map<string, PlainCall>();
  const transcribes = new Map<string, string>();

  const speak = (call: PlainCall, op: () => Promise<unknown> | undefined) => {
    call.speech = call.speech.then(op).catch(() => undefined);
  };

  async function answer(call: PlainCall, turn: AbortController): Promise<void> {
    const splitter = new SentenceSplitter();
    const said: string[] = [];
    const stream = await openai.chat.completions.create(
      {
        model: PROFILE.model,
        stream: true,
        messages: [{ role: 'system', content: PROFILE.systemPrompt }, ...call.messages],
      },
      { signal: turn.signal },
    );
    const say = (sentences: string[]) => {
      for (const text of sentences) {
        said.push(text);
        speak(call, () => (turn.signal.aborted ? undefined : voipbin.say(call.speakingId!, text)));
      }
    };
    for await (const chunk of stream) say(splitter.push(chunk.choices[0]?.delta?.content ?? ''));
    if (!turn.signal.aborted) say(splitter.end());
    call.messages.push({ role: 'assistant', content: said.join(' ') });
  }

  const app = express();
  app.post('/webhooks/voipbin', express.raw({ type: () => true }), (req, res) => {
    const body = req.body as Buffer;
    if (!verifySignature(opts.webhookSecret, body, req.get('x-voipbin-signature'))) {
      res.status(401).end();
      return;
    }
    const event = parseWebhookEvent(JSON.parse(body.toString('utf8')));
    res.json({ ok: true });
    if (event.kind === 'transcribe') transcribes.set(event.transcribe.id, event.transcribe.reference_id);
    if (event.kind === 'call' && event.call.status === 'progressing' && !calls.has(event.call.id)) {
      const call: PlainCall = { messages: [], speech: Promise.resolve() };
      calls.set(event.call.id, call);
      const callId = event.call.id;
      void Promise.all([
        voipbin.createTranscribe({
          reference_type: 'call',
          reference_id: callId,
          language: PROFILE.language,
          direction: 'both',
        }),
        voipbin.createSpeaking({
          reference_type: 'call',
          reference_id: callId,
          language: PROFILE.language,
          direction: 'both',
        }),
      ]).then(([, speaking]) => {
        call.speakingId = speaking.id;
        call.messages.push({ role: 'assistant', content: PROFILE.greeting });
        speak(call, () => voipbin.say(speaking.id, PROFILE.greeting));
      });
    }
    if (event.kind === 'call' && event.call.status === 'hangup') {
      const call = calls.get(event.call.id);
      call?.turn?.abort();
      if (call?.speakingId) void voipbin.stopSpeaking(call.speakingId).catch(() => undefined);
      calls.delete(event.call.id);
    }
    if (event.kind === 'transcript' && event.transcript.direction === 'in') {
      const call = calls.get(transcribes.get(event.transcript.transcribe_id) ?? '');
      if (!call?.speakingId) return;
      // Barge-in: whatever was in flight is cut, and whatever plays is flushed.
      if (call.turn) {
        call.turn.abort();
        speak(call, () => voipbin.flush(call.speakingId!));
      }
      call.messages.push({ role: 'user', content: event.transcript.message });
      const turn = new AbortController();
      call.turn = turn;
      void answer(call, turn).catch(() => undefined);
    }
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/voipbin`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
