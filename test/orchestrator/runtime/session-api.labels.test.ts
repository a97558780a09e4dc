import { body, event, Rig, startRig } from './harness';
import { sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { SessionStore } from '../../../src/orchestrator/runtime/table/session-store';
import { ENV } from '../../../src/shared/contract';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

beforeEach(() => {
  rig.resetCounts();
});

const ERIN = 'arn:aws:iam::111111111111:user/erin';
const FRANK = 'arn:aws:iam::111111111111:user/frank';
const GRACE = 'arn:aws:iam::111111111111:user/grace';
const MALLORY = 'arn:aws:iam::111111111111:user/mallory';

function put(caller: string, id: string, labels?: unknown, overrides?: Record<string, string>) {
  return rig.api(overrides).handle(event('PUT', `/sessions/${id}`, { caller, body: labels === undefined ? {} : { labels } }));
}

async function rowOf(caller: string, id: string): Promise<any> {
  const items = await rig.tableItems();
  return items.find((item: any) => item.owner.S === sha256Hex(caller) && item.sessionId.S === id);
}

/** The session ids of every page of `GET /sessions` with `query`, and each page's size. */
async function list(caller: string, query: Record<string, string>): Promise<{ ids: string[]; sizes: number[] }> {
  const api = rig.api();
  const ids: string[] = [];
  const sizes: number[] = [];
  let nextToken: string | undefined;
  do {
    const res = await api.handle(event('GET', '/sessions', { caller, query: { ...query, ...(nextToken ? { nextToken } : {}) } }));
    expect(res.statusCode).toBe(200);
    const page = body(res);
    ids.push(...page.sessions.map((s: any) => s.sessionId));
    sizes.push(page.sessions.length);
    nextToken = page.nextToken;
  } while (nextToken);
  return { ids, sizes };
}

describe('PUT /sessions/{id} with labels', () => {
  test('stores valid labels and returns them on PUT, GET and the list; a session without labels shows {}', async () => {
    // GIVEN labels at the edges of the rules: an empty value, a 63-character key, a 256-character value with an emoji
    const labels = { 'tenant': 'acme', 'app.kubernetes-io_name': 'web', 'empty': '', ['k'.repeat(63)]: `${'v'.repeat(255)}😀` };

    // WHEN
    const res = await put(ERIN, 'valid-1', labels);
    const plain = await put(ERIN, 'plain-1');

    // THEN
    expect(res.statusCode).toBe(201);
    expect(body(res).labels).toEqual(labels);
    expect(body(plain).labels).toEqual({});
    const get = body(await rig.api().handle(event('GET', '/sessions/valid-1', { caller: ERIN })));
    expect(get.labels).toEqual(labels);
    const listed = body(await rig.api().handle(event('GET', '/sessions', { caller: ERIN }))).sessions;
    expect(Object.fromEntries(listed.map((s: any) => [s.sessionId, s.labels]))).toEqual({ 'valid-1': labels, 'plain-1': {} });
    expect((await rowOf(ERIN, 'valid-1')).labels.M.tenant).toEqual({ S: 'acme' });
    expect((await rowOf(ERIN, 'plain-1')).labels).toBeUndefined();
  });

  test.each([
    ['a string', 'acme', /^labels must be a JSON object/],
    ['an array', ['tenant'], /^labels must be a JSON object/],
    ['null', null, /^labels must be a JSON object/],
    ['11 labels', Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, 'v'])), /at most 10 labels, got 11/],
    ['an empty key', { '': 'v' }, /^label "": the key must be 1 to 63 characters/],
    ['a 64-character key', { ['k'.repeat(64)]: 'v' }, /^label "k{37}\.\.\.": the key must be 1 to 63 characters, got 64/],
    ['an uppercase key', { Tenant: 'acme' }, /^label "Tenant": the key must be lowercase letters/],
    ['a key starting with a dash', { '-tenant': 'acme' }, /^label "-tenant": the key must be lowercase letters/],
    ['a key with a space', { 'my tenant': 'acme' }, /^label "my tenant": the key must be lowercase/],
    ['a key starting with aws:', { 'aws:owner': 'x' }, /^label "aws:owner": keys starting with "aws:" are reserved/],
    ['a key starting with microvm:', { 'microvm:id': 'x' }, /^label "microvm:id": keys starting with "microvm:" are reserved/],
    ['a key starting with AWS:', { 'AWS:owner': 'x' }, /^label "AWS:owner": keys starting with "aws:" are reserved/],
    ['a number value', { tenant: 5 }, /^label "tenant": the value must be a string, got number/],
    ['a null value', { tenant: null }, /^label "tenant": the value must be a string, got object/],
    ['a 257-character value', { tenant: 'v'.repeat(257) }, /^label "tenant": the value must be at most 256 characters, got 257/],
    ['a newline in a value', { tenant: 'a\nb' }, /^label "tenant": the value must not contain control characters/],
    ['a NUL in a value', { tenant: 'a\u0000b' }, /^label "tenant": the value must not contain control characters/],
    ['a DEL in a value', { tenant: 'a\u007fb' }, /^label "tenant": the value must not contain control characters/],
  ])('refuses %s with 400 InvalidLabels, and creates no row and no VM', async (_name, labels, message) => {
    // WHEN
    const res = await put(ERIN, 'invalid-1', labels);

    // THEN
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({ code: 'InvalidLabels', message: expect.stringMatching(message) });
    expect(rig.dynamoCalls).toEqual({});
    expect(rig.emulator.callCounts()).toEqual({});
    expect(await rowOf(ERIN, 'invalid-1')).toBeUndefined();
  });

  test('invalid labels on a running session change nothing', async () => {
    // GIVEN
    const first = body(await put(ERIN, 'invalid-2', { tenant: 'acme' }));
    rig.resetCounts();

    // WHEN
    const res = await put(ERIN, 'invalid-2', { tenant: 'acme', Bad: 'x' });

    // THEN
    expect(res.statusCode).toBe(400);
    expect(rig.emulator.callCounts()).toEqual({});
    const get = body(await rig.api().handle(event('GET', '/sessions/invalid-2', { caller: ERIN })));
    expect([get.microvmId, get.labels]).toEqual([first.microvmId, { tenant: 'acme' }]);
  });

  test.each([
    ['without labels', undefined],
    ['with the same labels in another order', { tier: 'gold', tenant: 'acme' }],
  ])('a warm PUT %s answers 200 with one GetItem and one token call', async (_name, labels) => {
    // GIVEN
    const id = `warm-${labels ? 'same' : 'none'}`;
    const first = body(await put(ERIN, id, { tenant: 'acme', tier: 'gold' }));
    rig.resetCounts();

    // WHEN
    const res = await put(ERIN, id, labels);

    // THEN
    expect(res.statusCode).toBe(200);
    expect(body(res).microvmId).toBe(first.microvmId);
    expect(body(res).labels).toEqual({ tenant: 'acme', tier: 'gold' });
    expect(body(res).token).toBeDefined();
    expect(rig.dynamoCalls).toEqual({ GetItemCommand: 1 });
    expect(rig.emulator.callCounts()).toEqual({ CreateMicrovmAuthToken: 1 });
  });

  test.each([
    ['another value', { tenant: 'other' }],
    ['one label more', { tenant: 'acme', tier: 'gold' }],
    ['no labels ({})', {}],
  ])('a warm PUT with %s answers 409 LabelsConflict and changes nothing', async (_name, labels) => {
    // GIVEN
    const id = `conflict-${Object.keys(labels).length}-${Object.values(labels).join('')}`;
    const first = body(await put(ERIN, id, { tenant: 'acme' }));
    const before = await rowOf(ERIN, id);
    rig.resetCounts();

    // WHEN
    const res = await put(ERIN, id, labels);

    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toEqual({ code: 'LabelsConflict', message: expect.stringMatching(/DELETE the session and PUT it again/) });
    // one GetMicrovm finds the VM still live (an ended one would relaunch with the new labels)
    expect(rig.dynamoCalls).toEqual({ GetItemCommand: 1 });
    expect(rig.emulator.callCounts()).toEqual({ GetMicrovm: 1 });
    expect(await rowOf(ERIN, id)).toEqual(before);
    expect(rig.emulator.getVm(first.microvmId)!.state).not.toBe('TERMINATED');
  });

  test('DELETE and PUT again changes the labels', async () => {
    // GIVEN
    await put(ERIN, 'change-1', { tenant: 'acme' });

    // WHEN
    expect((await rig.api().handle(event('DELETE', '/sessions/change-1', { caller: ERIN }))).statusCode).toBe(204);
    const res = await put(ERIN, 'change-1', { tenant: 'other' });

    // THEN
    expect(res.statusCode).toBe(201);
    expect(body(res).labels).toEqual({ tenant: 'other' });
  });

  test('the relaunch of an ended session takes the new labels; without labels it keeps them; {} removes them', async () => {
    // GIVEN
    const first = body(await put(ERIN, 'relaunch-1', { tenant: 'acme' }));

    // WHEN the VM ends and the session is PUT with other labels
    rig.emulator.terminateExternally(first.microvmId);
    const second = await put(ERIN, 'relaunch-1', { tenant: 'other', tier: 'gold' });

    // THEN a new generation with the new labels
    expect(second.statusCode).toBe(201);
    expect(body(second).microvmId).not.toBe(first.microvmId);
    expect(body(second).labels).toEqual({ tenant: 'other', tier: 'gold' });
    expect((await rowOf(ERIN, 'relaunch-1')).generation.N).toBe('2');

    // WHEN it ends again and is PUT without labels, THEN it keeps them
    rig.emulator.terminateExternally(body(second).microvmId);
    const third = await put(ERIN, 'relaunch-1');
    expect(third.statusCode).toBe(201);
    expect(body(third).labels).toEqual({ tenant: 'other', tier: 'gold' });

    // WHEN it ends again and is PUT with {}, THEN it has none
    rig.emulator.terminateExternally(body(third).microvmId);
    const fourth = await put(ERIN, 'relaunch-1', {});
    expect(fourth.statusCode).toBe(201);
    expect(body(fourth).labels).toEqual({});
    expect((await rowOf(ERIN, 'relaunch-1')).labels).toBeUndefined();
  });

  test('a session past its maximum duration relaunches with the new labels', async () => {
    // GIVEN
    const short = { [ENV.MAX_DURATION_SECONDS]: '60' };
    await put(ERIN, 'expired-1', { tenant: 'acme' }, short);

    // WHEN
    rig.clock.offsetMs += 61_000;
    const res = await put(ERIN, 'expired-1', { tenant: 'other' }, short);
    rig.clock.offsetMs = 0;

    // THEN
    expect(res.statusCode).toBe(201);
    expect(body(res).labels).toEqual({ tenant: 'other' });
  });

  test('labels never change ownership: the same session id of another caller is its own session', async () => {
    // GIVEN
    const erin = body(await put(ERIN, 'owned-1', { tenant: 'acme' }));

    // WHEN
    const mallory = await put(MALLORY, 'owned-1', { tenant: 'acme', owner: 'erin' });

    // THEN
    expect(mallory.statusCode).toBe(201);
    expect(body(mallory).microvmId).not.toBe(erin.microvmId);
    const get = body(await rig.api().handle(event('GET', '/sessions/owned-1', { caller: ERIN })));
    expect([get.microvmId, get.labels]).toEqual([erin.microvmId, { tenant: 'acme' }]);
    expect((await rowOf(MALLORY, 'owned-1')).ownerArn.S).toBe(MALLORY);
  });
});

