#!/usr/bin/env node
// Is compat/versions.json's "newest" set still the newest? Asks the registry (`npm view`) for the latest
// aws-cdk-lib, constructs and cdk-nag 3.x, and prints for each whether the entry is current or which one to bump.
// Informational: exits 0 either way; exits 2 only when the registry cannot be reached (or answers nonsense).
//
//   node compat/check-latest.mjs
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const versions = JSON.parse(readFileSync(new URL('./versions.json', import.meta.url), 'utf8'));

// `npm view <spec> version --json` answers a string, or an array when a range matches several versions.
async function latest(spec) {
  // npm itself retries a failing fetch for about a minute before it gives up.
  const { stdout } = await run('npm', ['view', spec, 'version', '--json'], { timeout: 180_000 });
  const answer = JSON.parse(stdout);
  const list = (Array.isArray(answer) ? answer : [answer]).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  if (list.length === 0) throw new Error(`npm view ${spec} answered ${stdout.trim() || 'nothing'}`);
  return list.sort(compare).at(-1);
}

function compare(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

const packages = [
  { name: 'aws-cdk-lib', spec: 'aws-cdk-lib' },
  { name: 'constructs', spec: 'constructs' },
  // the peer range is cdk-nag 3: a cdk-nag 4 is a new peer range, not a bump of this set.
  { name: 'cdk-nag', spec: 'cdk-nag@3' },
];

let answers;
try {
  answers = [];
  for (const p of packages) answers.push(await latest(p.spec)); // one at a time: three requests, no hurry
} catch (e) {
  // with --json, npm puts its error on stdout as { error: { code, summary } }.
  let reason = e.message.split('\n')[0];
  try {
    const { error } = JSON.parse(e.stdout);
    reason = `${error.code}: ${error.summary}`;
  } catch {
    // not npm's JSON: its first `npm error` line on stderr, else the message.
    reason = e.killed ? `${e.cmd} gave no answer in 180 s` : /npm error (.*)/.exec(e.stderr ?? '')?.[1] ?? reason;
  }
  console.error(`check-latest: cannot ask the registry: ${reason}`);
  process.exit(2);
}

let stale = 0;
packages.forEach(({ name, spec }, i) => {
  const pinned = versions.newest?.[name];
  const found = answers[i];
  if (pinned === found) {
    console.log(`${name}: newest ${pinned} is current (registry: ${spec} -> ${found})`);
  } else if (!pinned || compare(found, pinned) > 0) {
    stale++;
    console.log(`${name}: bump newest.${name} from ${pinned ?? '(missing)'} to ${found}`);
  } else {
    console.log(`${name}: newest.${name} is ${pinned}, ahead of the registry's ${found} (a pre-release or a typo?)`);
  }
});

// the floor is the peer range's lower bound, not something the registry moves: only check it is not above newest.
for (const name of Object.keys(versions.floor ?? {})) {
  if (versions.newest?.[name] && compare(versions.floor[name], versions.newest[name]) > 0) {
    console.log(`${name}: floor ${versions.floor[name]} is above newest ${versions.newest[name]}`);
  }
}

console.log(stale === 0
  ? 'check-latest: versions.json is current'
  : `check-latest: ${stale} entr${stale === 1 ? 'y' : 'ies'} to bump in compat/versions.json (then run compat/run.sh)`);
