import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMicrovmImageVersionCommand,
  GetMicrovmImageCommand,
  LambdaMicrovmsClient,
  ListMicrovmImageVersionsCommand,
} from '@aws-sdk/client-lambda-microvms';
import { errorMessage, errorName } from './aws-errors';
import { UNKNOWN_VERSION, type MutableReport } from './sweep-report';
import { Clock, DEFAULT_BACKOFF, monotonicClock, RateLimiter, realSleep, RetryContext, Sleep, withRetries, type BackoffOptions } from './sweeper-pacing';
import { IMAGE_VERSION_PATTERN, LIMITS } from '../../shared/contract';

export interface VersionPruningConfig {
  /** The image whose versions are pruned. */
  readonly imageArn: string;
  /** How many of the newest versions (by number) are always kept; at least 1. */
  readonly keepVersions: number;
  /** The version the orchestrator launches (smoke-tested or pinned); never deleted. Empty or absent: none. */
  readonly launchVersion?: string;
  /** DeleteMicrovmImageVersion calls per run; the rest wait for the next run. Default 10. */
  readonly maxDeletions?: number;
  /** Image API calls (list, get, delete) per second (the service publishes no limit). Default 2. */
  readonly callsPerSecond?: number;
  /** The image's versions quota (adjustable in Service Quotas). Default `LIMITS.VERSIONS_PER_IMAGE`. */
  readonly versionsQuota?: number;
}

export interface VersionPrunerOptions {
  readonly microvms: LambdaMicrovmsClient;
  readonly config: VersionPruningConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly backoff?: BackoffOptions;
}

/** What one pruning run did. */
export interface PruneResult {
  /** Versions of the image, not counting deleted ones, before this run. */
  readonly versions: number;
  /** Versions this run deleted (oldest first). */
  readonly deleted: string[];
  /** Versions that may be deleted but were left for the next run (deletion budget or deadline). */
  readonly deferred: number;
  /** Versions the service refused to delete (ConflictException): tried again next run. */
  readonly conflicts: string[];
  /** True when the versions left after every allowed deletion are within the margin of the quota. */
  readonly quotaNear: boolean;
  /** Why the run did not prune at all, if it did not. */
  readonly skipped?: 'deadline' | 'error';
  readonly errors: number;
}

/** Why a version is never deleted. */
type Protection = 'newest' | 'launched' | 'latestActive' | 'live' | 'building' | 'unordered';

const DEFAULT_MAX_DELETIONS = 10;
const BUILDING = new Set(['PENDING', 'IN_PROGRESS']);
const GONE = new Set(['DELETING', 'DELETED']);

/**
 * Deletes an image's old versions before the versions quota stops the next build. It keeps the newest
 * `keepVersions` by number, the version the orchestrator launches, the image's latest ACTIVE version, every
 * version a live MicroVM runs (the caller's complete ListMicrovms pass) and every version still building; the
 * rest go oldest first, a bounded number per run, paced, retried, within the caller's deadline.
 */
export class VersionPruner {
  private readonly limiter: RateLimiter;
  private readonly sleep: Sleep;

  constructor(private readonly options: VersionPrunerOptions) {
    if (!Number.isInteger(options.config.keepVersions) || options.config.keepVersions < 1) {
      throw new Error(`keepVersions must be a whole number of at least 1, got ${options.config.keepVersions}`);
    }
    const clock = options.clock ?? monotonicClock;
    this.sleep = options.sleep ?? realSleep;
    this.limiter = new RateLimiter(options.config.callsPerSecond ?? 2, clock, this.sleep);
  }

