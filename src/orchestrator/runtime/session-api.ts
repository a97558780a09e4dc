import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CreateMicrovmAuthTokenCommand,
  GetMicrovmCommand,
  LambdaMicrovmsClient,
  ResumeMicrovmCommand,
  SuspendMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AdmissionCounter } from './admission-counter';
import { ApiError, toApiError } from './api-error';
import { errorName } from './aws-errors';
import { requestCheckpoint } from './checkpoint-route';
import { deleteCheckpoints } from './checkpoint-saver';
import type { OrchestratorConfig } from './config';
import { errorResponse, jsonBody, jsonResponse, route } from './http';
import { labelsConflict, parseLabels, sameLabels } from './labels';
import { ownerPrincipal } from './owner';
import { decidePut, PutStep } from './put-decision';
import { expirationInMinutes, parseListQuery, parsePayload, parsePorts, parseShellTtlMinutes, parseTtlSeconds, TOKEN_HEADER } from './requests';
import type { Caller, PutRequest, SessionApiProps } from './session-api-props';
import { SessionEvents } from './session-events';
import { ClaimedLaunch, SessionLauncher } from './session-launcher';
import { hasLiveLease, isGoneState, isPastExpiry } from './session-rows';
import { reportEnded, sessionFields } from './session-usage';
import { render, stateOf, TokenBody } from './session-view';
import { mintShellToken } from './shell-token';
import { SessionItem, sha256Hex } from './table/schema';
import { SessionStore } from './table/session-store';
import { SESSION_METRICS } from '../../shared/contract';
import { SESSION_EVENT_TYPES } from '../../shared/session-events';


export type { SessionApiProps } from './session-api-props';

const POLL_INTERVAL_MS = 250;
/** Rounds a PUT may lose to concurrent requests before it answers 503 (waiting for a launch is not a round). */
const PUT_ROUNDS = 10;

/**
 * The session control plane behind the Function URL: routes, ownership, the launch protocol
 * (intent recorded under a lease before RunMicrovm, clientToken derived from owner, session and
 * generation) and token vending. Takes its SDK clients as arguments so tests run it against the
 * local emulator and dynalite.
 */
export class SessionApi {
  private readonly microvms: LambdaMicrovmsClient;
  private readonly store: SessionStore;
  private readonly config: OrchestratorConfig;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly waitPolls: number;
  private readonly launcher: SessionLauncher;
  private readonly events: SessionEvents;

  constructor(private readonly props: SessionApiProps) {
    this.microvms = props.microvms;
    this.store = new SessionStore(props.documentClient, props.config.tableName);
    this.config = props.config;
    this.logger = props.logger;
    this.metrics = props.metrics;
    this.now = props.now ?? Date.now;
    this.leaseMs = props.leaseMilliseconds ?? 30_000;
    this.waitPolls = Math.ceil((props.launchWaitMilliseconds ?? 1500) / POLL_INTERVAL_MS);
    // built once: without maxSessions nothing is counted, and nothing downstream asks again.
    const { maxSessions, tableName } = props.config;
    const admission = props.admission
      ?? (maxSessions === undefined ? AdmissionCounter.disabled() : AdmissionCounter.of(props.documentClient, tableName, maxSessions));
    this.events = props.events ?? SessionEvents.disabled();
    const checkpoints = props.config.checkpoints && props.s3 ? { config: props.config.checkpoints, s3: props.s3 } : undefined;
    this.launcher = new SessionLauncher({
      ...props, store: this.store, admission, now: this.now, leaseMs: this.leaseMs, events: this.events, checkpoints,
    });
  }

