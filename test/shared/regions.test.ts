import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator } from '../../src';
import { MICROVM_REGIONS, REGION_WARNING_ID } from '../../src/shared/regions';

function deploy(env?: { region?: string; account?: string }): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Stack', { env });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  new MicrovmOrchestrator(stack, 'Orch', { image });
  new MicrovmNetwork(stack, 'Extra');
  return stack;
}

function regionWarnings(stack: Stack) {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AWS Lambda MicroVMs is not known to be available'));
}

describe('Regions where the service is not known to run', () => {
  test('a concrete Region outside the list gets one warning per stack, naming the Region, the list and how to acknowledge', () => {
    const stack = deploy({ region: 'sa-east-1', account: '123456789012' });
    const warnings = regionWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe('/Stack');
    const text = JSON.stringify(warnings[0].entry.data);
    expect(text).toContain('sa-east-1');
    expect(text).toContain(MICROVM_REGIONS.checked);
    expect(text).toContain(`annotation::${REGION_WARNING_ID}`);
  });

  test.each(MICROVM_REGIONS.regions)('%s gets no warning', (region) => {
    expect(regionWarnings(deploy({ region, account: '123456789012' }))).toEqual([]);
  });

  test('a region-agnostic stack gets no warning', () => {
    expect(regionWarnings(deploy())).toEqual([]);
  });

  test('the warning can be acknowledged with the id it names', () => {
    // GIVEN
    const stack = deploy({ region: 'sa-east-1', account: '123456789012' });
    // WHEN
    Validations.of(stack).acknowledge({ id: `annotation::${REGION_WARNING_ID}`, reason: 'launched there since' });
    // THEN
    expect(regionWarnings(stack)).toEqual([]);
  });

  test('the README names exactly the Regions of the list', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('Lambda MicroVMs runs in'));
    expect(line).toBeDefined();
    const named = [...line!.matchAll(/`([a-z]{2}-[a-z]+-\d)`/g)].map((m) => m[1]).sort();
    expect(named).toEqual([...MICROVM_REGIONS.regions].sort());
    expect(line).toContain(MICROVM_REGIONS.checked);
  });
});
