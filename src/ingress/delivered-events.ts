import { CALL_STATUS_RANK, type CallStatus } from '../../workflows/messages';
import { remember, rememberKey } from '../bounded';

/**
 * What this ingress has already handed to call workflows, so that it does not signal what a
 * workflow would ignore: VoIPBIN sends `call_updated` for every change of a call, most of them
 * with the status unchanged, and repeats an event after a timeout or a 5xx. Each signal is an
 * event in the call's history and a workflow task. Only what Temporal accepted is remembered (an
 * event that failed is sent again when VoIPBIN retries it); the workflow still de-duplicates
 * whatever reaches it (other ingress replicas, reconciliation).
 */
export class DeliveredEvents {
  /** Per call: the furthest status a workflow was told of. */
  private readonly statuses = new Map<string, number>();
  private readonly transcripts = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** A call snapshot no further than one already delivered tells the workflow nothing. */
  isNewStatus(callId: string, status: CallStatus): boolean {
    return CALL_STATUS_RANK[status] > (this.statuses.get(callId) ?? CALL_STATUS_RANK.unknown);
  }

  /** Whether a workflow was told of any status of the call: it was started (and may have ended). */
  anyStatusDelivered(callId: string): boolean {
    return this.statuses.has(callId);
  }

  statusDelivered(callId: string, status: CallStatus): void {
    const rank = Math.max(CALL_STATUS_RANK[status], this.statuses.get(callId) ?? CALL_STATUS_RANK.unknown);
    remember(this.statuses, callId, rank, this.capacity);
  }

  isNewTranscript(id: string): boolean {
    return !this.transcripts.has(id);
  }

  transcriptDelivered(id: string): void {
    rememberKey(this.transcripts, id, this.capacity);
  }
}
