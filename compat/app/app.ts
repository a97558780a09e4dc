// The README's minimal example as a user writes it in TypeScript, compiled by tsc (strict, skipLibCheck: false)
// against the packed library. Two stacks: one with a concrete region, one region-agnostic.
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImageCode, MicrovmChecks, MicrovmImage, MicrovmOrchestrator } from 'cdk-lambda-microvms';

const app = new App();

function minimal(id: string, props: StackProps): Stack {
  const stack = new Stack(app, id, props);
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory('./sandbox') });
  new MicrovmOrchestrator(stack, 'Sessions', { image });
  return stack;
}

minimal('Minimal', { env: { region: 'us-east-1' } });
minimal('MinimalAgnostic', {});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
