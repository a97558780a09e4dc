import * as fs from 'fs';
import * as path from 'path';
import { FileSystem, IgnoreStrategy } from 'aws-cdk-lib';
import { isSecretFile, scanDockerfile } from '../../shared/secrets';
import { invalidProp } from '../../shared/validation';

/** Files of a build context, relative and `/`-separated, with the ones left out for being secret. */
export interface BuildContextFiles {
  /** files to package. */
  readonly included: string[];
  /** files left out because `isSecretFile` matched them. */
  readonly secret: string[];
}

/**
 * Walks a build context directory. Secret files and files matching `exclude` (`.gitignore` syntax) are left
 * out; secret directories (`.git`, `.aws`, `.ssh`) are not even entered. Symbolic links are followed when they
 * stay inside the context and rejected when they leave it, so nothing outside the folder can be packaged.
 */
export function listBuildContext(root: string, exclude: string[]): BuildContextFiles {
  const absoluteRoot = fs.realpathSync(root);
  const ignore = IgnoreStrategy.git(absoluteRoot, [...exclude]);
  const included: string[] = [];
  const secret: string[] = [];
  const walk = (relativeDir: string) => {
    const entries = fs.readdirSync(path.join(absoluteRoot, relativeDir), { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
      const absolute = path.join(absoluteRoot, relative);
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = fs.realpathSync(absolute);
        } catch {
          throw invalidProp('code', relative, 'not contain a symbolic link whose target does not exist',
            'Remove the dangling link, or restore the file it points to.');
        }
        if (target !== absoluteRoot && !target.startsWith(absoluteRoot + path.sep)) {
          throw invalidProp('code', relative, 'not contain a symbolic link that points outside the build context',
            'Copy the file into the build context, or remove the link.');
        }
        isDirectory = fs.statSync(target).isDirectory();
      }
      if (isDirectory) {
        if (isSecretFile(relative)) {
          secret.push(`${relative}/`);
        } else if (!ignore.completelyIgnores(absolute)) {
          walk(relative);
        }
      } else if (isSecretFile(relative)) {
        secret.push(relative);
      } else if (!ignore.ignores(absolute)) {
        included.push(relative);
      }
    }
  };
  walk('');
  return { included, secret };
}

/**
 * Copies the listed files of a build context into a fresh temporary directory that becomes the asset, so the
 * zip holds exactly those files with the `Dockerfile` at its root.
 */
export function stageBuildContext(root: string, files: string[]): string {
  const staged = FileSystem.mkdtemp('microvm-image-context-');
  for (const relative of files) {
    const target = path.join(staged, ...relative.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(root, ...relative.split('/')), target);
  }
  return staged;
}

/**
 * Fails when a Dockerfile sets a credential-looking `ENV`/`ARG`, naming the file, line and key, never the value.
 */
export function checkDockerfile(label: string, text: string): void {
  const findings = scanDockerfile(text);
  if (findings.length === 0) return;
  const where = findings.map((f) => `line ${f.line}: ${f.key}, ${f.reason}`).join('; ');
  throw invalidProp('code', label, `not bake a secret into the image through a Dockerfile ENV or ARG (${where})`,
    'Every MicroVM starts from the same snapshot: fetch secrets at run time with the execution role '
    + '(Secrets Manager) or pass them per launch through the run hook payload.');
}
