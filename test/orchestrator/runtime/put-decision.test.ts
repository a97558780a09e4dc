import { decidePut, PutStep } from '../../../src/orchestrator/runtime/put-decision';
import { SessionItem } from '../../../src/orchestrator/runtime/table/schema';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const LATER = new Date(NOW + 60_000).toISOString();
const EARLIER = new Date(NOW - 60_000).toISOString();

function row(overrides: Partial<SessionItem>): SessionItem {
  return {
    owner: 'o',
    sessionId: 's',
    ownerArn: 'arn:aws:iam::111111111111:user/alice',
    generation: 3,
    status: 'ACTIVE',
    microvmId: 'mvm-1',
    vmState: 'RUNNING',
    expiresAt: LATER,
    clientToken: 'token',
    createdAt: EARLIER,
    updatedAt: EARLIER,
    ...overrides,
  };
}

const live = { leaseId: 'lease', leaseExpiresAt: NOW + 1 };
const lapsed = { leaseId: 'lease', leaseExpiresAt: NOW };

describe('decidePut', () => {
  test.each<[string, PutStep, SessionItem | undefined]>([
    ['no row', 'create', undefined],
    ['an ACTIVE row with a running VM', 'mint', row({})],
    ['an ACTIVE row with a suspended VM', 'mint', row({ vmState: 'SUSPENDED' })],
    ['an ACTIVE row without an expiry', 'mint', row({ expiresAt: undefined })],
    ['an ACTIVE row past its expiry', 'relaunch', row({ expiresAt: new Date(NOW).toISOString() })],
    ['an ACTIVE row whose VM is TERMINATED', 'relaunch', row({ vmState: 'TERMINATED' })],
    ['an ACTIVE row whose VM is TERMINATING', 'relaunch', row({ vmState: 'TERMINATING' })],
    ['an ACTIVE row under a live lease (a lease does not block the warm path)', 'mint', row({ ...live })],
    ['a LAUNCHING row under a live lease', 'wait', row({ status: 'LAUNCHING', ...live })],
    ['a LAUNCHING row whose lease ran out', 'takeOver', row({ status: 'LAUNCHING', ...lapsed })],
    ['a LAUNCHING row without a lease (a launch given back)', 'takeOver', row({ status: 'LAUNCHING' })],
    ['an ENDING row under a live lease', 'conflict', row({ status: 'ENDING', ...live })],
    ['an ENDING row whose lease ran out', 'finishDelete', row({ status: 'ENDING', ...lapsed })],
  ])('%s: %s', (_title, step, current) => {
    expect(decidePut(current, NOW)).toBe(step);
  });
});
