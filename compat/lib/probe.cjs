// Preloaded into the app (`node -r .../probe.cjs app.js`) so the app stays the README's example verbatim.
// A validation plugin with no unacknowledged finding leaves no trace in validation-report.json, so "clean" and
// "never ran" would look alike: this records which plugins the app registered with Validations.addPlugins(), that
// each one's validate() ran, and how many findings it returned (before aws-cdk-lib applies acknowledgements).
// Written to $COMPAT_PROBE_FILE when the app exits (outside cdk.out, which plugins must not modify).
'use strict';
const fs = require('fs');
const { createRequire } = require('module');
const path = require('path');

const out = process.env.COMPAT_PROBE_FILE;
if (out) {
  // the app's own aws-cdk-lib (the one in its node_modules), not one next to this file.
  const { Validations } = createRequire(path.resolve('package.json'))('aws-cdk-lib');
  const plugins = {};
  const original = Validations.prototype.addPlugins;
  Validations.prototype.addPlugins = function addPlugins(...added) {
    for (const plugin of added) {
      const record = (plugins[plugin.name] = { registered: true, validated: 0, findings: 0 });
      const validate = plugin.validate;
      plugin.validate = function (context) {
        const report = validate.call(this, context);
        record.validated += 1;
        record.findings += report?.violations?.length ?? 0;
        return report;
      };
    }
    return original.apply(this, added);
  };
  process.on('exit', () => fs.writeFileSync(out, JSON.stringify({ plugins }, undefined, 2)));
}
