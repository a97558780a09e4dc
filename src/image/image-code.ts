import * as fs from 'fs';
import * as path from 'path';
import { AssetStaging, Stack, Token, aws_iam as iam, aws_s3 as s3, aws_s3_assets as s3_assets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { checkDockerfile, listBuildContext, stageBuildContext } from './private/build-context';
import { readZipEntries } from './private/zip-entries';
import { isSecretFile } from '../shared/secrets';
import { invalidProp } from '../shared/validation';

/**
 * Options for {@link ImageCode.fromDirectory}.
 */
export interface DirectoryImageCodeOptions {
  /**
   * More files to leave out of the build context, in `.gitignore` syntax (`*.log`, `tmp/`, `/local-only.txt`).
   * Secret files (`.env*` and `.envrc` but not `.env.example`, private keys and keystores, `.aws/`, `.ssh/`,
   * `.kube/`, `.azure/`, gcloud credentials, `.git/`, registry and package-manager credentials, Terraform state and
   * variables, ...) are always left out; these patterns add to that list.
   *
   * @default - only secret files are left out
   */
  readonly exclude?: string[];
}

/**
 * The result of binding an {@link ImageCode}.
 */
export interface ImageCodeConfig {
  /** the `s3://bucket/key` URI of the zipped build context. */
  readonly uri: string;
}

/**
 * The build context of a MicroVM image: a zip with a `Dockerfile` at its root plus the files it uses.
 */
export class ImageCode {
  /**
   * A local folder with a `Dockerfile` at its top, zipped into an S3 asset at synth time.
   *
   * Secret files are never packaged (see `DirectoryImageCodeOptions.exclude`), and synth fails when the folder
   * has no `Dockerfile` or when the `Dockerfile` sets a credential-looking `ENV` or `ARG`: everything in the
   * image is frozen into a snapshot that every MicroVM starts from.
   *
   * @param directory path to the build context
   */
  public static fromDirectory(directory: string, options: DirectoryImageCodeOptions = {}): ImageCode {
    if (typeof directory !== 'string' || directory.length === 0 || Token.isUnresolved(directory)) {
      throw invalidProp('code', directory, 'be the path of a local folder', 'Pass the folder that contains your Dockerfile.');
    }
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
      throw invalidProp('code', directory, 'be an existing folder', 'Pass the folder that contains your Dockerfile (paths are relative to the working directory).');
    }
    const exclude = options.exclude ?? [];
    exclude.forEach((pattern, i) => {
      if (typeof pattern !== 'string' || pattern.trim() === '') {
        throw invalidProp(`exclude[${i}]`, pattern, 'be a non-empty .gitignore-style pattern', 'Remove the empty pattern.');
      }
    });
    const files = listBuildContext(directory, exclude);
    requireDockerfile(directory, files.included, fs.readdirSync(directory));
    checkDockerfile(path.join(directory, 'Dockerfile'), fs.readFileSync(path.join(directory, 'Dockerfile'), 'utf8'));

    let staged: string | undefined;
    return new ImageCode((scope, buildRole) => {
      staged ??= stageBuildContext(fs.realpathSync(directory), files.included);
      const asset = new s3_assets.Asset(scope, 'Code', { path: staged });
      return bindAsset(asset, buildRole);
    });
  }

  /**
   * A build context you staged yourself as an S3 asset: a folder or a `.zip` file with a `Dockerfile` at its
   * root. Synth fails when it has no `Dockerfile`, when it contains a secret file, or when its `Dockerfile` sets
   * a credential-looking `ENV` or `ARG`.
   */
  public static fromAsset(asset: s3_assets.Asset): ImageCode {
    inspectAsset(asset);
    return new ImageCode((_scope, buildRole) => bindAsset(asset, buildRole));
  }

  /**
   * A zip already in S3 (same region as the image). It cannot be inspected at synth time: make sure it has a
   * `Dockerfile` at its root and no secrets. The build role gets `s3:GetObject` on that object only, and
   * `kms:Decrypt` on the bucket's key when the bucket has one.
   *
   * @param bucket the bucket holding the zip
   * @param key the object key of the zip
   */
  public static fromBucket(bucket: s3.IBucket, key: string): ImageCode {
    if (!Token.isUnresolved(key) && (typeof key !== 'string' || key.length === 0 || key.startsWith('/') || /\s/.test(key))) {
      throw invalidProp('code', key, 'be an S3 object key without a leading "/" or whitespace', 'Pass the key of the zip, e.g. "images/sandbox.zip".');
    }
    const validate = (scope: Construct) => {
      const imageRegion = Stack.of(scope).region;
      const bucketRegion = bucket.env.region;
      if (!Token.isUnresolved(imageRegion) && !Token.isUnresolved(bucketRegion) && imageRegion !== bucketRegion) {
        throw invalidProp('code', `${bucket.node.path} in ${bucketRegion}`, `be a bucket in the image's region (${imageRegion})`,
          'The service cannot read a code artifact from another region; copy it to a bucket in this region.');
      }
    };
    return new ImageCode((scope, buildRole) => {
      validate(scope);
      buildRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(key)] }));
      if (bucket.encryptionKey) {
        buildRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [bucket.encryptionKey.keyArn] }));
      }
      return { uri: `s3://${bucket.bucketName}/${key}` };
    }, validate);
  }

  private constructor(
    private readonly produce: (scope: Construct, buildRole: iam.IRole) => ImageCodeConfig,
    private readonly validate: (scope: Construct) => void = () => undefined,
  ) {}

  /**
   * Checks that the code can serve an image created in `scope`, before the image creates anything.
   *
   * @internal
   */
  public _validateFor(scope: Construct): void {
    this.validate(scope);
  }

  /**
   * Makes the code available to an image build: creates the asset if needed, grants `buildRole` read access to
   * exactly that object, and returns its S3 URI.
   */
  public bind(scope: Construct, buildRole: iam.IRole): ImageCodeConfig {
    return this.produce(scope, buildRole);
  }
}

