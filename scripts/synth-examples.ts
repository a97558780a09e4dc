import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { summarizeAssembly } from './summarize-assembly';

/**
 * The first half of the main job: `cdk synth` (the real CLI) on every TypeScript example, each of which
 * registers AwsSolutionsChecks and MicrovmChecks, then a summary of what each stack creates.
 * An unacknowledged ERROR from either pack fails the synth and this script.
 */
export function synthExamples(root: string): void {
  const examples = path.join(root, 'examples');
  const apps = fs.readdirSync(examples)
    .filter((name) => fs.existsSync(path.join(examples, name, 'cdk.json')) && fs.existsSync(path.join(examples, name, 'app.ts')))
    .sort();
  for (const name of apps) {
    const dir = path.join(examples, name);
    const outdir = path.join(dir, 'cdk.out');
    console.log(`\n== examples/${name}: cdk synth with AwsSolutionsChecks + MicrovmChecks`);
    const started = Date.now();
    execFileSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir], {
      cwd: dir,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    });
    console.log(`  synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s, no unacknowledged nag errors`);
    console.log(summarizeAssembly(outdir));
  }
}

if (require.main === module) {
  synthExamples(path.join(__dirname, '..'));
}
