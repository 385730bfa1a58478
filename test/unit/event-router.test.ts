import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import type { CallWorkflows } from '../../src/ingress/call-workflows';
import { EventRouter } from '../../src/ingress/event-router';
import { Counters } from '../../src/ingress/metrics';
import { silentLogger } from '../../src/logger';
import { parseWebhookEvent } from '../../src/voipbin/events';
import { envelope, transcriptPayload } from '../fixtures/voipbin-payloads';

describe('EventRouter transcribe lookups', () => {
  it('shares one lookup between transcripts of an unknown session arriving together', async () => {
    const signals: string[] = [];
    const workflows: CallWorkflows = {
      signalWithStart: async () => 'delivered',
      signal: async (callId) => {
        signals.push(callId);
        return 'delivered';
      },
    };
    let release!: (callId: string) => void;
    const lookup = jest.fn(() => new Promise<string | null>((resolve) => (release = resolve)));
    const router = new EventRouter({
      workflows,
      agent: DEFAULT_AGENT_CONFIG,
      lookupTranscribe: lookup,
      counters: new Counters(),
      log: silentLogger,
    });
    const event = (id: string) =>
      parseWebhookEvent(envelope('transcript_created', transcriptPayload({ id, transcribe_id: 'tr-1' })));
    const both = Promise.all([router.route(event('a')), router.route(event('b'))]);
    release('call-9');
    expect(await both).toEqual(['delivered', 'delivered']);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(signals).toEqual(['call-9', 'call-9']);
  });
});