  /**
   * Answers one Function URL request; never throws and never returns a stack trace. The lifecycle events the request
   * caused are published once it is done, in one bounded attempt that never changes the answer.
   */
  async handle(event: APIGatewayProxyEventV2WithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> {
    const context: { operation?: string; owner?: string; sessionId?: string } = {};
    let res: APIGatewayProxyStructuredResultV2;
    let errorCode: string | undefined;
    try {
      res = await this.dispatch(event, context);
    } catch (err) {
      const apiError = toApiError(err, {
        upstream: (e) => this.countUpstreamError(e, 'request'),
        quota: () => this.count(SESSION_METRICS.QUOTA_REJECTIONS),
        unexpected: (e) => this.logger.error('unexpected error', { error: errorName(e) }),
      });
      errorCode = apiError.code;
      res = errorResponse(apiError);
    }
    await this.events.flush();
    // ids and outcome only: the path of a rejected request is caller input and is not logged.
    this.logger.info('request handled', { ...context, statusCode: res.statusCode, errorCode });
    return res;
  }

  private async dispatch(event: APIGatewayProxyEventV2WithIAMAuthorizer, context: { operation?: string; owner?: string; sessionId?: string }) {
    const callerArn = event?.requestContext?.authorizer?.iam?.userArn;
    if (typeof callerArn !== 'string' || callerArn === '') {
      throw new ApiError(403, 'Forbidden', 'the request carries no IAM identity; sign it with SigV4 (the Function URL uses AWS_IAM auth)');
    }
    // a role's sessions belong to the role, not to one of its role sessions (unless the ROLE_SESSION mode says so).
    const ownerArn = ownerPrincipal(callerArn, this.config.ownerKey);
    const caller: Caller = { owner: sha256Hex(ownerArn), ownerArn };
    context.owner = caller.owner;
    const method = String(event.requestContext?.http?.method ?? '').toUpperCase();
    const path = String(event.rawPath ?? event.requestContext?.http?.path ?? '');
    const r = route(method, path, this.config.shellAllowedPrincipals !== undefined, this.config.checkpoints !== undefined);
    const id = r.sessionId as string;
    context.operation = r.operation;
    context.sessionId = r.sessionId;
    switch (r.operation) {
      case 'list': return this.list(caller, event);
      case 'put': return this.put(caller, id, event);
      case 'get': return this.describe(caller, id);
      case 'delete': return this.remove(caller, id);
      case 'token': return this.token(caller, id, event);
      case 'shellToken': return this.shellToken(caller, callerArn, id, event);
      case 'suspend': return this.suspendOrResume(caller, id, event, 'suspend');
      case 'resume': return this.suspendOrResume(caller, id, event, 'resume');
      case 'checkpoint':
        jsonBody(event, []);
        await requestCheckpoint(this.requireRunning(await this.store.get(caller.owner, id)), this.props.checkpointWorker, this.now());
        return jsonResponse(202, { sessionId: id, checkpoint: { saving: true } });
    }
  }

  // ---- routes ----

  /**
   * Creates, relaunches or takes over the session until it has a VM, then answers with a token. Each round reads the
   * row and does what {@link decidePut} says; a round lost to a concurrent request re-reads. Waiting for another
   * request's launch has its own budget (polls), so it never uses up the rounds.
   */
  private async put(caller: Caller, id: string, event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    const body = jsonBody(event, ['payload', 'ports', 'labels']);
    const { ports, payload, labels } = body;
    const req: PutRequest = { caller, id, ports: parsePorts(ports, this.config), payload: parsePayload(payload), labels: parseLabels(labels) };
    let polls = 0;
    for (let round = 0; round < PUT_ROUNDS;) {
      const row = await this.store.get(caller.owner, id);
      const step = decidePut(row, this.now());
      if (step === 'wait') {
        if (polls >= this.waitPolls) {
          throw ApiError.unavailable('LaunchInProgress', 'the session is launching in another request; retry after Retry-After seconds', 1);
        }
        polls++;
        await sleep(POLL_INTERVAL_MS);
        continue;
      }
      const answer = row ? await this.putStep(step, row, req) : await this.create(req);
      if (answer) return answer;
      round++;
    }
    throw ApiError.unavailable('SessionContended', 'the session changed too often while this request ran; retry', 1);
  }

  /** One round of PUT on an existing row; undefined when another request changed the row first. */
  private async putStep(step: PutStep, row: SessionItem, req: PutRequest): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
    switch (step) {
      case 'mint':
        // labels are fixed for a generation: checked on the row just read, so the warm path reads nothing more. Other
        // labels cost one GetMicrovm: a VM that ended (the row may not know yet) relaunches with them, a live one is 409.
        if (req.labels && !sameLabels(req.labels, row.labels ?? {})) {
          if (!await this.launcher.vmEnded(row)) throw labelsConflict();
          return this.putStep('relaunch', row, req);
        }
        // no live token: the VM is gone, so this same round relaunches it.
        return await this.liveToken(row, req.ports) ?? this.putStep('relaunch', row, req);
      case 'relaunch':
        return this.launchClaimed(await this.launcher.claim(row, this.launcher.nextLaunch(row, row.generation + 1, req.labels)), req);
      case 'takeOver': {
        const next = { ...this.launcher.nextLaunch(row, row.generation, req.labels), clientToken: row.clientToken };
        return this.launchClaimed(await this.launcher.claim(row, next), req, row.microvmId);
      }
      case 'finishDelete':
        return this.launchClaimed(await this.launcher.claim(row, this.launcher.nextLaunch(row, row.generation + 1, req.labels)), req, row.microvmId);
      case 'conflict':
        throw ApiError.conflict('SessionEnding', 'the session is being deleted; retry the PUT once the DELETE finished');
      default:
        throw new Error(`PUT step ${step} needs no row`);
    }
  }

