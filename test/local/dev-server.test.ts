import * as http from 'node:http';
import { DevServer, startDevServer, toEvent } from '../../src/local/dev-server';

const signed = (accessKeyId: string) =>
  `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`;

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({
    port: 0,
    emulator: { launchDelayMs: 0 },
    environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  });
});

afterAll(async () => {
  await server?.stop();
});

describe('startDevServer', () => {
  test('fails if a request is unsigned (403 like a Function URL with AWS_IAM auth), launching nothing', async () => {
    // WHEN
    const answer = await request(server.url, 'PUT', '/sessions/unsigned');

    // THEN
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ Message: 'Forbidden' });
    expect(server.emulator.callCounts()).toEqual({});
  });

  test('fails if a body is over the Function URL limit (413 with a JSON error), launching nothing', async () => {
    // GIVEN
    server.emulator.resetCallCounts();
    const oversized = JSON.stringify({ payload: 'x'.repeat(6 * 1024 * 1024) });

    // WHEN
    const answer = await request(server.url, 'PUT', '/sessions/big', signed('AKIDALICE'), oversized);

    // THEN: rejected whole, not truncated and handed to the handler.
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).Message).toMatch(/smaller than 6291456 bytes/);
    expect(server.emulator.callCounts()).toEqual({});
  });

  test('serves the real handler: the access key id is the caller, and callers are isolated', async () => {
    // GIVEN
    server.emulator.resetCallCounts();

    // WHEN
    const put = await request(server.url, 'PUT', '/sessions/demo', signed('AKIDALICE'), '{"payload":"hello"}');
    const mine = await request(server.url, 'GET', '/sessions', signed('AKIDALICE'));
    const theirs = await request(server.url, 'GET', '/sessions/demo', signed('AKIDBOB'));

    // THEN
    expect(put.status).toBeLessThan(300);
    const session = JSON.parse(put.body);
    expect(session).toMatchObject({ sessionId: 'demo', microvmId: expect.stringMatching(/^mvm-/) });
    expect(server.emulator.getVm(session.microvmId)?.imageArn).toBe(server.imageArn);
    expect(server.emulator.callCounts().RunMicrovm).toBe(1);
    expect(JSON.parse(mine.body).sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(['demo']);
    expect(theirs.status).toBe(404);
  });
});

describe('toEvent', () => {
  test('builds a payload 2.0 event with the IAM caller from the key id, base64 for binary bodies', () => {
    // GIVEN
    const req = Object.assign(Object.create(http.IncomingMessage.prototype), {
      url: '/sessions/x/token?a=1&a=2',
      method: 'POST',
      httpVersion: '1.1',
      headers: { 'content-type': 'application/octet-stream', 'host': '127.0.0.1:1' },
      socket: { remoteAddress: '127.0.0.1' },
    }) as http.IncomingMessage;

    // WHEN
    const event = toEvent(req, Buffer.from([0xff, 0x00]), 'AKIDCAROL', '111122223333');

    // THEN
    expect(event.requestContext.authorizer.iam.userArn).toBe('arn:aws:iam::111122223333:user/AKIDCAROL');
    expect(event).toMatchObject({
      version: '2.0',
      rawPath: '/sessions/x/token',
      rawQueryString: 'a=1&a=2',
      queryStringParameters: { a: '1,2' },
      isBase64Encoded: true,
      body: Buffer.from([0xff, 0x00]).toString('base64'),
      requestContext: { http: { method: 'POST', path: '/sessions/x/token' } },
    });
  });
});

function request(base: string, method: string, path: string, authorization?: string, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization) headers.authorization = authorization;
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