  /**
   * One run. `liveVersions` must come from a complete list of the image's MicroVMs: a version missing from it may be
   * deleted. Never throws: failures are counted, logged and retried by the next run.
   */
  public async run(liveVersions: ReadonlySet<string>, remainingMs: () => number = () => Number.POSITIVE_INFINITY): Promise<PruneResult> {
    const { logger, config } = this.options;
    const retry: RetryContext = { backoff: this.options.backoff ?? DEFAULT_BACKOFF, sleep: this.sleep, remainingMs };
    const result = { versions: 0, deleted: [] as string[], deferred: 0, conflicts: [] as string[], quotaNear: false, errors: 0 };
    let listed: Array<{ version: string; state?: string }>;
    let latestActive: string | undefined;
    try {
      const page = await this.listVersions(retry, remainingMs);
      if (!page) return { ...result, skipped: 'deadline' };
      listed = page;
      const get = new GetMicrovmImageCommand({ imageIdentifier: config.imageArn });
      const image = await withRetries(retry, () => this.options.microvms.send(get), this.limiter);
      latestActive = image.latestActiveImageVersion ?? undefined;
    } catch (err) {
      logger.warn('version pruning skipped: could not read the image versions', { imageArn: config.imageArn, error: errorName(err), message: errorMessage(err) });
      return { ...result, errors: 1, skipped: 'error' };
    }

    const plan = planPruning(listed, { ...config, latestActive, liveVersions });
    result.versions = plan.versions;
    const budget = config.maxDeletions ?? DEFAULT_MAX_DELETIONS;
    let calls = 0;
    for (const version of plan.deletable) {
      if (calls >= budget || remainingMs() <= 0) {
        result.deferred++;
        continue;
      }
      calls++;
      const outcome = await this.delete(version, retry);
      if (outcome === 'deleted') {
        result.deleted.push(version);
        logger.info('deleted image version', { imageArn: config.imageArn, imageVersion: version });
      } else if (outcome === 'conflict') {
        result.conflicts.push(version);
      } else if (outcome === 'error') {
        result.errors++;
        // a failure that outlived the retries (throttling, 5xx) will not clear within this run.
        result.deferred += plan.deletable.length - plan.deletable.indexOf(version) - 1;
        break;
      }
    }

    const quota = config.versionsQuota ?? LIMITS.VERSIONS_PER_IMAGE;
    const left = plan.versions - plan.deletable.length;
    result.quotaNear = left >= quota - LIMITS.VERSIONS_QUOTA_MARGIN;
    if (result.quotaNear) {
      logger.warn(quotaMessage(config.imageArn, plan.versions, left, quota, plan.protectedBy, config.keepVersions), {
        imageArn: config.imageArn, versions: plan.versions, quota, protected: Object.fromEntries(plan.protectedBy),
      });
    }
    return result;
  }

