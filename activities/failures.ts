import { ApplicationFailure } from '@temporalio/common';
import { APIError as OpenAiApiError, APIConnectionError as OpenAiConnectionError } from 'openai';
import {
  isRetryableStatus,
  VoipbinApiError,
  VoipbinNetworkError,
  VoipbinResponseError,
} from '../src/voipbin/errors';

/**
 * VoIPBIN answers that one activity gives a meaning of its own, by HTTP status: the failure gets
 * that type (e.g. `/say` answering 404 is `SpeakingGone`); retryability still comes from the status.
 */
export type FailureTypes = Readonly<Partial<Record<number, string>>>;

/**
 * The one place that turns provider errors into Temporal failures: typed, with retryability
 * from the HTTP status and `Retry-After` honoured as the next retry delay.
 */
export function toActivityFailure(err: unknown, types: FailureTypes = {}): unknown {
  if (err instanceof VoipbinApiError) {
    const type = types[err.httpStatus];
    return ApplicationFailure.create({
      type: type ?? 'VoipbinApiError',
      message: err.message,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
      details: [{ httpStatus: err.httpStatus, status: err.status, reason: err.reason }],
    });
  }
  if (err instanceof VoipbinNetworkError) {
    return ApplicationFailure.create({ type: 'VoipbinNetworkError', message: err.message });
  }
  if (err instanceof VoipbinResponseError) {
    return ApplicationFailure.create({
      type: 'VoipbinResponseError',
      message: err.message,
      nonRetryable: true,
    });
  }
  if (err instanceof OpenAiConnectionError) {
    return ApplicationFailure.create({ type: 'LlmConnectionError', message: err.message });
  }
  if (err instanceof OpenAiApiError) {
    const headers = err.headers as Headers | undefined;
    const status = err.status as number | undefined;
    const retryAfter = Number(headers?.get('retry-after'));
    return ApplicationFailure.create({
      type: 'LlmApiError',
      message: `LLM endpoint answered ${status ?? 'an error'}: ${err.message}`,
      nonRetryable: status !== undefined && !isRetryableStatus(status),
      nextRetryDelay: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      details: [{ httpStatus: status }],
    });
  }
  return err;
}

/** Runs `fn`, rethrowing any failure in its Temporal shape. */
export async function mapFailures<T>(fn: () => Promise<T>, types?: FailureTypes): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err, types);
  }
}