  /** Admits and creates the session, then launches it; undefined when a concurrent PUT created it first. */
  private async create(req: PutRequest) {
    const created = await this.launcher.createRow(req.caller, req.id, req.labels);
    return created && this.launched(await this.launcher.launch(created, req.payload, 'created'), req.ports);
  }

  /**
   * Launches a claimed row, after ending `previousVmId` (the VM a takeover or an abandoned delete left behind), and
   * answers 201; undefined when the claim was lost.
   */
  private async launchClaimed(claimed: ClaimedLaunch | undefined, req: PutRequest, previousVmId?: string) {
    if (!claimed) return undefined;
    await this.launcher.endPrevious(claimed, previousVmId);
    return this.launched(await this.launcher.launch(claimed.row, req.payload, claimed.claim), req.ports);
  }

  private async describe(caller: Caller, id: string) {
    const row = await this.store.get(caller.owner, id);
    if (!row) throw ApiError.notFound();
    let state = stateOf(row, this.now());
    if (row.status === 'ACTIVE' && row.microvmId && !isGoneState(state)) {
      try {
        const vm = await this.microvms.send(new GetMicrovmCommand({ microvmIdentifier: row.microvmId }));
        state = vm.state ?? state;
      } catch (err) {
        if (errorName(err) === 'ResourceNotFoundException') {
          state = 'TERMINATED';
        } else {
          // describe degrades to the last seen state rather than failing on a read.
          this.countUpstreamError(err, 'GetMicrovm');
        }
      }
    }
    return jsonResponse(200, render(row, state, this.now()));
  }

  private async list(caller: Caller, event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    const { limit, nextToken, ...filter } = parseListQuery(event.queryStringParameters ?? {});
    const page = await this.store.listByOwner(caller.owner, limit, nextToken, filter);
    // the store's state filter keeps every row that may show the state; what each row shows now decides.
    const shown = page.items.map((row) => ({ row, state: stateOf(row, this.now()) })).filter((s) => !filter.state || s.state === filter.state);
    const sessions = shown.map((s) => render(s.row, s.state, this.now()));
    return jsonResponse(200, page.nextToken ? { sessions, nextToken: page.nextToken } : { sessions });
  }

  private async token(caller: Caller, id: string, event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    const body = jsonBody(event, ['ports', 'ttlSeconds']);
    const ports = parsePorts(body.ports, this.config);
    const ttl = parseTtlSeconds(body.ttlSeconds, this.config);
    const row = this.requireRunning(await this.store.get(caller.owner, id));
    try {
      return jsonResponse(200, { token: await this.mint(row, ports, ttl) });
    } catch (err) {
      if (await this.isVmGone(row, err)) throw this.notRunning();
      throw err;
    }
  }

  /**
   * A shell token for the session's MicroVM. Only a caller whose principal (a role for any of its role sessions) is
   * in the allow list (else 403, before anything is read), and only for its own session: the row is read under the
   * caller's owner key like every route, so another caller's session is not found (404). A VM launched without
   * `SHELL_INGRESS` (before shell access was configured) answers 409 `ShellNotEnabled`. The log records who, which
   * session and VM, and the lifetime; never the token.
   */
  private async shellToken(caller: Caller, callerArn: string, id: string, event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    const principal = ownerPrincipal(callerArn, 'PRINCIPAL');
    if (!this.config.shellAllowedPrincipals?.has(principal)) {
      this.logger.warn('shell token refused', { caller: callerArn, principal, owner: caller.owner, sessionId: id, reason: 'principal not allowed' });
      throw new ApiError(403, 'ShellAccessDenied',
        'the caller\'s IAM principal is not allowed shell access on this orchestrator; the operator lists the roles and users that are');
    }
    const minutes = parseShellTtlMinutes(jsonBody(event, ['ttlSeconds']).ttlSeconds);
    const row = this.requireRunning(await this.store.get(caller.owner, id));
    const shell = await mintShellToken({
      microvms: this.microvms,
      now: this.now,
      isVmGone: (err) => this.isVmGone(row, err),
      notRunning: () => this.notRunning(),
    }, row, minutes);
    this.count(SESSION_METRICS.SHELL_TOKENS_MINTED);
    this.logger.info('shell token minted', {
      caller: callerArn, principal, owner: row.owner, sessionId: row.sessionId, microvmId: row.microvmId, expirationInMinutes: minutes,
    });
    this.events.emit(SESSION_EVENT_TYPES.SHELL_ACCESS_GRANTED, {
      ...sessionFields(row), time: this.isoNow(), callerArn, expirationInMinutes: minutes,
    });
    return jsonResponse(200, { sessionId: row.sessionId, microvmId: row.microvmId, ...shell });
  }

