// Writes the fresh app's package.json (before `npm install`) and its cdk.json (after, from the installed
// aws-cdk-lib). Used by compat/run.sh; plain CommonJS so it runs with no build step.
//
//   node prepare.cjs package <set> <appDir> <tarball> <versions.json> <repoDir>
//   node prepare.cjs cdk-json <appDir>
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const VALIDATE_FLAG = '@aws-cdk/core:validateAgainstDefaultRules';

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// typescript and @types/node at the versions the repo installed (keeps the npm cache warm); the devDependency
// range when node_modules is absent.
function toolVersion(repoDir, name) {
  const installed = path.join(repoDir, 'node_modules', name, 'package.json');
  if (fs.existsSync(installed)) return readJson(installed).version;
  const spec = readJson(path.join(repoDir, 'package.json')).devDependencies?.[name];
  if (!spec) throw new Error(`${name}: neither installed in ${repoDir}/node_modules nor a devDependency`);
  return spec;
}

function writePackage(set, appDir, tarball, versionsFile, repoDir) {
  const versions = readJson(versionsFile);
  const pins = versions[set];
  if (!pins) throw new Error(`${versionsFile} has no version set "${set}"`);
  const cli = /^aws-cdk@(.+)$/.exec(versions.cli ?? '');
  if (!cli) throw new Error(`${versionsFile}: "cli" must read aws-cdk@<version>, not ${JSON.stringify(versions.cli)}`);
  const pkg = {
    name: `compat-${set}`,
    private: true,
    description: `cdk-lambda-microvms compatibility app (${set})`,
    dependencies: {
      'cdk-lambda-microvms': `file:${path.resolve(tarball)}`,
      'aws-cdk-lib': pins['aws-cdk-lib'],
      'constructs': pins.constructs,
      'cdk-nag': pins['cdk-nag'],
    },
    devDependencies: {
      'aws-cdk': cli[1],
      'typescript': toolVersion(repoDir, 'typescript'),
      '@types/node': toolVersion(repoDir, '@types/node'),
    },
  };
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify(pkg, undefined, 2) + '\n');
  console.log(Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })
    .map(([k, v]) => `${k}@${k === 'cdk-lambda-microvms' ? path.basename(tarball) : v}`).join(' '));
}

// Every flag the installed aws-cdk-lib recommends, written the way `cdk init` writes them (the CLI merges its
// copy of recommended-feature-flags.json into cdk.json's context, keys sorted), plus validateAgainstDefaultRules.
function writeCdkJson(appDir) {
  const requireApp = createRequire(path.resolve(appDir, 'package.json'));
  const libDir = path.dirname(requireApp.resolve('aws-cdk-lib/package.json'));
  const libVersion = readJson(path.join(libDir, 'package.json')).version;
  const file = path.join(libDir, 'recommended-feature-flags.json');
  const cxapi = requireApp('aws-cdk-lib/cx-api');
  let flags;
  let source;
  if (fs.existsSync(file)) {
    flags = readJson(file);
    source = `aws-cdk-lib@${libVersion}/recommended-feature-flags.json`;
  } else {
    flags = cxapi.CURRENTLY_RECOMMENDED_FLAGS;
    source = `aws-cdk-lib@${libVersion}/cx-api CURRENTLY_RECOMMENDED_FLAGS`;
  }
  if (!flags || Object.keys(flags).length === 0) throw new Error(`no recommended feature flags found in aws-cdk-lib@${libVersion}`);
  const notes = [];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const recommended = cxapi.CURRENTLY_RECOMMENDED_FLAGS;
  if (recommended && !same(Object.keys(recommended).sort().map((k) => [k, recommended[k]]), Object.keys(flags).sort().map((k) => [k, flags[k]]))) {
    notes.push('differs from cx-api CURRENTLY_RECOMMENDED_FLAGS');
  }
  // `cdk init` writes the copy built into the CLI: say so when it is not the same list.
  try {
    const cliDir = path.dirname(requireApp.resolve('aws-cdk/package.json'));
    const cliFlags = readJson(path.join(cliDir, 'lib', 'init-templates', '.recommended-feature-flags.json'));
    const missing = Object.keys(flags).filter((k) => !(k in cliFlags));
    const extra = Object.keys(cliFlags).filter((k) => !(k in flags));
    const changed = Object.keys(flags).filter((k) => k in cliFlags && !same(flags[k], cliFlags[k]));
    const list = (label, keys) => (keys.length ? [`${label} ${keys.join(', ')}`] : []);
    const diff = [...list('lacks', missing), ...list('adds', extra), ...list('sets otherwise', changed)];
    if (diff.length) notes.push(`cdk init of the pinned CLI (its own copy) ${diff.join('; ')}`);
  } catch {
    // a CLI without the init copy: nothing to compare.
  }
  const context = Object.fromEntries(Object.keys(flags).sort().map((k) => [k, flags[k]]));
  const validate = VALIDATE_FLAG in context ? 'already recommended' : 'added';
  context[VALIDATE_FLAG] = true;
  fs.writeFileSync(path.join(appDir, 'cdk.json'), JSON.stringify({ app: 'node build/app.js', context }, undefined, 2) + '\n');
  console.log(`${Object.keys(flags).length} recommended flags from ${source}; ${VALIDATE_FLAG}=true ${validate}`
    + (notes.length ? ` (${notes.join('; ')})` : ''));
}

const [command, ...args] = process.argv.slice(2);
try {
  if (command === 'package') writePackage(...args);
  else if (command === 'cdk-json') writeCdkJson(...args);
  else throw new Error(`unknown command ${command}`);
} catch (e) {
  console.error(`prepare ${command}: ${e.message}`);
  process.exit(1);
}