  /** Every version of the image, or undefined when the deadline came first (the newest are then unknown). */
  private async listVersions(retry: RetryContext, remainingMs: () => number): Promise<Array<{ version: string; state?: string }> | undefined> {
    const versions: Array<{ version: string; state?: string }> = [];
    let nextToken: string | undefined;
    do {
      if (remainingMs() <= 0) return undefined;
      const page = await withRetries(retry, () => this.options.microvms.send(new ListMicrovmImageVersionsCommand({
        imageIdentifier: this.options.config.imageArn,
        nextToken,
      })), this.limiter);
      for (const item of page.items ?? []) {
        if (item.imageVersion) versions.push({ version: item.imageVersion, state: item.state });
      }
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    return versions;
  }

  private async delete(version: string, retry: RetryContext): Promise<'deleted' | 'gone' | 'conflict' | 'error'> {
    const { logger, config } = this.options;
    try {
      const command = new DeleteMicrovmImageVersionCommand({ imageIdentifier: config.imageArn, imageVersion: version });
      const out = await withRetries(retry, () => this.options.microvms.send(command), this.limiter);
      // DELETED: an earlier run (or someone else) deleted it already; the operation is idempotent.
      return out.state === 'DELETED' ? 'gone' : 'deleted';
    } catch (err) {
      const name = errorName(err);
      if (name === 'ResourceNotFoundException') return 'gone';
      if (name === 'ConflictException') {
        logger.info('image version not deleted: the service refused (last version or still building)', {
          imageArn: config.imageArn, imageVersion: version, message: errorMessage(err),
        });
        return 'conflict';
      }
      logger.warn('deleting an image version failed', { imageArn: config.imageArn, imageVersion: version, error: name, message: errorMessage(err) });
      return 'error';
    }
  }
}

export interface PruningPlan {
  /** Versions of the image, deleted ones not counted. */
  readonly versions: number;
  /** Versions that may be deleted, oldest first. */
  readonly deletable: string[];
  /** Why each kept version is kept (a version may have several reasons). */
  readonly protectedBy: Map<Protection, string[]>;
}

/** Which versions may go: beyond the newest `keepVersions`, and none of the protected ones. Pure, for tests. */
export function planPruning(
  listed: ReadonlyArray<{ version: string; state?: string }>,
  input: { keepVersions: number; launchVersion?: string; latestActive?: string; liveVersions: ReadonlySet<string> },
): PruningPlan {
  const present = listed.filter((v) => !GONE.has(v.state ?? ''));
  const protectedBy = new Map<Protection, string[]>();
  const protect = (why: Protection, version: string) => protectedBy.set(why, [...(protectedBy.get(why) ?? []), version]);
  const ordered = present.filter((v) => IMAGE_VERSION_PATTERN.test(v.version)).sort((a, b) => compareVersions(b.version, a.version));
  present.filter((v) => !IMAGE_VERSION_PATTERN.test(v.version)).forEach((v) => protect('unordered', v.version));
  const deletable: string[] = [];
  ordered.forEach((v, i) => {
    const reasons: Protection[] = [];
    if (i < input.keepVersions) reasons.push('newest');
    if (v.version === input.launchVersion) reasons.push('launched');
    if (v.version === input.latestActive) reasons.push('latestActive');
    if (input.liveVersions.has(v.version)) reasons.push('live');
    if (BUILDING.has(v.state ?? '')) reasons.push('building');
    if (reasons.length === 0) deletable.push(v.version);
    reasons.forEach((why) => protect(why, v.version));
  });
  return { versions: present.length, deletable: deletable.reverse(), protectedBy };
}

/** Numeric order of `7` or `1.10` style versions (both match {@link IMAGE_VERSION_PATTERN}). */
export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor = 0] = a.split('.').map(Number);
  const [bMajor, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

const WHY: Record<Protection, string> = {
  newest: 'the newest kept by keepVersions',
  launched: 'the version the orchestrator launches',
  latestActive: "the image's latest ACTIVE version",
  live: 'run by live MicroVMs',
  building: 'still building',
  unordered: 'not a version number this library can order',
};

function quotaMessage(imageArn: string, versions: number, left: number, quota: number, protectedBy: Map<Protection, string[]>, keep: number): string {
  const reasons = [...protectedBy].map(([why, list]) => `${WHY[why]}: ${compact(list)}`).join('; ');
  return `image ${imageArn} holds ${versions} of its ${quota} versions and pruning can bring it down to ${left} at best, ` +
    `within ${LIMITS.VERSIONS_QUOTA_MARGIN} of the quota: the next builds will fail with ServiceQuotaExceededException. ` +
    `Kept versions: ${reasons}. To make room, lower keepVersions (now ${keep}), end the sessions that still run old ` +
    'versions, or raise the "versions per image" quota in Service Quotas.';
}

/**
 * The sweeper's last step: after a complete list, the launched version's live count reads 0 rather than no data,
 * then pruning runs with the versions live VMs run. Skipped after an incomplete list (live versions unknown) and
 * when a live VM was listed without its version.
 */
export async function pruneAfterSweep(
  report: MutableReport,
  pruner: VersionPruner | undefined,
  launchVersion: string | undefined,
  remainingMs: () => number,
): Promise<void> {
  if (!report.listComplete) {
    report.pruning = pruner ? 'listIncomplete' : 'off';
    return;
  }
  if (launchVersion && report.liveVmsByVersion[launchVersion] === undefined) {
    report.liveVmsByVersion[launchVersion] = 0;
  }
  if (!pruner) return;
  if (report.liveVmsByVersion[UNKNOWN_VERSION]) {
    report.pruning = 'liveVersionUnknown';
    return;
  }
  const live = new Set(Object.keys(report.liveVmsByVersion).filter((version) => report.liveVmsByVersion[version] > 0));
  const result = await pruner.run(live, remainingMs);
  report.pruning = result.skipped ?? 'done';
  report.versionsDeleted = result.deleted;
  report.versionQuotaNear = result.quotaNear;
  report.errors += result.errors;
  report.remaining.versionsToDelete = result.deferred;
}

/** `1-37, 40` for a list of versions: ascending, runs of whole numbers collapsed. */
function compact(versions: string[]): string {
  const ordered = (v: string) => IMAGE_VERSION_PATTERN.test(v);
  const sorted = [...versions].sort((a, b) => (ordered(a) && ordered(b) ? compareVersions(a, b) : a.localeCompare(b)));
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && /^\d+$/.test(sorted[j]) && sorted[j + 1] === String(Number(sorted[j]) + 1)) j++;
    parts.push(j > i + 1 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(', '));
    i = j;
  }
  return parts.join(', ');
}
