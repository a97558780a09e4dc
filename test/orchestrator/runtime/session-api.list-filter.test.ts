import { body, event, Rig, startRig } from './harness';
import { ENV } from '../../../src/shared/contract';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

const DAVE = 'arn:aws:iam::111111111111:user/dave';

/** Every page of `GET /sessions?imageVersion=...` with `limit`, followed through nextToken. */
async function allPages(query: Record<string, string>): Promise<{ ids: string[]; pages: number; sizes: number[] }> {
  const api = rig.api();
  const ids: string[] = [];
  const sizes: number[] = [];
  let nextToken: string | undefined;
  do {
    const res = await api.handle(event('GET', '/sessions', { caller: DAVE, query: { ...query, ...(nextToken ? { nextToken } : {}) } }));
    expect(res.statusCode).toBe(200);
    const page = body(res);
    ids.push(...page.sessions.map((s: any) => s.sessionId));
    sizes.push(page.sessions.length);
    nextToken = page.nextToken;
  } while (nextToken);
  return { ids, pages: sizes.length, sizes };
}

describe('GET /sessions?imageVersion=N', () => {
  beforeAll(async () => {
    // GIVEN dave's sessions a1-a5 on version 1 and b1-b3 on version 2 (keys sort a1..a5, b1..b3)
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) {
      expect((await rig.api({ [ENV.IMAGE_VERSION]: '1' }).handle(event('PUT', `/sessions/${id}`, { caller: DAVE }))).statusCode).toBe(201);
    }
    for (const id of ['b1', 'b2', 'b3']) {
      expect((await rig.api({ [ENV.IMAGE_VERSION]: '2' }).handle(event('PUT', `/sessions/${id}`, { caller: DAVE }))).statusCode).toBe(201);
    }
  });

  test('lists only the sessions on that version, each reporting it', async () => {
    const res = await rig.api().handle(event('GET', '/sessions', { caller: DAVE, query: { imageVersion: '2' } }));
    expect(res.statusCode).toBe(200);
    expect(body(res).sessions.map((s: any) => [s.sessionId, s.imageVersion])).toEqual([['b1', '2'], ['b2', '2'], ['b3', '2']]);
    expect(body(res).nextToken).toBeUndefined();
  });

  test('paginates as without the filter: Limit applies before the filter, so pages can be short or empty with a nextToken', async () => {
    // WHEN version 2's sessions are read 3 rows at a time
    const filtered = await allPages({ imageVersion: '2', limit: '3' });

    // THEN all of them, and only them, over the same pages the unfiltered list takes, the first one empty
    expect(filtered.ids).toEqual(['b1', 'b2', 'b3']);
    expect(filtered.sizes).toEqual([0, 1, 2]);
    expect((await allPages({ limit: '3' })).pages).toBe(filtered.pages);
  });

  test('a version no session runs gives an empty list', async () => {
    expect((await allPages({ imageVersion: '9' })).ids).toEqual([]);
  });

  test.each([
    [''],
    ['abc'],
    ['1,2'],
    ['-1'],
    ['1.'],
    ['1.2.3'],
    [' 1'],
    ['12345678901'],
  ])('fails with 400 naming imageVersion for %p', async (imageVersion) => {
    const res = await rig.api().handle(event('GET', '/sessions', { caller: DAVE, query: { imageVersion } }));
    expect(res.statusCode).toBe(400);
    expect(res.headers!['content-type']).toMatch(/application\/json/);
    expect(body(res).error).toEqual({
      code: 'InvalidImageVersion',
      message: expect.stringMatching(/^imageVersion must be an image version such as 7 or 1\.0/),
    });
  });

  test('accepts a major.minor version', async () => {
    expect((await rig.api().handle(event('GET', '/sessions', { caller: DAVE, query: { imageVersion: '1.0' } }))).statusCode).toBe(200);
  });

  test('an unknown query parameter is still refused, and the message names imageVersion among the accepted ones', async () => {
    const res = await rig.api().handle(event('GET', '/sessions', { caller: DAVE, query: { version: '1' } }));
    expect(res.statusCode).toBe(400);
    expect(body(res).error.message).toBe('GET /sessions accepts only the query parameters limit, nextToken, imageVersion, state and label.<key>');
  });
});
