import * as fs from 'fs';
import * as path from 'path';
import { AssetStaging, CfnResource, Stack, aws_s3_assets as s3assets } from 'aws-cdk-lib';
import { isObject, safeResolve, stringCandidates } from './template';
import { isSecretFile, scanDockerfile } from '../../shared/secrets';

/** Enough for any real build context; a bigger tree is scanned up to here. */
const MAX_ENTRIES = 50_000;
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/**
 * The local directories of the CDK assets a `CodeArtifact` points at: every `s3_assets.Asset` of the image's
 * stack whose object key appears in `CodeArtifact.Uri`. The staged copy is preferred (it is exactly what gets
 * uploaded, exclusions applied); a zip file or an S3 object outside the app cannot be scanned.
 */
export function buildContextDirectories(node: CfnResource, codeArtifact: unknown): string[] {
  if (!isObject(codeArtifact)) return [];
  const uris = stringCandidates(node, codeArtifact.Uri);
  const stack = Stack.of(node);
  const directories = new Set<string>();
  for (const asset of stack.node.findAll()) {
    if (!(asset instanceof s3assets.Asset) || Stack.of(asset) !== stack) continue;
    const key = safeResolve(node, asset.s3ObjectKey);
    if (typeof key !== 'string' || key === '' || !uris.some((uri) => uri.includes(key))) continue;
    const staging = asset.node.tryFindChild('Stage');
    const directory = staging instanceof AssetStaging ? staging.absoluteStagedPath : asset.assetPath;
    if (path.isAbsolute(directory) && isDirectory(directory)) directories.add(directory);
  }
  return [...directories];
}

/**
 * Findings for one build context: `BuildContext::<relative path>` for each secret file or directory (never
 * descended into), `Dockerfile::<name>` for each `ENV`/`ARG` secret in the root `Dockerfile`. Values are never
 * read into a finding.
 */
export function scanBuildContext(root: string): string[] {
  const findings: string[] = [];
  const pending = [root];
  let entries = 0;
  while (pending.length > 0 && entries < MAX_ENTRIES) {
    const directory = pending.pop()!;
    for (const entry of readDirectory(directory)) {
      if (++entries > MAX_ENTRIES) break;
      const full = path.join(directory, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (isSecretFile(relative)) {
        findings.push(`BuildContext::${relative}`);
      } else if (entry.isDirectory()) {
        pending.push(full);
      }
    }
  }
  for (const finding of scanDockerfile(readDockerfile(path.join(root, 'Dockerfile')))) {
    findings.push(`Dockerfile::${finding.key}`);
  }
  return findings.sort();
}

// an unreadable folder or Dockerfile is skipped: the image construct and the build report those.
function readDirectory(directory: string): fs.Dirent[] {
  try {
    return fs.readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
}

function readDockerfile(file: string): string {
  try {
    return fs.statSync(file).size <= MAX_DOCKERFILE_BYTES ? fs.readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