  private async suspendOrResume(caller: Caller, id: string, event: APIGatewayProxyEventV2WithIAMAuthorizer, action: 'suspend' | 'resume') {
    jsonBody(event, []);
    const row = this.requireRunning(await this.store.get(caller.owner, id));
    const microvmIdentifier = row.microvmId as string;
    try {
      await this.microvms.send(action === 'suspend'
        ? new SuspendMicrovmCommand({ microvmIdentifier })
        : new ResumeMicrovmCommand({ microvmIdentifier }));
    } catch (err) {
      if (errorName(err) === 'ConflictException') {
        if (await this.isVmGone(row, err)) throw this.notRunning();
        throw ApiError.conflict('InvalidSessionState', `the MicroVM cannot ${action} in its current state`);
      }
      if (errorName(err) === 'ResourceNotFoundException') throw this.notRunning();
      throw err;
    }
    const vmState = action === 'suspend' ? 'SUSPENDING' : 'RUNNING';
    await this.store.setVmState(row, vmState, this.isoNow(), action === 'suspend' ? 'begins' : 'ends');
    this.events.emit(action === 'suspend' ? SESSION_EVENT_TYPES.SUSPENDED : SESSION_EVENT_TYPES.RESUMED, { ...sessionFields(row), time: this.isoNow() });
    if (action === 'resume') this.count(SESSION_METRICS.SESSIONS_RESUMED);
    this.logger.info(`session ${action} requested`, { owner: row.owner, sessionId: row.sessionId, microvmId: row.microvmId });
    return jsonResponse(202, render(row, vmState, this.now()));
  }

  private async remove(caller: Caller, id: string) {
    for (let round = 0; round < 5; round++) {
      const row = await this.store.get(caller.owner, id);
      if (!row) return jsonResponse(204, undefined);
      if (row.status !== 'ACTIVE' && hasLiveLease(row, this.now())) {
        throw ApiError.unavailable(row.status === 'ENDING' ? 'SessionEnding' : 'LaunchInProgress',
          'another request is changing this session; retry after Retry-After seconds', 1);
      }
      const ending = await this.store.beginEnding(row, randomUUID(), this.now() + this.leaseMs, this.isoNow());
      if (!ending) continue;
      // a LAUNCHING row abandoned before RunMicrovm answered has no microvmId: if its VM exists,
      // no row owns it any more and the sweeper terminates it.
      await this.launcher.terminateOrRelease(ending, ending.microvmId);
      if (await this.launcher.deleteRow(ending)) {
        // a VM already seen TERMINATED had its end reported when it was seen;
        // a launch row's microvmId is the previous generation's VM, whose end its claim reported.
        if (ending.microvmId && ending.vmState !== 'TERMINATED' && row.status !== 'LAUNCHING') {
          reportEnded(this.events, this.metrics, this.config.events, ending, 'deleted', this.now());
        }
        this.count(SESSION_METRICS.SESSIONS_ENDED);
        // its checkpoints go with it (the bucket's lifecycle expiry removes any this misses).
        const checkpoints = this.config.checkpoints;
        if (checkpoints && this.props.s3) {
          await deleteCheckpoints(this.props.s3, checkpoints.bucket, ending).catch((e) => this.countUpstreamError(e, 'DeleteCheckpoints'));
        }
        this.logger.info('session deleted', { owner: row.owner, sessionId: id, microvmId: ending.microvmId, generation: ending.generation });
        return jsonResponse(204, undefined);
      }
    }
    throw ApiError.unavailable('SessionContended', 'the session changed too often while this request ran; retry', 1);
  }

  /** The answer to a PUT that launched (or adopted) the session's VM: 201 with a fresh token. */
  private async launched(row: SessionItem, ports: number[]) {
    const token = await this.mint(row, ports, this.config.tokenTtlSeconds);
    return jsonResponse(201, render(row, stateOf(row, this.now()), this.now(), token));
  }

  // ---- tokens and state ----

