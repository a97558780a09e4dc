import { conflict, notFound, quotaExceeded, validation } from './errors';
import type { RegisterImageOptions } from './types';
import { canonicalJson } from './wire';
import { IMAGE_ARN_PATTERN, LIMITS, parseImageArn } from '../shared/contract';

/** The default baseline memory of an image (2 GB, 1 vCPU). */
export const DEFAULT_IMAGE_MEMORY_MIB = 2048;

/** The service quota of versions per image (the emulator's default; see `versionsPerImageQuota`). */
export const MAX_VERSIONS_PER_IMAGE = LIMITS.VERSIONS_PER_IMAGE;

/** The Lambda-managed base image every emulated account sees. */
export const MANAGED_IMAGE_NAME = 'al2023-1';

export type VersionOutcome = 'SUCCESSFUL' | 'FAILED';

export interface ImageVersionRecord {
  readonly version: string;
  readonly seq: number;
  /** The version's configuration, echoed by GetMicrovmImageVersion/ListMicrovmImageVersions. */
  readonly config: Record<string, unknown>;
  readonly createdAt: number;
  /** When the build finishes (emulated ms). */
  readonly buildDoneAt: number;
  readonly outcome: VersionOutcome;
  status: 'ACTIVE' | 'INACTIVE';
  updatedAt: number;
  readonly memoryMiB: number;
  readonly hooksPort?: number;
}

export interface ImageRecord {
  readonly name: string;
  readonly arn: string;
  readonly seq: number;
  readonly createdAt: number;
  updatedAt: number;
  readonly tags: Record<string, string>;
  readonly versions: ImageVersionRecord[];
  /** Versions removed by DeleteMicrovmImageVersion: a repeated delete succeeds, and their numbers are never reused. */
  readonly deletedVersions: Set<string>;
  readonly clientToken?: string;
  readonly requestFingerprint?: string;
}

export interface ManagedVersion {
  readonly version: string;
  readonly status: 'AVAILABLE' | 'DEPRECATED';
  readonly createdAt: number;
}

