// Decides pass/fail for one (version set x language) from what `cdk synth` left in the app's cloud assembly.
//
//   node check-assembly.cjs <appDir> <outdir> <label> <synthExitCode> <synthLog> <probeFile>
//
// Passes only when:
//   - both packs (AwsSolutions, MicrovmChecks) were registered and their validate() ran (probe.cjs);
//   - validation-report.json lists nothing unacknowledged from either pack, at any severity (cdk-nag 3 fails
//     synth on warnings too), and no pack crashed;
//   - no other validation plugin (CloudFormation-Validate, annotations) reports an error;
//   - the orchestrator, sweeper and smoke test functions of every stack run the newest nodejs<N>.x that the app's
//     aws-cdk-lib knows (never below nodejs24.x, the handler bundles' target);
//   - `cdk synth` exited 0.
// Prints a summary line (PASS/FAIL + counts), then one line per finding; exit code 0 on pass, 1 on failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const PACKS = ['AwsSolutions', 'MicrovmChecks'];
const HANDLERS = ['Sessions/Orchestrator/Resource', 'Sessions/Sweeper/Resource', 'Sessions/SmokeTest/Function/Resource'];
const BUNDLE_NODE_MAJOR = 24;

const [appDir, outName, label, synthRcArg, synthLog, probeFile] = process.argv.slice(2);
const outdir = path.resolve(appDir, outName);
const requireApp = createRequire(path.resolve(appDir, 'package.json'));
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const version = (name) => readJson(requireApp.resolve(`${name}/package.json`)).version;

const problems = []; // why it fails, besides findings
const details = []; // one line per finding
const notes = [];

// ---- the newest nodejs<N>.x runtime the installed aws-cdk-lib knows
function newestNodeRuntime() {
  const { Runtime, RuntimeFamily } = requireApp('aws-cdk-lib/aws-lambda');
  let newest = BUNDLE_NODE_MAJOR;
  for (const key of Object.getOwnPropertyNames(Runtime)) {
    const runtime = Runtime[key];
    if (!(runtime instanceof Runtime) || runtime.family !== RuntimeFamily.NODEJS) continue;
    if (runtime.isVariable || runtime.deprecated || runtime.isDeprecated) continue; // NODEJS_LATEST and the like
    const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
    if (match) newest = Math.max(newest, Number(match[1]));
  }
  // AwsSolutions-L1 judges "latest" from Runtime.ALL: say so if that list knows a newer one.
  const all = (Runtime.ALL ?? []).map((r) => /^nodejs(\d+)\.x$/.exec(r.name)).filter(Boolean).map((m) => Number(m[1]));
  if (all.length && Math.max(...all) > newest) notes.push(`Runtime.ALL knows nodejs${Math.max(...all)}.x, newer than any static Runtime`);
  return `nodejs${newest}.x`;
}

// ---- the probe: were both packs registered and run?
let probe = { plugins: {} };
if (fs.existsSync(probeFile)) probe = readJson(probeFile);
else problems.push('the app did not run to completion (no probe record)');
for (const pack of PACKS) {
  const record = probe.plugins[pack];
  if (!record) problems.push(`${pack} was not registered with Validations.of(app).addPlugins()`);
  else if (record.validated === 0) problems.push(`${pack} was registered but its validate() never ran`);
}

// ---- validation-report.json
const unacknowledged = Object.fromEntries(PACKS.map((p) => [p, { error: 0, warning: 0, other: 0 }]));
const others = {}; // other plugins: severity counts
const reportFile = path.join(outdir, 'validation-report.json');
let report;
if (fs.existsSync(reportFile)) report = readJson(reportFile);
else if (fs.existsSync(path.join(outdir, 'manifest.json'))) problems.push('no validation-report.json in the cloud assembly');
for (const plugin of report?.pluginReports ?? []) {
  const name = plugin.pluginName;
  const isPack = PACKS.includes(name);
  if ((plugin.violations ?? []).length === 0 && plugin.conclusion === 'failure') {
    problems.push(`${name} failed: ${plugin.metadata?.error ?? 'no reason given'}`);
  }
  for (const v of plugin.violations ?? []) {
    const severity = v.severity === 'custom' ? (v.customSeverity ?? 'custom') : v.severity;
    for (const c of v.violatingConstructs ?? [{}]) {
      const where = c.constructPath || c.cloudFormationResource?.logicalId || '(no construct path)';
      if (isPack) {
        const counts = unacknowledged[name];
        counts[severity in counts ? severity : (severity === 'fatal' ? 'error' : 'other')] += 1;
        details.push(`    ${v.ruleName} [${severity}] ${where}`);
      } else {
        others[name] ??= {};
        others[name][severity] = (others[name][severity] ?? 0) + 1;
        const blocking = severity === 'error' || severity === 'fatal';
        details.push(`    ${blocking ? '' : '(info) '}${name}: ${v.ruleName} [${severity}] ${where}`);
      }
    }
  }
}