function bindAsset(asset: s3_assets.Asset, buildRole: iam.IRole): ImageCodeConfig {
  buildRole.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:GetObject'],
    resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
  }));
  return { uri: asset.s3ObjectUrl };
}

function requireDockerfile(label: string, included: string[], topLevel: string[]): void {
  if (included.includes('Dockerfile')) return;
  const lookalike = topLevel.find((name) => name.toLowerCase() === 'dockerfile' && name !== 'Dockerfile');
  const nested = included.find((file) => file.endsWith('/Dockerfile'));
  const fix = topLevel.includes('Dockerfile')
    ? 'Your exclude patterns leave out the Dockerfile; remove the pattern that matches it.'
    : lookalike ? `Rename ${lookalike} to Dockerfile (the service looks for that exact name).`
      : nested ? `Point the code at the folder that contains it (${nested}).`
        : 'Add a Dockerfile at the top of the build context.';
  throw invalidProp('code', label, 'have a file named Dockerfile at its root', fix);
}

function inspectAsset(asset: s3_assets.Asset): void {
  const staging = asset.node.tryFindChild('Stage');
  if (!(staging instanceof AssetStaging)) return; // nothing on disk to inspect
  const staged = staging.absoluteStagedPath;
  const label = asset.node.path;
  if (asset.isFile && !asset.isZipArchive) {
    throw invalidProp('code', label, 'be a folder or a .zip file', 'Stage the build context folder, or a zip with the Dockerfile at its root.');
  }
  if (fs.statSync(staged).isDirectory()) {
    const files = listBuildContext(staged, []);
    rejectSecrets(label, files.secret);
    requireDockerfile(label, files.included, fs.readdirSync(staged));
    checkDockerfile(`${label}/Dockerfile`, fs.readFileSync(path.join(staged, 'Dockerfile'), 'utf8'));
    return;
  }
  let zip;
  try {
    zip = readZipEntries(staged);
  } catch (e) {
    throw invalidProp('code', label, 'be a readable zip archive', `Use ImageCode.fromDirectory instead (${(e as Error).message}).`);
  }
  rejectSecrets(label, zip.names.filter((name) => isSecretFile(name.replace(/\/$/, ''))));
  const dockerfile = zip.read('Dockerfile');
  if (!dockerfile) requireDockerfile(label, zip.names, zip.names.filter((n) => !n.includes('/')));
  checkDockerfile(`${label}/Dockerfile`, dockerfile!.toString('utf8'));
}

function rejectSecrets(label: string, secretFiles: string[]): void {
  if (secretFiles.length === 0) return;
  const shown = secretFiles.slice(0, 5).join(', ') + (secretFiles.length > 5 ? `, and ${secretFiles.length - 5} more` : '');
  throw invalidProp('code', label, `not contain secret files (found ${shown})`,
    'Exclude them from the asset, or use ImageCode.fromDirectory, which never packages them.');
}
