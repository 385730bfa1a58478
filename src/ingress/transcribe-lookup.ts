import type { VoipbinClient } from '../voipbin/client';
import { VoipbinApiError } from '../voipbin/errors';

/** Finds the call a transcribe session belongs to: `null` when it is not on a call of ours. */
export type TranscribeLookup = (transcribeId: string) => Promise<string | null>;

/** VoIPBIN will never show us this transcribe: another customer's (403) or deleted (404). */
const NOT_OURS = new Set([403, 404]);

/**
 * `GET /transcribes/{id}`. Any other failure propagates: a retryable one (VoIPBIN unreachable, 5xx,
 * 429) makes the webhook a 503 so VoIPBIN sends it again; a permanent one (say a bad access key) a 500.
 */
export function lookupTranscribeCall(client: Pick<VoipbinClient, 'getTranscribe'>): TranscribeLookup {
  return async (transcribeId) => {
    try {
      const t = await client.getTranscribe(transcribeId);
      return t.reference_type === 'call' ? t.reference_id : null;
    } catch (err) {
      if (err instanceof VoipbinApiError && NOT_OURS.has(err.httpStatus)) return null;
      throw err;
    }
  };
}
