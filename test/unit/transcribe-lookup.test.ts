import { randomUUID } from 'node:crypto';
import { lookupTranscribeCall } from '../../src/ingress/transcribe-lookup';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { VoipbinApiError, VoipbinNetworkError, isRetryable } from '../../src/voipbin/errors';
import { freePort } from '../helpers/cli';
import { waitFor } from '../helpers/wait-for';

const KEY = 'lookup-test-key';

describe('lookupTranscribeCall against the VoIPBIN simulator', () => {
  let sim: Simulator;
  let client: VoipbinClient;

  beforeEach(async () => {
    sim = await startSimulator({ accessKey: KEY });
    client = new VoipbinClient({ baseUrl: sim.baseUrl, apiKey: KEY });
  });
  afterEach(() => sim.close());

  it('finds the call of a transcribe on a call', async () => {
    const call = sim.startInboundCall({ from: '+15551230001', to: '+15559870001' });
    await waitFor(() => call.status() === 'progressing', 'the call to be answered');
    const transcribe = await client.createTranscribe({
      reference_type: 'call',
      reference_id: call.id,
      language: 'en-US',
      direction: 'both',
    });

    expect(await lookupTranscribeCall(client)(transcribe.id)).toBe(call.id);
    expect(sim.requests.filter((r) => r.method === 'GET')).toMatchObject([
      { path: `/transcribes/${transcribe.id}`, status: 200 },
    ]);
  });

  it('answers null for a transcribe VoIPBIN does not know (404): not a call of ours', async () => {
    const unknown = randomUUID();
    expect(await lookupTranscribeCall(client)(unknown)).toBeNull();
    expect(sim.requests).toMatchObject([{ method: 'GET', path: `/transcribes/${unknown}`, status: 404 }]);
  });

  it('fails for good, not null, when VoIPBIN refuses the access key (401): a 500, never a silent drop', async () => {
    const wrongKey = new VoipbinClient({ baseUrl: sim.baseUrl, apiKey: 'not-the-key' });
    const failure = lookupTranscribeCall(wrongKey)(randomUUID());
    await expect(failure).rejects.toBeInstanceOf(VoipbinApiError);
    await expect(failure).rejects.toMatchObject({ httpStatus: 401, retryable: false });
  });

  it('fails with a retryable error when VoIPBIN cannot be reached: the webhook gets 503', async () => {
    const port = await freePort();
    const down = new VoipbinClient({ baseUrl: `http://127.0.0.1:${port}/v1.0`, apiKey: KEY });
    const err: unknown = await lookupTranscribeCall(down)(randomUUID()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoipbinNetworkError);
    expect(isRetryable(err)).toBe(true);
  });
});

describe('lookupTranscribeCall on a 403', () => {
  it("answers null for another customer's transcribe (403 PERMISSION_DENIED)", async () => {
    const asked: string[] = [];
    // The simulator has one customer, so VoIPBIN's 403 answer is played here, byte for byte (API-NOTES §8).
    const client = new VoipbinClient({
      baseUrl: 'http://voipbin.invalid/v1.0',
      apiKey: KEY,
      fetch: async (input) => {
        asked.push(new URL(input instanceof Request ? input.url : input).pathname);
        return new Response(
          JSON.stringify({
            error: {
              status: 'PERMISSION_DENIED',
              reason: 'PERMISSION_DENIED',
              message: 'You do not have permission to access this resource.',
              request_id: 'req_01JABCDEF0123456789ABCDEFG',
            },
          }),
          { status: 403, headers: { 'content-type': 'application/json' } },
        );
      },
    });
    expect(await lookupTranscribeCall(client)('tr-of-someone-else')).toBeNull();
    expect(asked).toEqual(['/v1.0/transcribes/tr-of-someone-else']);
  });
});
