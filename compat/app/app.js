// The README's minimal example as a user writes it in plain JavaScript (CommonJS, no compiler).
// Same two stacks as app.ts: one with a concrete region, one region-agnostic.
const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { ImageCode, MicrovmChecks, MicrovmImage, MicrovmOrchestrator } = require('cdk-lambda-microvms');

const app = new App();

function minimal(id, props) {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  new MicrovmOrchestrator(stack, 'Sessions', { image });
  return stack;
}

minimal('Minimal', { env: { region: 'us-east-1' } });
minimal('MinimalAgnostic', {});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
