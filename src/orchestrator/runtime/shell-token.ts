import { CreateMicrovmShellAuthTokenCommand, GetMicrovmCommand, LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { ApiError } from './api-error';
import { errorName } from './aws-errors';
import { TOKEN_HEADER } from './requests';
import { isGoneState } from './session-rows';
import type { SessionItem } from './table/schema';
import { DATA_PLANE, SHELL_INGRESS_CONNECTOR } from '../../shared/contract';

/** What the session API needs from itself to mint a shell token. */
export interface ShellTokenDeps {
  readonly microvms: LambdaMicrovmsClient;
  readonly now: () => number;
  /** true when the error means the session's VM is gone. */
  readonly isVmGone: (err: unknown) => Promise<boolean>;
  readonly notRunning: () => ApiError;
}

/** The part of the answer that is about the shell: where to connect, with what, until when. */
export interface ShellTokenBody {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly expiresAt: string;
}

/**
 * Mints a shell token for a running session's VM, after the caller was authorized: 409 `ShellNotEnabled` for a VM
 * launched without `SHELL_INGRESS`, 409 `SessionNotRunning` for one that is gone. Logs nothing (the caller logs
 * who and for how long; the token is never logged).
 */
export async function mintShellToken(deps: ShellTokenDeps, row: SessionItem, minutes: number): Promise<ShellTokenBody> {
  await requireShellIngress(deps, row);
  const issuedAt = deps.now();
  let authToken: Record<string, string> | undefined;
  try {
    authToken = (await deps.microvms.send(new CreateMicrovmShellAuthTokenCommand({
      microvmIdentifier: row.microvmId,
      expirationInMinutes: minutes,
    }))).authToken;
  } catch (err) {
    if (await deps.isVmGone(err)) throw deps.notRunning();
    // the service's answer for a VM launched without SHELL_INGRESS, when GetMicrovm did not list its connectors.
    if (errorName(err) === 'ValidationException') throw shellNotEnabled();
    if (errorName(err) === 'ConflictException') {
      throw ApiError.unavailable('SessionNotReady', 'the MicroVM is changing state; retry after Retry-After seconds', 1);
    }
    throw err;
  }
  const token = authToken?.[TOKEN_HEADER] ?? Object.values(authToken ?? {}).find((v) => typeof v === 'string' && v !== '');
  if (typeof token !== 'string' || token === '') {
    throw ApiError.badGateway('UpstreamError', 'the MicroVM service returned no shell token');
  }
  const host = String(row.endpoint ?? '').replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  return {
    url: `wss://${host}${DATA_PLANE.SHELL_PATH}`,
    port: DATA_PLANE.SHELL_PORT,
    token,
    expiresAt: new Date(issuedAt + minutes * 60_000).toISOString(),
  };
}

/** Throws unless the session's VM exists and was launched with `SHELL_INGRESS` (when the service says which). */
async function requireShellIngress(deps: ShellTokenDeps, row: SessionItem): Promise<void> {
  let vm;
  try {
    vm = await deps.microvms.send(new GetMicrovmCommand({ microvmIdentifier: row.microvmId }));
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') throw deps.notRunning();
    throw err;
  }
  if (isGoneState(vm.state)) throw deps.notRunning();
  const ingress = vm.ingressNetworkConnectors;
  if (Array.isArray(ingress) && !ingress.some((arn) => arn === SHELL_INGRESS_CONNECTOR || arn.endsWith(`:${SHELL_INGRESS_CONNECTOR}`))) {
    throw shellNotEnabled();
  }
}

function shellNotEnabled(): ApiError {
  return ApiError.conflict('ShellNotEnabled', 'the session\'s MicroVM was launched without the SHELL_INGRESS connector (before shell '
    + 'access was configured); DELETE the session and PUT it again to relaunch it with shell access');
}
