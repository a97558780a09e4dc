import * as fc from 'fast-check';
import { body, event, Rig, startRig } from './harness';
import type { SessionApi } from '../../../src/orchestrator/runtime/session-api';

let rig: Rig;
let api: SessionApi;

const VALID_ROUTE = /^\/sessions(\/[A-Za-z0-9._-]{1,128}(\/(token|suspend|resume))?)?$/;
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', ''];
const MUTATING = ['RunMicrovm', 'TerminateMicrovm', 'SuspendMicrovm', 'ResumeMicrovm', 'CreateMicrovmAuthToken'];

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
  api = rig.api();
  expect((await api.handle(event('PUT', '/sessions/fuzz-live'))).statusCode).toBe(201);
});

afterAll(async () => {
  await rig.stop();
});

/** Table rows and VMs, to prove that rejected requests changed nothing. */
async function state(): Promise<string> {
  const rows = (await rig.tableItems()).sort((a: any, b: any) => `${a.owner.S}/${a.sessionId.S}`.localeCompare(`${b.owner.S}/${b.sessionId.S}`));
  const vms = rig.emulator.listVms().map((vm) => ({ id: vm.microvmId, state: vm.state }));
  return JSON.stringify({ rows, vms });
}

/** Runs a property over many bad requests: each is a 4xx with the error shape, and nothing changes. */
async function expectRejectedWithoutEffect(requests: fc.Arbitrary<Parameters<typeof event>>, runs = 150): Promise<void> {
  const before = await state();
  rig.resetCounts();
  const seen = new Set<number>();
  await fc.assert(fc.asyncProperty(requests, async (args) => {
    const res = await api.handle(event(...args));
    seen.add(res.statusCode as number);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(body(res)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(res.body).not.toMatch(/\n\s+at |Error:/);
  }), { numRuns: runs, seed: 7 });
  expect(await state()).toBe(before);
  const calls = rig.emulator.callCounts() as Record<string, number>;
  expect(MUTATING.filter((op) => calls[op])).toEqual([]);
  expect(seen.size).toBeGreaterThan(0);
}

function isValidPorts(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && new Set(value).size === value.length && value.every((p) => p === 8080 || p === 8443);
}

describe('bad input never yields a 500 and never changes state', () => {
  test('fuzzed paths and methods', async () => {
    const path = fc.oneof(
      fc.string({ maxLength: 60 }).map((s) => `/${s}`),
      fc.webPath(),
      fc.string({ maxLength: 40 }).map((s) => `/sessions/${s}`),
      fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `/sessions/${a}/${b}`),
    ).filter((p) => !VALID_ROUTE.test(p));
    await expectRejectedWithoutEffect(fc.tuple(fc.constantFrom(...METHODS), path).map(([method, p]) => [method, p, {}]));
  });

  test('fuzzed session ids', async () => {
    const id = fc.string({ minLength: 1, maxLength: 200, unit: 'binary' })
      .filter((s) => !s.includes('/') && !/^[A-Za-z0-9._-]{1,128}$/.test(s));
    await expectRejectedWithoutEffect(fc.tuple(fc.constantFrom('PUT', 'GET', 'DELETE'), id).map(([method, s]) => [method, `/sessions/${s}`, {}]));
  });

  test('fuzzed bodies', async () => {
    const notAnObject = fc.string({ maxLength: 80 }).filter((s) => {
      if (s.trim() === '') return false;
      try {
        const v = JSON.parse(s);
        return typeof v !== 'object' || v === null || Array.isArray(v);
      } catch {
        return true;
      }
    });
    const unknownField = fc.dictionary(fc.string({ maxLength: 12 }).filter((k) => !['payload', 'ports', 'ttlSeconds'].includes(k)), fc.jsonValue(), { minKeys: 1, maxKeys: 3 })
      .map((o) => JSON.stringify(o));
    const badPayload = fc.oneof(
      fc.jsonValue().filter((v) => typeof v !== 'string'),
      fc.string({ minLength: 1100, maxLength: 1400, unit: 'grapheme' }).filter((s) => Buffer.byteLength(s) > 4096),
    ).map((payload) => JSON.stringify({ payload }));
    const rawBody = fc.oneof(notAnObject, unknownField, badPayload);
    const route = fc.constantFrom<[string, string]>(['PUT', '/sessions/fuzz-new'], ['PUT', '/sessions/fuzz-live'], ['POST', '/sessions/fuzz-live/token']);
    await expectRejectedWithoutEffect(fc.tuple(route, rawBody, fc.boolean()).map(([[method, path], raw, b64]) => [
      method, path, { rawBody: b64 ? Buffer.from(raw).toString('base64') : raw, isBase64Encoded: b64 },
    ]));
  });

  test('fuzzed ports and TTLs', async () => {
    const ports = fc.jsonValue().filter((v) => !isValidPorts(v) && v !== undefined);
    const ttl = fc.jsonValue().filter((v) => !(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 300));
    const requests = fc.oneof(
      ports.map((p): Parameters<typeof event> => ['PUT', '/sessions/fuzz-live', { body: { ports: p } }]),
      ports.map((p): Parameters<typeof event> => ['PUT', '/sessions/fuzz-new', { body: { ports: p } }]),
      ports.map((p): Parameters<typeof event> => ['POST', '/sessions/fuzz-live/token', { body: { ports: p } }]),
      ttl.map((t): Parameters<typeof event> => ['POST', '/sessions/fuzz-live/token', { body: { ttlSeconds: t } }]),
      fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((t) => t < 1 || t > 300)
        .map((t): Parameters<typeof event> => ['POST', '/sessions/fuzz-live/token', { body: { ttlSeconds: t } }]),
    );
    await expectRejectedWithoutEffect(requests, 200);
  });

  test('fuzzed list queries', async () => {
    const limit = fc.string({ maxLength: 6 }).filter((s) => !/^\d{1,3}$/.test(s) || Number(s) < 1 || Number(s) > 100);
    const token = fc.string({ minLength: 1, maxLength: 200 });
    const requests = fc.oneof(
      limit.map((l): Parameters<typeof event> => ['GET', '/sessions', { query: { limit: l } }]),
      token.map((t): Parameters<typeof event> => ['GET', '/sessions', { query: { nextToken: t } }]),
      fc.base64String({ minLength: 4, maxLength: 80 }).map((t): Parameters<typeof event> => ['GET', '/sessions', { query: { nextToken: t.replace(/=+$/, '') || 'AAAA' } }]),
    );
    await expectRejectedWithoutEffect(requests);
  });
});
