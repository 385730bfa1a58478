import { Context } from '@temporalio/activity';
import type { VoipbinClient } from '../src/voipbin/client';
import { VoipbinApiError } from '../src/voipbin/errors';
import type { Page, Transcript } from '../src/voipbin/schemas';
import { mapFailures } from './failures';
import { heartbeatWhileSlow } from './heartbeat';
import { type MissedTranscript, SPEAKING_GONE, type VoipbinActivities } from './types';

/** VoIPBIN's largest page (API-NOTES §1, §9): a shorter page is the last one. */
const PAGE_SIZE = 100;

/**
 * `GET /speakings` has no filter, so finding the call's session means reading the customer's
 * sessions newest first. The one to adopt was created moments ago, by the attempt that crashed or
 * timed out before this retry, so it sits near the top; 500 sessions cover what hundreds of
 * concurrent calls create in that window while keeping a 500 that is not a duplicate (the call is
 * not live) to five quick reads before it is rethrown.
 */
const SPEAKING_SCAN_PAGES = 5;

/** The sessions of one call: a handful, the cap only guards against a list that never ends. */
const TRANSCRIBE_SCAN_PAGES = 5;

/** 5 000 transcripts, beyond what an hour-long call produces: a list that never ends stops here. */
const TRANSCRIPT_SCAN_PAGES = 50;

/**
 * Transcripts are read from this long before the newest one the workflow saw: they can be
 * delivered out of order, and the workflow drops the ones it already has by id.
 */
const TRANSCRIPT_OVERLAP_MS = 120_000;

const signal = () => ({ signal: Context.current().cancellationSignal });

const answered = (err: unknown, httpStatus: number): err is VoipbinApiError =>
  err instanceof VoipbinApiError && err.httpStatus === httpStatus;

/** `fallback` when VoIPBIN answers 404: it does not know (any more) what was asked about. */
async function unlessGone<T, F>(work: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await work;
  } catch (err) {
    if (answered(err, 404)) return fallback;
    throw err;
  }
}

/**
 * The pages of a VoIPBIN list, newest first, `maxPages` at most. Ends at a short page, an empty
 * `next_page_token`, or a token that does not move (a server bug must not loop forever).
 */
