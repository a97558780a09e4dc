// The README's minimal example as a user writes it in plain JavaScript (CommonJS, no compiler).
// Same four stacks as app.ts: one with a concrete region, one region-agnostic, two with checkpoints.
const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { Egress, ImageCode, MicrovmChecks, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator } = require('cdk-lambda-microvms');

const app = new App();

function minimal(id, props) {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  new MicrovmOrchestrator(stack, 'Sessions', { image });
  return stack;
}

function withCheckpoints(id, props, prefixListId) {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  let egress;
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
