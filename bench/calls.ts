// 1. service calls per operation, counted at the emulator (MicroVM operations), by a DynamoDB client middleware
// (table commands) and at the local event bus (PutEvents), through the real SessionApi and Sweeper with lifecycle
// events on, as the construct deploys them by default.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CallCounts, countsOf } from './support';
import { LocalEventBus } from '../src/local';
import { SessionEvents } from '../src/orchestrator/runtime/session-events';
import { CREDENTIALS, event, startRig } from '../test/orchestrator/runtime/harness';
import { fixtureOf, newSweeper } from '../test/orchestrator/runtime/sweeper-fixture';

export interface OperationCalls extends CallCounts {
  /** PutEvents calls (each carries up to 10 lifecycle events). */
  readonly putEvents?: number;
  /** Lifecycle events published. */
  readonly events?: number;
  readonly statusCode?: number;
  /** The budget this operation is held to, in words; none where the issue states none. */
  readonly budget?: string;
  /** Whether the counts meet the budget; absent without a budget. */
  readonly pass?: boolean;
  readonly note?: string;
}

export type CallsResult = Record<string, OperationCalls>;

const TABLE_READ = 'GetItemCommand';

export async function measureCalls(): Promise<CallsResult> {
  const rig = await startRig({ rateLimits: false });
  const bus = await LocalEventBus.start();
  const eventBridge = new EventBridgeClient({ endpoint: bus.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  const publisher = () => SessionEvents.toBus(eventBridge, 'default', 'bench', new Logger({ logLevel: 'SILENT' }),
    new Metrics({ namespace: 'Bench', serviceName: 'bench' }));
  try {
    const api = rig.api({}, { events: publisher() });
    const result: CallsResult = {};
    const measure = async (name: string, run: () => Promise<number | undefined>) => {
      rig.resetCounts();
      bus.clear();
      const statusCode = await run();
      result[name] = { statusCode, ...countsOf(rig), putEvents: bus.putEventsCalls, events: bus.events.length };
      return result[name];
    };
    const status = async (method: string, path: string) => (await api.handle(event(method, path))).statusCode;

    const cold = await measure('coldPut', () => status('PUT', '/sessions/calls-1'));
    const coldOthers = cold.microvmsTotal - (cold.microvms.RunMicrovm ?? 0) - (cold.microvms.CreateMicrovmAuthToken ?? 0);
    result.coldPut = {
      ...cold,
      budget: 'exactly 1 RunMicrovm + 1 CreateMicrovmAuthToken, no other MicroVM call, at most 3 table calls',
      pass: cold.statusCode === 201 && cold.microvms.RunMicrovm === 1 && cold.microvms.CreateMicrovmAuthToken === 1
        && coldOthers === 0 && cold.tableTotal <= 3,
    };

    const warmBudget = (warm: OperationCalls): OperationCalls => ({
      ...warm,
      budget: 'exactly 1 table read (GetItem) + 1 CreateMicrovmAuthToken, nothing else (no PutEvents)',
      pass: warm.statusCode === 200 && warm.tableTotal === 1 && warm.table[TABLE_READ] === 1
        && warm.microvmsTotal === 1 && warm.microvms.CreateMicrovmAuthToken === 1 && warm.putEvents === 0,
    });
    result.warmPut = warmBudget(await measure('warmPut', () => status('PUT', '/sessions/calls-1')));
    // a warm PUT that sends the session's own labels (here none: {}) is compared on the row already read.
    result.warmPutSameLabels = warmBudget(await measure('warmPutSameLabels',
      async () => (await api.handle(event('PUT', '/sessions/calls-1', { body: { labels: {} } }))).statusCode));

    await measure('token', () => status('POST', '/sessions/calls-1/token'));
    await measure('get', () => status('GET', '/sessions/calls-1'));
    await measure('list', () => status('GET', '/sessions'));
    await measure('suspend', () => status('POST', '/sessions/calls-1/suspend'));
    await measure('resume', () => status('POST', '/sessions/calls-1/resume'));
    await measure('delete', () => status('DELETE', '/sessions/calls-1'));

    // a small fleet for the sweep: two live sessions and three VMs of the image that no row owns, past the
    // grace period. The first pass records them as suspects; the second, past the confirmation delay, ends them.
    await status('PUT', '/sessions/calls-2');
    await status('PUT', '/sessions/calls-3');
    rig.emulator.seedVms(3, { imageArn: rig.imageArn, startedAt: rig.emulator.now() - 3_600_000 });
    const fixture = fixtureOf(rig);
    const sweep = () => newSweeper(fixture, { maxSessionDurationSeconds: undefined }, { events: publisher() }).run();
    const vms = rig.emulator.listVms().length;
    const first = await measure('sweepFirstSighting', async () => { await sweep(); return undefined; });
    rig.emulator.advanceTime(120_000);
    const second = await measure('sweepConfirmAndTerminate', async () => { await sweep(); return undefined; });
    const note = `${vms} VMs of the image visible (2 owned, 3 orphans, 1 terminated by the delete); 50 per ListMicrovms page`;
    result.sweepFirstSighting = { ...first, note };
    // the three Orphan Terminated events of one sweep go out in one PutEvents call.
    result.sweepConfirmAndTerminate = { ...second, note };
    return result;
  } finally {
    eventBridge.destroy();
    await bus.stop();
    await rig.stop();
  }
}