// ---- acknowledgements the app's constructs recorded (aws:cdk:acknowledged-rules metadata)
const acknowledged = {};
const manifestFile = path.join(outdir, 'manifest.json');
const manifest = fs.existsSync(manifestFile) ? readJson(manifestFile) : { artifacts: {} };
const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
for (const [name, artifact] of stacks) {
  const file = path.join(outdir, `${name}.metadata.json`);
  const metadata = artifact.metadata ?? (fs.existsSync(file) ? readJson(file) : {});
  for (const entries of Object.values(metadata)) {
    for (const entry of entries) {
      if (entry.type !== 'aws:cdk:acknowledged-rules' || !entry.data || typeof entry.data !== 'object') continue;
      for (const id of Object.keys(entry.data)) {
        // <namespace>::<rule>: cdk-nag packs acknowledge as Annotation::<Pack>-<Rule>, other plugins as <Plugin>::<Rule>.
        const [namespace, rule = ''] = id.split('::');
        const pack = PACKS.find((p) => rule.startsWith(`${p}-`))
          ?? (namespace === 'Annotation' ? 'packs not registered here' : namespace);
        acknowledged[pack] = (acknowledged[pack] ?? 0) + 1;
      }
    }
  }
}

// ---- the handlers' runtime
let expected = '?';
const seen = new Set();
try {
  expected = newestNodeRuntime();
} catch (e) {
  problems.push(`could not read Runtime from aws-cdk-lib: ${e.message}`);
}
if (stacks.length === 0 && fs.existsSync(manifestFile)) problems.push('the assembly has no stacks');
for (const [name, artifact] of stacks) {
  const template = readJson(path.join(outdir, artifact.properties.templateFile));
  const byPath = new Map(Object.values(template.Resources ?? {}).map((r) => [r.Metadata?.['aws:cdk:path'], r]));
  for (const handler of HANDLERS) {
    const at = `${artifact.displayName ?? name}/${handler}`;
    const fn = byPath.get(at);
    if (!fn || fn.Type !== 'AWS::Lambda::Function') {
      problems.push(`no AWS::Lambda::Function at ${at} (aws:cdk:path metadata)`);
      continue;
    }
    seen.add(fn.Properties.Runtime);
    if (fn.Properties.Runtime !== expected) {
      problems.push(`${at} runs ${fn.Properties.Runtime}, not ${expected}`);
    }
  }
}

// ---- synth exit code
const synthRc = Number(synthRcArg);
const packFindings = PACKS.reduce((n, p) => n + Object.values(unacknowledged[p]).reduce((a, b) => a + b, 0), 0);
const blockingOthers = Object.values(others).reduce((n, s) => n + (s.error ?? 0) + (s.fatal ?? 0), 0);
if (synthRc !== 0 && packFindings === 0 && blockingOthers === 0) {
  const log = fs.existsSync(synthLog) ? fs.readFileSync(synthLog, 'utf8').trim().split('\n').slice(-15) : [];
  problems.push(`cdk synth exited ${synthRc} with no finding to explain it:\n${log.map((l) => `      ${l}`).join('\n')}`);
} else if (synthRc === 0 && packFindings + blockingOthers > 0) {
  problems.push('cdk synth exited 0 despite unacknowledged findings');
}

// ---- the line
const fmt = (c) => `${c.error + c.warning + c.other}${c.error + c.warning + c.other ? ` (${c.error} error, ${c.warning} warning${c.other ? `, ${c.other} other` : ''})` : ''}`;
const otherText = Object.entries(others).map(([n, s]) => `${n} ${Object.entries(s).map(([k, v]) => `${v} ${k}`).join(', ')}`).join('; ');
const rank = (name) => (PACKS.includes(name) ? PACKS.indexOf(name) : PACKS.length);
const ok = problems.length === 0 && packFindings === 0 && blockingOthers === 0;
const runtimes = [...seen].sort().join('/') || 'none found';
console.log(`${ok ? 'PASS' : 'FAIL'} ${label} (aws-cdk-lib ${version('aws-cdk-lib')}, constructs ${version('constructs')}, cdk-nag ${version('cdk-nag')}):`
  + ` unacknowledged AwsSolutions ${fmt(unacknowledged.AwsSolutions)}, MicrovmChecks ${fmt(unacknowledged.MicrovmChecks)}`
  + `${otherText ? `; other plugins: ${otherText}` : ''}`
  + `; acknowledged ${Object.entries(acknowledged).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`
  + `; handlers ${runtimes}, newest known ${expected}; synth exit ${synthRc}`);
for (const line of details.sort()) console.log(line);
for (const p of problems) console.log(`    problem: ${p}`);
for (const n of notes) console.log(`    note: ${n}`);
process.exit(ok ? 0 : 1);
