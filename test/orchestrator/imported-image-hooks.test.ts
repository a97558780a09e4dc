import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MicrovmImage } from '../../src/image';
import { MicrovmOrchestrator } from '../../src/orchestrator';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox';

function stack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
}

describe('an imported image keeps the hooks-port guard', () => {
  test('app ports that include the imported image\'s hooks port fail synth with the prop and the fix', () => {
    // GIVEN
    const s = stack();
    const image = MicrovmImage.fromImageAttributes(s, 'Image', { imageArn: ARN, latestActiveVersion: '3', hooksPort: 9000 });

    // WHEN / THEN
    expect(image.hooksPort).toBe(9000);
    expect(() => new MicrovmOrchestrator(s, 'Orch', { image, appPorts: [8080, 9000] }))
      .toThrow(/appPorts must not include the image's hooks port 9000.*serve the app on another port/);
  });

  test('other app ports are accepted, and the run configuration records the hooks port', () => {
    // GIVEN
    const s = stack();
    const image = MicrovmImage.fromImageAttributes(s, 'Image', { imageArn: ARN, latestActiveVersion: '3', hooksPort: 9000 });

    // WHEN
    const orchestrator = new MicrovmOrchestrator(s, 'Orch', { image, appPorts: [8080] });

    // THEN the handler gets the hooks port, so it can refuse it in token requests too
    const fn = Template.fromStack(s).toJSON().Resources[s.getLogicalId(orchestrator.orchestratorFunction.node.defaultChild as CfnElement)];
    expect(fn.Properties.Environment.Variables.MICROVM_HOOKS_PORT).toBe('9000');
  });

  test('an import without hooksPort has no guard to apply', () => {
    // GIVEN
    const s = stack();
    const image = MicrovmImage.fromImageAttributes(s, 'Image', { imageArn: ARN, latestActiveVersion: '3' });

    // WHEN / THEN: without a known hooks port nothing can be refused
    expect(image.hooksPort).toBeUndefined();
    expect(() => new MicrovmOrchestrator(s, 'Orch', { image, appPorts: [9000] })).not.toThrow();
  });

  test.each([0, 65536, 80.5])('an invalid hooksPort %p fails at import', (port) => {
    expect(() => MicrovmImage.fromImageAttributes(stack(), 'Image', { imageArn: ARN, hooksPort: port }))
      .toThrow(/hooksPort must be a port from 1 to 65535/);
  });
});
