import { remember } from '../bounded';

/**
 * `transcript_created` names the transcribe session, not the call. This remembers which call
 * each transcribe session belongs to (learnt from `transcribe_*` events or a lookup).
 */
export class TranscribeMap {
  private readonly calls = new Map<string, string | null>();

  constructor(private readonly capacity = 10_000) {}

  /** The call id, `null` for a session that is not on a call, `undefined` if unknown. */
  get(transcribeId: string): string | null | undefined {
    return this.calls.get(transcribeId);
  }

  set(transcribeId: string, callId: string | null): void {
    remember(this.calls, transcribeId, callId, this.capacity);
  }
}
