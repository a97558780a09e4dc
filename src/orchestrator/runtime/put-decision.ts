import { hasLiveLease, isGoneState, isPastExpiry } from './session-rows';
import type { SessionItem } from './table/schema';

/**
 * What one round of `PUT /sessions/{id}` does with the row it just read:
 *
 * - `create`: no row yet; admit the session and create it under a lease.
 * - `mint`: an ACTIVE row whose VM may still serve: vend a token (the warm path). If the VM turns out to be gone,
 *   the same round relaunches it.
 * - `relaunch`: an ACTIVE row past its lifetime or whose VM is gone: the next generation gets a new clientToken,
 *   hence a new VM.
 * - `takeOver`: a LAUNCHING row whose lease ran out (its launcher crashed or gave up): same generation and
 *   clientToken, so a VM the crashed launcher created is returned instead of a second one. A microvmId on a
 *   LAUNCHING row is the previous generation's VM (set only together with ACTIVE): it is ended first, since an
 *   interrupted delete or relaunch may have left it running.
 * - `finishDelete`: an ENDING row whose lease ran out (an abandoned delete): end the old VM, then relaunch as the
 *   next generation.
 * - `wait`: another request holds the launch lease: poll until it finishes (or answer 503).
 * - `conflict`: another request is deleting the session: 409.
 */
export type PutStep = 'create' | 'mint' | 'relaunch' | 'takeOver' | 'finishDelete' | 'wait' | 'conflict';

/** The {@link PutStep} for `row` (undefined: no such session) at `now` (epoch ms). Pure. */
export function decidePut(row: SessionItem | undefined, now: number): PutStep {
  if (!row) return 'create';
  if (row.status === 'ACTIVE') {
    return isPastExpiry(row, now) || isGoneState(row.vmState) ? 'relaunch' : 'mint';
  }
  if (hasLiveLease(row, now)) return row.status === 'ENDING' ? 'conflict' : 'wait';
  return row.status === 'LAUNCHING' ? 'takeOver' : 'finishDelete';
}
