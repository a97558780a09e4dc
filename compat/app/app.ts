// The README's minimal example as a user writes it in TypeScript, compiled by tsc (strict, skipLibCheck: false)
// against the packed library. Four stacks: one with a concrete region, one region-agnostic, and two with
// checkpoints (onSuspend): one on a network whose S3 endpoint names its prefix list, one region-agnostic on the
// default network, which reads the prefix list at deploy time.
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Egress, ImageCode, MicrovmChecks, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator } from 'cdk-lambda-microvms';
import { AwsSolutionsChecks } from 'cdk-nag';

const app = new App();

function minimal(id: string, props: StackProps): Stack {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  new MicrovmOrchestrator(stack, 'Sessions', { image });
  return stack;
}

function withCheckpoints(id: string, props: StackProps, prefixListId?: string): Stack {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  let egress: Egress | undefined;
  if (prefixListId) {
    const network = new MicrovmNetwork(stack, 'Isolated');
    network.addS3Endpoint({ prefixListId });
    egress = Egress.network(network);
  }
  new MicrovmOrchestrator(stack, 'Sessions', { image, egress, checkpoints: { port: 8181, onSuspend: true } });
  return stack;
}

minimal('Minimal', { env: { region: 'us-east-1' } });
minimal('MinimalAgnostic', {});
withCheckpoints('Checkpoints', { env: { region: 'us-east-1' } }, 'pl-63a5400a'); // com.amazonaws.us-east-1.s3
withCheckpoints('CheckpointsAgnostic', {});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
