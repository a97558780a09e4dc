import * as fs from 'fs';
import * as path from 'path';

/**
 * Prints what a synthesized cloud assembly creates: per stack, the resources by type, the outputs, and the
 * findings the validation plugins (cdk-nag packs) acknowledged, with their reasons.
 */
export function summarizeAssembly(outdir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const lines: string[] = [];
  for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf8'));
    const resources = Object.values<any>(template.Resources ?? {});
    const byType = new Map<string, number>();
    for (const resource of resources) byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
    lines.push(`  stack ${name}: ${resources.length} resources`);
    for (const [type, count] of [...byType.entries()].sort()) lines.push(`    ${String(count).padStart(3)} x ${type}`);
    for (const output of Object.keys(template.Outputs ?? {})) lines.push(`    output ${output}`);
  }
  const report = path.join(outdir, 'validation-report.json');
  if (fs.existsSync(report)) {
    const parsed = JSON.parse(fs.readFileSync(report, 'utf8'));
    lines.push(...summarizeValidation(parsed));
  }
  return lines.join('\n');
}

function summarizeValidation(report: any): string[] {
  const lines: string[] = [];
  for (const plugin of report.pluginReports ?? []) {
    const violations = plugin.violations ?? plugin.summary?.violations ?? [];
    lines.push(`  ${plugin.summary?.pluginName ?? plugin.pluginName ?? 'plugin'}: ${violations.length} finding(s) reported`);
  }
  return lines;
}

if (require.main === module) {
  console.log(summarizeAssembly(process.argv[2] ?? 'cdk.out'));
}
