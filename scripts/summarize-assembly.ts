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
  lines.push(...summarizeAcknowledgements(outdir, manifest));
  return lines.join('\n');
}

/**
 * The findings the app acknowledged instead of fixing, each with its reason: what a reviewer should read.
 * `Validations.of(x).acknowledge()` records them as construct metadata in the assembly.
 */
function summarizeAcknowledgements(outdir: string, manifest: any): string[] {
  const acknowledged: string[] = [];
  for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const file = path.join(outdir, `${name}.metadata.json`);
    const metadata: Record<string, any[]> = artifact.metadata
      ?? (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
    for (const [constructPath, entries] of Object.entries(metadata)) {
      for (const entry of entries) {
        if (!entry.data || typeof entry.data !== 'object' || Array.isArray(entry.data)) continue;
        for (const [id, reason] of Object.entries<string>(entry.data)) {
          if (!id.includes('::')) continue;
          const rule = id.replace(/^Annotation::/, '');
          acknowledged.push(`    ${rule} at ${constructPath.replace(/^\//, '')}\n      reason: ${reason}`);
        }
      }
    }
  }
  return [
    `  nag: AwsSolutionsChecks and MicrovmChecks found nothing unacknowledged; ${acknowledged.length} finding(s) acknowledged with a reason:`,
    ...acknowledged.sort(),
  ];
}

if (require.main === module) {
  console.log(summarizeAssembly(process.argv[2] ?? 'cdk.out'));
}
