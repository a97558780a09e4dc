import { App, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lib from '../../src';
import { ImageCode, MicrovmImage } from '../../src/image';
import { MicrovmOrchestrator, SessionOwner } from '../../src/orchestrator';
import { OWNER_KEYS } from '../../src/orchestrator/runtime/owner';
import { ENV } from '../../src/shared/contract';

function ownerKeyOf(sessionOwner?: SessionOwner): unknown {
  const stack = new Stack(new App(), 'Stack');
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts'), 'sandbox.zip') });
  new MicrovmOrchestrator(stack, 'Orch', { image, sessionOwner });
  const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('session API') },
  });
  const [fn] = Object.values(fns);
  return fn.Properties.Environment.Variables[ENV.OWNER_KEY];
}

describe('sessionOwner', () => {
  test.each([
    [undefined, 'PRINCIPAL'],
    [SessionOwner.PRINCIPAL, 'PRINCIPAL'],
    [SessionOwner.ROLE_SESSION, 'ROLE_SESSION'],
  ])('%s reaches the session API as MICROVM_OWNER_KEY=%s', (sessionOwner, expected) => {
    expect(ownerKeyOf(sessionOwner)).toBe(expected);
  });

  test('the enum and the runtime agree on the values, and the library exports the enum', () => {
    expect(Object.values(SessionOwner).sort()).toEqual([...OWNER_KEYS].sort());
    expect(lib.SessionOwner).toBe(SessionOwner);
  });
});
