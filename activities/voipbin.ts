import { Context } from '@temporalio/activity';
import type { VoipbinClient } from '../src/voipbin/client';
import { mapFailures } from './failures';
import type { VoipbinActivities } from './types';

const signal = () => ({ signal: Context.current().cancellationSignal });

/** VoIPBIN REST calls for the call workflow, built around an injected client. */
export function createVoipbinActivities(client: VoipbinClient): VoipbinActivities {
  return {
    createTranscribe: ({ callId, language }) =>
      mapFailures(async () => {
        const t = await client.createTranscribe(
          { reference_type: 'call', reference_id: callId, language, direction: 'both' },
          signal(),
        );
        return { transcribeId: t.id };
      }),
    createSpeaking: ({ callId, language, provider, voiceId }) =>
      mapFailures(async () => {
        const s = await client.createSpeaking(
          {
            reference_type: 'call',
            reference_id: callId,
            language,
            provider,
            voice_id: voiceId,
            direction: 'both',
          },
          signal(),
        );
        return { speakingId: s.id };
      }),
    say: ({ speakingId, text }) =>
      mapFailures(async () => void (await client.say(speakingId, text, signal()))),
    flush: ({ speakingId }) => mapFailures(async () => void (await client.flush(speakingId, signal()))),
    stopSpeaking: ({ speakingId }) =>
      mapFailures(async () => void (await client.stopSpeaking(speakingId, signal()))),
    stopTranscribe: ({ transcribeId }) =>
      mapFailures(async () => void (await client.stopTranscribe(transcribeId, signal()))),
    hangupCall: ({ callId }) =>
      mapFailures(async () => ({ status: (await client.hangupCall(callId, signal())).status })),
    getCall: ({ callId }) =>
      mapFailures(async () => ({ status: (await client.getCall(callId, signal())).status })),
  };
}