async function* pages<T>(
  route: string,
  maxPages: number,
  readPage: (pageToken: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T[]> {
  let token: string | undefined;
  for (let read = 0; read < maxPages; read++) {
    const page = await readPage(token);
    yield page.result;
    const next = page.next_page_token;
    if (page.result.length < PAGE_SIZE || next === '' || next === token) return;
    token = next;
  }
  Context.current().log.warn('VoIPBIN list read up to its page cap', { route, pages: maxPages });
}

const sameCall = (ref: { reference_type?: string; reference_id?: string }, callId: string): boolean =>
  ref.reference_type === 'call' && ref.reference_id?.toLowerCase() === callId.toLowerCase();

/** `Date.parse` of an RFC 3339 time; `undefined` when it is null or unreadable. */
function epochMs(time: string | null | undefined): number | undefined {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** VoIPBIN REST calls for the call workflow, built around an injected client. */
export function createVoipbinActivities(client: VoipbinClient): VoipbinActivities {
  /** Inbound transcripts from `cutoff` on (or of unknown age), oldest first. */
  const inboundTranscripts = async (transcribeId: string, cutoff: number): Promise<MissedTranscript[]> => {
    const newestFirst: Transcript[] = [];
    const list = pages('/transcripts', TRANSCRIPT_SCAN_PAGES, (pageToken) =>
      client.listTranscripts({ transcribeId, pageSize: PAGE_SIZE, pageToken }, signal()),
    );
    for await (const items of list) {
      let reachedCutoff = false;
      for (const t of items) {
        const at = epochMs(t.tm_create);
        if (at !== undefined && at < cutoff) reachedCutoff = true;
        else newestFirst.push(t);
      }
      if (reachedCutoff) break;
    }
    return newestFirst
      .reverse()
      .filter((t) => t.direction === 'in')
      .map((t) => ({
        id: t.id,
        transcribeId: t.transcribe_id,
        text: t.message,
        createdAt: t.tm_create ?? null,
      }));
  };

  return {
    createTranscribe: ({ callId, language }) =>
      mapFailures(async () => {
        try {
          const t = await client.createTranscribe(
            { reference_type: 'call', reference_id: callId, language, direction: 'both' },
            signal(),
          );
          return { transcribeId: t.id, adopted: false };
        } catch (err) {
          // 409 ALREADY_EXISTS: a transcribe in this language is already progressing on the call.
          if (!answered(err, 409)) throw err;
          const list = pages('/transcribes', TRANSCRIBE_SCAN_PAGES, (pageToken) =>
            client.listTranscribes(
              { referenceType: 'call', referenceId: callId, pageSize: PAGE_SIZE, pageToken },
              signal(),
            ),
          );
          for await (const items of list) {
            const live = items.find(
              (t) => sameCall(t, callId) && t.status === 'progressing' && t.language === language,
            );
            if (live) return { transcribeId: live.id, adopted: true };
          }
          throw err;
        }
      }),

    createSpeaking: ({ callId, language, provider, voiceId }) =>
      mapFailures(async () => {
        try {
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
          return { speakingId: s.id, adopted: false };
        } catch (err) {
          // A duplicate is a bare 500 (not the documented 409); so is a call that is not live.
          if (!answered(err, 500)) throw err;
          const list = pages('/speakings', SPEAKING_SCAN_PAGES, (pageToken) =>
            client.listSpeakings({ pageSize: PAGE_SIZE, pageToken }, signal()),
          );
          for await (const items of list) {
            const live = items.find(
              (s) => sameCall(s, callId) && (s.status === 'active' || s.status === 'initiating'),
            );
            if (live) return { speakingId: live.id, adopted: true };
          }
          throw err;
        }
      }),

    // Run at most once by the workflow: no retry here either.
    say: ({ speakingId, text }) =>
      mapFailures(() => heartbeatWhileSlow(async () => void (await client.say(speakingId, text, signal()))), {
        404: SPEAKING_GONE,
      }),

    flush: ({ speakingId }) =>
      mapFailures(async () => void (await client.flush(speakingId, signal())), { 404: SPEAKING_GONE }),

    stopSpeaking: ({ speakingId }) =>
      mapFailures(async () => void (await unlessGone(client.stopSpeaking(speakingId, signal()), undefined))),

    stopTranscribe: ({ transcribeId }) =>
      mapFailures(
        async () => void (await unlessGone(client.stopTranscribe(transcribeId, signal()), undefined)),
      ),

    hangupCall: ({ callId }) =>
      mapFailures(async () => {
        const call = await unlessGone(client.hangupCall(callId, signal()), undefined);
        return { status: call?.status ?? 'hangup' };
      }),

    transferCall: ({ callId, to }) =>
      mapFailures(async () => {
        if (Context.current().info.attempt > 1) {
          // The attempt before may have transferred it: VoIPBIN hangs the call up on the agent
          // as it transfers. A call that has left is not transferred again.
          const status = await unlessGone(
            client.getCall(callId, signal()).then((c) => c.status),
            'hangup' as const,
          );
          if (status !== 'progressing') return {};
        }
        const transfer = await client.createTransfer(
          {
            transfer_type: 'blind',
            transferer_call_id: callId,
            transferee_addresses: [{ type: 'tel', target: to }],
          },
          signal(),
        );
        return { transferId: transfer.id };
      }),

    reconcile: ({ callId, transcribeId, sinceMs }) =>
      mapFailures(async () => {
        const call = await unlessGone(
          client.getCall(callId, signal()).then((c) => c.status),
          'gone' as const,
        );
        if (call === 'gone' || transcribeId === undefined) return { call, transcripts: [] };
        const cutoff = sinceMs === undefined ? -Infinity : sinceMs - TRANSCRIPT_OVERLAP_MS;
        // A transcribe VoIPBIN no longer knows (deleted, with its transcripts) has nothing to miss.
        const transcripts = await unlessGone(inboundTranscripts(transcribeId, cutoff), []);
        return { call, transcripts };
      }),
  };
}