  /** Warm path: one token call (plus a resume when we suspended it and nothing resumes it on traffic). */
  private async liveToken(row: SessionItem, ports: number[]) {
    try {
      if ((row.vmState === 'SUSPENDED' || row.vmState === 'SUSPENDING') && !this.config.idlePolicy?.autoResumeEnabled) {
        row = await this.resume(row);
      }
      const token = await this.mint(row, ports, this.config.tokenTtlSeconds);
      return jsonResponse(200, render(row, stateOf(row, this.now()), this.now(), token));
    } catch (err) {
      if (await this.isVmGone(row, err)) {
        this.logger.info('session VM is gone, relaunching', { owner: row.owner, sessionId: row.sessionId, microvmId: row.microvmId });
        return undefined;
      }
      if (errorName(err) === 'ConflictException') {
        throw ApiError.unavailable('SessionNotReady', 'the MicroVM is changing state; retry after Retry-After seconds', 1);
      }
      throw err;
    }
  }

  /** Resumes a VM we suspended; a Conflict means it is not SUSPENDED, so its real state decides. */
  private async resume(row: SessionItem): Promise<SessionItem> {
    let vmState = 'RUNNING';
    try {
      await this.microvms.send(new ResumeMicrovmCommand({ microvmIdentifier: row.microvmId }));
      this.count(SESSION_METRICS.SESSIONS_RESUMED);
      this.events.emit(SESSION_EVENT_TYPES.RESUMED, { ...sessionFields(row), time: this.isoNow() });
    } catch (err) {
      if (errorName(err) !== 'ConflictException') throw err;
      const vm = await this.microvms.send(new GetMicrovmCommand({ microvmIdentifier: row.microvmId }));
      if (isGoneState(vm.state)) throw err;
      if (vm.state !== 'RUNNING' && vm.state !== 'PENDING') {
        throw ApiError.unavailable('SessionNotReady', 'the MicroVM is changing state; retry after Retry-After seconds', 1);
      }
      vmState = vm.state;
    }
    await this.store.setVmState(row, vmState, this.isoNow(), 'ends');
    return { ...row, vmState };
  }

  private async mint(row: SessionItem, ports: number[], ttlSeconds: number): Promise<TokenBody> {
    const minutes = expirationInMinutes(ttlSeconds, this.config);
    const issuedAt = this.now();
    const out = await this.microvms.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: row.microvmId,
      expirationInMinutes: minutes,
      allowedPorts: ports.map((port) => ({ port })),
    }));
    const value = out.authToken?.[TOKEN_HEADER];
    if (typeof value !== 'string' || value === '') {
      throw ApiError.badGateway('UpstreamError', `the MicroVM service returned no ${TOKEN_HEADER} token`);
    }
    this.count(SESSION_METRICS.TOKENS_MINTED);
    this.logger.info('token minted', { owner: row.owner, sessionId: row.sessionId, microvmId: row.microvmId, ports, expirationInMinutes: minutes });
    return { headerName: TOKEN_HEADER, value, expiresAt: new Date(issuedAt + minutes * 60_000).toISOString(), ports };
  }

  /** True when `err` means the VM no longer exists (ResourceNotFound, or a Conflict on a TERMINATED VM). */
  private async isVmGone(row: SessionItem, err: unknown): Promise<boolean> {
    const name = errorName(err);
    if (name === 'ResourceNotFoundException') return true;
    if (name !== 'ConflictException' || !row.microvmId) return false;
    try {
      const vm = await this.microvms.send(new GetMicrovmCommand({ microvmIdentifier: row.microvmId }));
      return isGoneState(vm.state);
    } catch (getErr) {
      return errorName(getErr) === 'ResourceNotFoundException';
    }
  }

  private requireRunning(row: SessionItem | undefined): SessionItem {
    if (!row) throw ApiError.notFound();
    if (row.status === 'ENDING') throw ApiError.conflict('SessionEnding', 'the session is being deleted');
    if (row.status === 'LAUNCHING') {
      if (hasLiveLease(row, this.now())) throw ApiError.unavailable('LaunchInProgress', 'the session is launching; retry after Retry-After seconds', 1);
      throw this.notRunning();
    }
    if (isPastExpiry(row, this.now())) throw ApiError.conflict('SessionExpired', 'the session reached its maximum duration; PUT the session to relaunch it');
    return row;
  }

  private notRunning(): ApiError {
    return ApiError.conflict('SessionNotRunning', 'the session has no running MicroVM; PUT the session to relaunch it');
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  // ---- errors and metrics ----

  private countUpstreamError(err: unknown, operation: string): void {
    this.count(SESSION_METRICS.UPSTREAM_ERRORS);
    const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    this.logger.warn('upstream error', { operation, error: errorName(err), httpStatusCode: status });
  }

  private count(name: string): void {
    this.metrics.addMetric(name, MetricUnit.Count, 1);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
