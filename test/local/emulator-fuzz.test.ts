import * as http from 'node:http';
import * as fc from 'fast-check';
import { MicrovmEmulator } from '../../src/local';

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00';
const T0 = Date.UTC(2026, 0, 1);

let emulator: MicrovmEmulator;
let imageArn: string;
let vmId: string;

beforeAll(async () => {
  emulator = await MicrovmEmulator.start({ clock: () => T0, rateLimits: false });
  imageArn = emulator.registerImage({ name: 'sandbox' });
  [vmId] = emulator.seedVms(1, { imageArn });
});

afterAll(async () => {
  await emulator.stop();
});

/** A JSON value biased towards the request members the emulator reads. */
const member = fc.oneof(
  fc.constantFrom('imageIdentifier', 'idlePolicy', 'logging', 'runHookPayload', 'maximumDurationInSeconds',
    'ingressNetworkConnectors', 'egressNetworkConnectors', 'clientToken', 'expirationInMinutes', 'allowedPorts', 'port', 'range'),
  fc.string({ maxLength: 12 }),
);
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 40 }), fc.constant(imageArn),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(member, tie('json'), { maxKeys: 5 }),
  ),
})).json;

describe('bad input', () => {
  test('never yields a 5xx and never changes state unless the answer is 2xx', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(
        ['POST', '/2025-09-09/microvms'],
        ['POST', `/2025-09-09/microvms/${vmId}/auth-token`],
        ['POST', `/2025-09-09/microvms/${vmId}/shell-auth-token`],
        ['POST', '/2025-09-09/microvm-images'],
        ['GET', '/2025-09-09/microvms?maxResults=abc&nextToken=%%%'],
      ),
      fc.oneof(value, fc.string({ maxLength: 60 })),
      async ([method, path], body) => {
        // GIVEN
        const before = JSON.stringify([emulator.listVms(), emulator.issuedTokens().length]);

        // WHEN
        const answer = await request(method, path, method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body));

        // THEN
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 300) {
          expect(answer.errorType).toEqual(expect.any(String));
          expect(JSON.stringify([emulator.listVms(), emulator.issuedTokens().length])).toBe(before);
        }
      },
    ), { numRuns: 300, seed: 4242 });
  });
});

function request(method: string, path: string, body: string | undefined) {
  return new Promise<{ status: number; errorType?: string }>((resolve, reject) => {
    const req = http.request(`${emulator.endpoint}${path}`, { method, headers: { authorization: AUTH } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, errorType: res.headers['x-amzn-errortype'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
