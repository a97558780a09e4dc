import { conflict, notFound, validation } from './errors';
import { ImageStore, MANAGED_IMAGE_NAME, requireImageArn, versionState, type ImageRecord, type ImageVersionRecord, type VersionOutcome } from './image-store';
import { paginate, parseMaxResults, type Page } from './pagination';
import { isObject, optionalString, requireObject, requiredString, validateLogging } from './request-validation';
import { seconds } from './wire';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

/** What the image operations need from the emulator. */
export interface ImageApiContext {
  readonly images: ImageStore;
  now(): number;
  buildDelayMs(): number;
  buildOutcome(): VersionOutcome;
  /** VMs of the image that are not TERMINATED. */
  liveVmsOf(imageArn: string): number;
}

/** Enough of the image API for realism: create, read, list, activate/deactivate, delete, managed images. */
export class ImageApi {
  constructor(private readonly ctx: ImageApiContext) {}

  public create(body: Record<string, any>): Record<string, unknown> {
    requireObject(body, 'The request body');
    requiredString(body, 'name', 1, 64);
    if (!/^[a-zA-Z0-9_-]+$/.test(body.name)) throw validation(`name must match [a-zA-Z0-9-_]+, got ${body.name}.`);
    this.validateConfig(body);
    const now = this.ctx.now();
    const { image } = this.ctx.images.create(body, now, this.ctx.buildDelayMs(), this.ctx.buildOutcome());
    const version = image.versions[image.versions.length - 1];
    return {
      ...version.config,
      ...this.describe(image, now),
      // the service answers before the build starts, whatever its outcome.
      state: 'CREATING',
      latestActiveImageVersion: undefined,
      imageVersion: version.version,
    };
  }

  /** UpdateMicrovmImage: the whole configuration again; always a new version. */
  public update(identifier: string, body: Record<string, any>): Record<string, unknown> {
    requireObject(body, 'The request body');
    requireImageArn(identifier, 'imageIdentifier');
    this.validateConfig(body);
    const image = this.ctx.images.resolve(identifier);
    const now = this.ctx.now();
    const { clientToken: _token, ...config } = body;
    const version = this.ctx.images.update(image, config, now, this.ctx.buildDelayMs(), this.ctx.buildOutcome());
    const described = this.describe(image, now);
    return {
      ...version.config,
      ...described,
      state: 'UPDATING',
      latestActiveImageVersion: this.ctx.images.latestActive(image, now - 1)?.version,
      imageVersion: version.version,
    };
  }

  private validateConfig(body: Record<string, any>): void {
    const base = requiredString(body, 'baseImageArn', 1, 2048);
    const role = requiredString(body, 'buildRoleArn', 20, 2048);
    if (!ROLE_ARN.test(role)) throw validation(`buildRoleArn must be an IAM role ARN, got ${role}.`);
    if (!isObject(body.codeArtifact) || typeof body.codeArtifact.uri !== 'string') {
      throw validation('codeArtifact is required and must set uri.');
    }
    optionalString(body.codeArtifact, 'uri', 1, 2048, /^\S+$/, 'codeArtifact.');
    optionalString(body, 'clientToken', 1, 128);
    if (body.logging !== undefined) validateLogging(body.logging);
    if (Array.isArray(body.resources) && body.resources.length > 1) throw validation('resources must have at most 1 item.');
    if (Array.isArray(body.egressNetworkConnectors) && body.egressNetworkConnectors.length > 1) {
      throw validation('egressNetworkConnectors must have at most 1 item.');
    }
    if (base !== this.ctx.images.managedArn) throw notFound('MicrovmImage', base, `Base image ${base} not found.`);
  }

  public get(identifier: string): Record<string, unknown> {
    return this.describe(this.ctx.images.resolve(identifier), this.ctx.now());
  }

  public delete(identifier: string): Record<string, unknown> {
    const image = this.ctx.images.resolve(identifier);
    // third parties saw the delete refused while a MicroVM of the image still existed.
    if (this.ctx.liveVmsOf(image.arn) > 0) {
      throw conflict('MicrovmImage', image.arn, `Image ${image.arn} still has MicroVMs that are not TERMINATED.`);
    }
    this.ctx.images.delete(image);
    return { imageIdentifier: identifier, state: 'DELETING' };
  }