describe('GET /sessions?label.<key>=<value>&state=<state>', () => {
  beforeAll(async () => {
    // GIVEN frank's sessions (keys sort f1..f5): f5 on image version 1, the others on the default version 2
    const sessions: Array<[string, Record<string, string> | undefined, string?]> = [
      ['f1', { 'tenant': 'acme', 'tier': 'gold', 'app.name': 'web' }],
      ['f2', { tenant: 'acme' }],
      ['f3', { tenant: 'other', tier: 'gold' }],
      ['f4', undefined],
      ['f5', { tenant: 'acme', tier: 'gold' }, '1'],
    ];
    for (const [id, labels, version] of sessions) {
      expect((await put(FRANK, id, labels, version ? { [ENV.IMAGE_VERSION]: version } : undefined)).statusCode).toBe(201);
    }
    // f2's VM was last seen RUNNING
    const store = new SessionStore(rig.documentClient, rig.tableName);
    const f2 = (await store.get(sha256Hex(FRANK), 'f2'))!;
    expect(await store.setVmState(f2, 'RUNNING', new Date().toISOString())).toBe(true);
  });

  test('filters by one label and by two (all must match); a key with dots is one key', async () => {
    expect((await list(FRANK, { 'label.tenant': 'acme' })).ids).toEqual(['f1', 'f2', 'f5']);
    expect((await list(FRANK, { 'label.tenant': 'acme', 'label.tier': 'gold' })).ids).toEqual(['f1', 'f5']);
    expect((await list(FRANK, { 'label.app.name': 'web' })).ids).toEqual(['f1']);
    expect((await list(FRANK, { 'label.tenant': 'nobody' })).ids).toEqual([]);
    expect((await list(FRANK, { 'label.tenant': '' })).ids).toEqual([]);
  });

  test('each listed session carries its labels', async () => {
    const res = body(await rig.api().handle(event('GET', '/sessions', { caller: FRANK, query: { 'label.tier': 'gold' } })));
    expect(res.sessions.map((s: any) => [s.sessionId, s.labels])).toEqual([
      ['f1', { 'tenant': 'acme', 'tier': 'gold', 'app.name': 'web' }],
      ['f3', { tenant: 'other', tier: 'gold' }],
      ['f5', { tenant: 'acme', tier: 'gold' }],
    ]);
  });

  test('filters by state, alone and with labels', async () => {
    expect((await list(FRANK, { state: 'RUNNING' })).ids).toEqual(['f2']);
    expect((await list(FRANK, { state: 'PENDING' })).ids).toEqual(['f1', 'f3', 'f4', 'f5']);
    expect((await list(FRANK, { 'state': 'PENDING', 'label.tenant': 'acme' })).ids).toEqual(['f1', 'f5']);
    expect((await list(FRANK, { 'state': 'RUNNING', 'label.tenant': 'acme' })).ids).toEqual(['f2']);
    expect((await list(FRANK, { state: 'SUSPENDED' })).ids).toEqual([]);
    expect((await list(FRANK, { state: 'TERMINATED' })).ids).toEqual([]);
  });

  test('combines labels with imageVersion', async () => {
    expect((await list(FRANK, { 'label.tier': 'gold', 'imageVersion': '2' })).ids).toEqual(['f1', 'f3']);
    expect((await list(FRANK, { 'label.tier': 'gold', 'imageVersion': '1' })).ids).toEqual(['f5']);
    expect((await list(FRANK, { 'label.tenant': 'acme', 'imageVersion': '1', 'state': 'PENDING' })).ids).toEqual(['f5']);
  });

  test('paginates as without filters: Limit applies before the filter, so a page can be short while nextToken is set', async () => {
    // WHEN read two rows at a time
    const filtered = await list(FRANK, { 'label.tenant': 'acme', 'limit': '2' });
    const unfiltered = await list(FRANK, { limit: '2' });

    // THEN all of them, over the pages the unfiltered list takes
    expect(filtered.ids).toEqual(['f1', 'f2', 'f5']);
    expect(filtered.sizes).toEqual([2, 0, 1]);
    expect(unfiltered.sizes).toEqual([2, 2, 1]);
    expect((await list(FRANK, { 'state': 'PENDING', 'label.tier': 'gold', 'limit': '1' })).ids).toEqual(['f1', 'f3', 'f5']);
  });

  test('label values are data, never expression syntax', async () => {
    expect((await list(FRANK, { 'label.tenant': 'acme OR #status = :active' })).ids).toEqual([]);
    expect((await list(FRANK, { 'label.tenant': ':o' })).ids).toEqual([]);
  });

  test('the state filter matches what each session shows: a RUNNING row past its lifetime is TERMINATED', async () => {
    // GIVEN grace's session, last seen RUNNING, with a 60 s lifetime
    await put(GRACE, 'g1', { tenant: 'acme' }, { [ENV.MAX_DURATION_SECONDS]: '60' });
    const store = new SessionStore(rig.documentClient, rig.tableName);
    await store.setVmState((await store.get(sha256Hex(GRACE), 'g1'))!, 'RUNNING', new Date().toISOString());
    expect((await list(GRACE, { state: 'RUNNING' })).ids).toEqual(['g1']);

    // WHEN its lifetime has passed
    rig.clock.offsetMs += 61_000;
    try {
      // THEN
      expect((await list(GRACE, { state: 'RUNNING' })).ids).toEqual([]);
      expect((await list(GRACE, { 'state': 'TERMINATED', 'label.tenant': 'acme' })).ids).toEqual(['g1']);
    } finally {
      rig.clock.offsetMs = 0;
    }
  });

  test('another caller never sees frank\'s sessions or labels through a filter', async () => {
    expect((await list(MALLORY, { 'label.tenant': 'acme' })).ids).not.toEqual(expect.arrayContaining(['f1']));
    expect((await list(MALLORY, { 'label.tier': 'gold' })).ids).toEqual([]);
    const res = await rig.api().handle(event('GET', '/sessions/f1', { caller: MALLORY }));
    expect(res.statusCode).toBe(404);
  });

  test.each([
    [{ 'label.': 'x' }, /^query parameter "label\.": the key must be 1 to 63 characters/],
    [{ 'label.Tenant': 'acme' }, /^query parameter "label\.Tenant": the key must be lowercase/],
    [{ 'label.aws:owner': 'x' }, /^query parameter "label\.aws:owner": keys starting with "aws:" are reserved/],
    [{ 'label.tenant': 'a\tb' }, /^query parameter "label\.tenant": the value must not contain control characters/],
    [{ 'label.tenant': 'v'.repeat(257) }, /^query parameter "label\.tenant": the value must be at most 256 characters/],
    [Object.fromEntries([...Array(11).keys()].map((i) => [`label.k${i}`, 'v'])), /at most 10 label\.<key> parameters, got 11/],
    [{ state: 'running' }, /^state must be one of PENDING, RUNNING, SUSPENDING, SUSPENDED, TERMINATING, TERMINATED, got "running"/],
    [{ state: 'BOGUS' }, /^state must be one of .*, got "BOGUS"/],
    [{ state: '' }, /^state must be one of .*, got ""/],
    [{ labels: 'tenant' }, /accepts only the query parameters limit, nextToken, imageVersion, state and label\.<key>/],
  ])('a bad filter %p is 400 InvalidQuery naming the parameter', async (query, message) => {
    const res = await rig.api().handle(event('GET', '/sessions', { caller: FRANK, query: query as Record<string, string> }));
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({ code: 'InvalidQuery', message: expect.stringMatching(message) });
    expect(rig.dynamoCalls).toEqual({});
  });
});