const IMAGE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Images of the emulated account, plus the managed base image. */
export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private seq = 0;
  public readonly managedArn: string;
  public readonly managedVersions: ManagedVersion[];

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    startedAt: number,
    private readonly versionsQuota: () => number = () => MAX_VERSIONS_PER_IMAGE,
  ) {
    this.managedArn = `arn:aws:lambda:${region}:aws:microvm-image:${MANAGED_IMAGE_NAME}`;
    const day = 86_400_000;
    this.managedVersions = [
      { version: '1', status: 'DEPRECATED', createdAt: startedAt - 90 * day },
      { version: '2', status: 'DEPRECATED', createdAt: startedAt - 45 * day },
      { version: '3', status: 'AVAILABLE', createdAt: startedAt - 10 * day },
    ];
  }

  public arnOf(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:microvm-image:${name}`;
  }

  /** Adds a ready-to-run image (every version SUCCESSFUL and ACTIVE). */
  public register(options: RegisterImageOptions, now: number): string {
    if (!IMAGE_NAME.test(options.name)) throw new Error(`image name must match ${IMAGE_NAME}, got ${options.name}`);
    if (this.images.has(options.name)) throw new Error(`image ${options.name} is already registered`);
    const versions = options.versions ?? ['1'];
    if (versions.length === 0) throw new Error('an image needs at least one version');
    const memoryMiB = options.memoryMiB ?? DEFAULT_IMAGE_MEMORY_MIB;
    const record: ImageRecord = {
      name: options.name,
      arn: this.arnOf(options.name),
      seq: this.seq++,
      createdAt: now,
      updatedAt: now,
      tags: {},
      versions: [],
      deletedVersions: new Set(),
    };
    versions.forEach((version, i) => {
      record.versions.push({
        version,
        seq: i,
        config: this.defaultConfig(memoryMiB, options.hooksPort),
        createdAt: now,
        buildDoneAt: now,
        outcome: 'SUCCESSFUL',
        status: 'ACTIVE',
        updatedAt: now,
        memoryMiB,
        hooksPort: options.hooksPort,
      });
    });
    this.images.set(options.name, record);
    return record.arn;
  }

  /** CreateMicrovmImage: version "1", built after `buildDelayMs` with the configured outcome. */
  public create(
    request: Record<string, any>,
    now: number,
    buildDelayMs: number,
    outcome: VersionOutcome,
  ): { image: ImageRecord; created: boolean } {
    const name = request.name;
    const { name: _n, tags: _t, clientToken, ...config } = request;
    const fingerprint = canonicalJson({ ...request, clientToken: undefined });
    const existing = this.images.get(name);
    if (existing) {
      if (clientToken !== undefined && existing.clientToken === clientToken && existing.requestFingerprint === fingerprint) {
        return { image: existing, created: false };
      }
      throw conflict('MicrovmImage', existing.arn, `An image named ${name} already exists.`);
    }
    const memoryMiB = request.resources?.[0]?.minimumMemoryInMiB ?? DEFAULT_IMAGE_MEMORY_MIB;
    const record: ImageRecord = {
      name,
      arn: this.arnOf(name),
      seq: this.seq++,
      createdAt: now,
      updatedAt: now,
      tags: { ...(request.tags ?? {}) },
      versions: [{
        version: '1',
        seq: 0,
        config,
        createdAt: now,
        buildDoneAt: now + buildDelayMs,
        outcome,
        status: 'ACTIVE',
        updatedAt: now,
        memoryMiB,
        hooksPort: request.hooks?.port,
      }],
      deletedVersions: new Set(),
      clientToken,
      requestFingerprint: fingerprint,
    };
    this.images.set(name, record);
    return { image: record, created: true };
  }

  /** UpdateMicrovmImage: a new version with the whole new configuration, built like a create. */
  public update(image: ImageRecord, config: Record<string, any>, now: number, buildDelayMs: number, outcome: VersionOutcome): ImageVersionRecord {
    if (image.versions.some((v) => versionState(v, now) === 'IN_PROGRESS')) {
      throw conflict('MicrovmImage', image.arn, `Image ${image.arn} is still building a version.`);
    }
    const quota = this.versionsQuota();
    if (image.versions.length >= quota) {
      throw quotaExceeded(
        `Image ${image.arn} has ${image.versions.length} versions, the quota of ${quota} per image; delete old versions first.`,
        'versions-per-image',
        'MicrovmImage',
        image.arn,
      );
    }
    // the next number after every version the image ever had: a deleted version's number is not handed out again.
    const numbers = [...image.versions.map((v) => v.version), ...image.deletedVersions].map(Number).filter(Number.isInteger);
    const version: ImageVersionRecord = {
      version: String(Math.max(0, ...numbers) + 1),
      seq: image.versions[image.versions.length - 1].seq + 1,
      config,
      createdAt: now,
      buildDoneAt: now + buildDelayMs,
      outcome,
      status: 'ACTIVE',
      updatedAt: now,
      memoryMiB: config.resources?.[0]?.minimumMemoryInMiB ?? DEFAULT_IMAGE_MEMORY_MIB,
      hooksPort: config.hooks?.port,
    };
    image.versions.push(version);
    image.updatedAt = now;
    return version;
  }

  public delete(image: ImageRecord): void {
    this.images.delete(image.name);
  }

  /**
   * DeleteMicrovmImageVersion: `DELETING` for a version removed now, `DELETED` for one removed before (the
   * operation is idempotent). VMs running the version keep running: they run from their snapshot.
   */
  public deleteVersion(image: ImageRecord, version: string, now: number): 'DELETING' | 'DELETED' {
    if (image.deletedVersions.has(version)) return 'DELETED';
    const record = this.version(image, version);
    if (versionState(record, now) === 'IN_PROGRESS') {
      throw conflict('MicrovmImageVersion', `${image.arn}:${version}`, `Image version ${version} of ${image.arn} is still building.`);
    }
    if (image.versions.length === 1) {
      throw conflict(
        'MicrovmImageVersion',
        `${image.arn}:${version}`,
        `Version ${version} is the last remaining version of ${image.arn}; delete the image instead.`,
      );
    }
    image.versions.splice(image.versions.indexOf(record), 1);
    image.deletedVersions.add(version);
    image.updatedAt = now;
    return 'DELETING';
  }

  /** Resolves an image ARN (or, where the API allows it, a name) to its record. */
  public resolve(identifier: string): ImageRecord {
    const match = parseImageArn(identifier);
    const name = match ? match.name : identifier;
    const image = this.images.get(name);
    if (!image || (match && image.arn !== identifier)) throw notFound('MicrovmImage', identifier);
    return image;
  }

  public all(): ImageRecord[] {
    return [...this.images.values()].sort((a, b) => a.seq - b.seq);
  }

  public version(image: ImageRecord, version: string): ImageVersionRecord {
    const record = image.versions.find((v) => v.version === version);
    if (!record) throw notFound('MicrovmImageVersion', `${image.arn}:${version}`);
    return record;
  }

  /** The version RunMicrovm would use: the given one, which must be runnable, or the latest active. */
  public runnableVersion(image: ImageRecord, version: string | undefined, now: number): ImageVersionRecord {
    if (version === undefined) {
      const latest = this.latestActive(image, now);
      if (!latest) throw notFound('MicrovmImageVersion', image.arn, `Image ${image.arn} has no ACTIVE SUCCESSFUL version.`);
      return latest;
    }
    const record = this.version(image, version);
    if (versionState(record, now) !== 'SUCCESSFUL' || record.status !== 'ACTIVE') {
      throw notFound(
        'MicrovmImageVersion',
        `${image.arn}:${version}`,
        `Image version ${version} of ${image.arn} is not runnable (state ${versionState(record, now)}, status ${record.status}).`,
      );
    }
    return record;
  }

  public latestActive(image: ImageRecord, now: number): ImageVersionRecord | undefined {
    return [...image.versions].reverse().find((v) => versionState(v, now) === 'SUCCESSFUL' && v.status === 'ACTIVE');
  }

  public latestFailed(image: ImageRecord, now: number): ImageVersionRecord | undefined {
    return [...image.versions].reverse().find((v) => versionState(v, now) === 'FAILED');
  }

  public imageState(image: ImageRecord, now: number): string {
    const states = image.versions.map((v) => versionState(v, now));
    const last = states[states.length - 1];
    if (image.versions.length === 1) {
      if (last === 'IN_PROGRESS') return 'CREATING';
      return last === 'FAILED' ? 'CREATE_FAILED' : 'CREATED';
    }
    if (last === 'IN_PROGRESS') return 'UPDATING';
    return last === 'FAILED' ? 'UPDATE_FAILED' : 'UPDATED';
  }

  private defaultConfig(memoryMiB: number, hooksPort: number | undefined): Record<string, unknown> {
    return {
      baseImageArn: this.managedArn,
      baseImageVersion: this.managedVersions[this.managedVersions.length - 1].version,
      buildRoleArn: `arn:aws:iam::${this.accountId}:role/emulator-build-role`,
      codeArtifact: { uri: 's3://emulator-artifacts/image.zip' },
      cpuConfigurations: [{ architecture: 'ARM_64' }],
      resources: [{ minimumMemoryInMiB: memoryMiB }],
      ...(hooksPort !== undefined ? { hooks: { port: hooksPort } } : {}),
    };
  }
}

/** Checks an identifier is an image ARN, as RunMicrovm requires. */
export function requireImageArn(identifier: string, field: string): void {
  if (!IMAGE_ARN_PATTERN.test(identifier)) {
    throw validation(`${field} must be an image ARN (arn:aws:lambda:<region>:<account>:microvm-image:<name>), got ${identifier}.`);
  }
}

export function versionState(version: ImageVersionRecord, now: number): string {
  return now < version.buildDoneAt ? 'IN_PROGRESS' : version.outcome;
}
