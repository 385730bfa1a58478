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
    this.calls.delete(transcribeId);
    this.calls.set(transcribeId, callId);
    if (this.calls.size > this.capacity) {
      const oldest = this.calls.keys().next();
      if (!oldest.done) this.calls.delete(oldest.value);
    }
  }
}