  public list(query: URLSearchParams): Page<Record<string, unknown>> {
    const maxResults = parseMaxResults(query.get('maxResults'));
    const nameFilter = query.get('nameFilter') ?? '';
    const now = this.ctx.now();
    const images = this.ctx.images.all().filter((image) => image.name.includes(nameFilter));
    const page = paginate(images, (image) => image.seq, maxResults, query.get('nextToken'), `images|${nameFilter}`);
    return {
      items: page.items.map((image) => {
        const { tags: _tags, updatedAt: _updated, ...summary } = this.describe(image, now);
        return summary;
      }),
      nextToken: page.nextToken,
    };
  }

  public listVersions(identifier: string, query: URLSearchParams): Page<Record<string, unknown>> {
    const maxResults = parseMaxResults(query.get('maxResults'));
    const image = this.ctx.images.resolve(identifier);
    const now = this.ctx.now();
    const page = paginate(image.versions, (v) => v.seq, maxResults, query.get('nextToken'), `versions|${image.arn}`);
    return { items: page.items.map((v) => this.describeVersion(image, v, now)), nextToken: page.nextToken };
  }

  public getVersion(identifier: string, version: string): Record<string, unknown> {
    const image = this.ctx.images.resolve(identifier);
    return this.describeVersion(image, this.ctx.images.version(image, version), this.ctx.now());
  }

  public updateVersion(identifier: string, version: string, body: Record<string, any>): Record<string, unknown> {
    requireObject(body, 'The request body');
    if (body.status !== 'ACTIVE' && body.status !== 'INACTIVE') {
      throw validation(`status must be ACTIVE or INACTIVE, got ${String(body.status)}.`);
    }
    const image = this.ctx.images.resolve(identifier);
    const record = this.ctx.images.version(image, version);
    const now = this.ctx.now();
    record.status = body.status;
    record.updatedAt = now;
    return this.describeVersion(image, record, now);
  }

  /** DeleteMicrovmImageVersion: never the last remaining version; VMs of the version keep running. */
  public deleteVersion(identifier: string, version: string): Record<string, unknown> {
    const image = this.ctx.images.resolve(identifier);
    const state = this.ctx.images.deleteVersion(image, version, this.ctx.now());
    return { imageIdentifier: identifier, imageVersion: version, state };
  }

  public listManaged(query: URLSearchParams): Page<Record<string, unknown>> {
    const maxResults = parseMaxResults(query.get('maxResults'));
    const first = this.ctx.images.managedVersions[0];
    const items = [{ imageArn: this.ctx.images.managedArn, createdAt: seconds(first.createdAt), updatedAt: seconds(first.createdAt) }];
    return paginate(items, () => 0, maxResults, query.get('nextToken'), 'managed');
  }

  public listManagedVersions(identifier: string, query: URLSearchParams): Page<Record<string, unknown>> {
    const maxResults = parseMaxResults(query.get('maxResults'));
    const arn = this.ctx.images.managedArn;
    if (identifier !== arn && identifier !== MANAGED_IMAGE_NAME) throw notFound('MicrovmImage', identifier);
    const versions = this.ctx.images.managedVersions.map((v, i) => ({ seq: i, item: v }));
    const page = paginate(versions, (v) => v.seq, maxResults, query.get('nextToken'), 'managed-versions');
    return {
      items: page.items.map(({ item }) => ({
        imageArn: arn,
        imageVersion: item.version,
        status: item.status,
        createdAt: seconds(item.createdAt),
        updatedAt: seconds(item.createdAt),
      })),
      nextToken: page.nextToken,
    };
  }

  private describe(image: ImageRecord, now: number): Record<string, unknown> {
    return {
      imageArn: image.arn,
      name: image.name,
      state: this.ctx.images.imageState(image, now),
      latestActiveImageVersion: this.ctx.images.latestActive(image, now)?.version,
      latestFailedImageVersion: this.ctx.images.latestFailed(image, now)?.version,
      createdAt: seconds(image.createdAt),
      updatedAt: seconds(image.updatedAt),
      tags: image.tags,
    };
  }

  private describeVersion(image: ImageRecord, version: ImageVersionRecord, now: number): Record<string, unknown> {
    const state = versionState(version, now);
    return {
      ...version.config,
      imageArn: image.arn,
      imageVersion: version.version,
      state,
      status: version.status,
      createdAt: seconds(version.createdAt),
      updatedAt: seconds(version.updatedAt),
      stateReason: state === 'FAILED' ? 'CONTAINER_BUILD_FAILED' : undefined,
      tags: image.tags,
    };
  }
}
