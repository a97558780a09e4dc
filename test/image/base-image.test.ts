import { App, Stack } from 'aws-cdk-lib';
import { imageProps, newStack, SANDBOX } from './util';
import { BaseImage, ImageCode, MicrovmImage } from '../../src/image';

function baseOf(stack: Stack, baseImage?: BaseImage): { arn: unknown; version: unknown } {
  new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX), baseImage });
  const props = imageProps(stack);
  return { arn: props.BaseImageArn, version: props.BaseImageVersion };
}

describe('BaseImage', () => {
  test('defaults to the managed AL2023 image at the documented default version', () => {
    // WHEN
    const base = baseOf(newStack());
    // THEN
    expect(base.arn).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:aws:microvm-image:al2023-1']] });
    expect(base.version).toBe('0');
    expect(BaseImage.AL2023_DEFAULT_VERSION).toBe('0');
  });

  test('renders the region of an environment-agnostic stack as a token', () => {
    // WHEN
    const base = baseOf(new Stack(new App(), 'Agnostic'));
    // THEN
    expect(base.arn).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':aws:microvm-image:al2023-1']] });
  });

  test('al2023({ version }) pins an explicit version', () => {
    expect(baseOf(newStack(), BaseImage.al2023({ version: '3' })).version).toBe('3');
  });

  test('the context key moves the default version for the whole app', () => {
    // GIVEN
    const stack = newStack('Stack', { [BaseImage.AL2023_VERSION_CONTEXT_KEY]: 2 });
    // WHEN / THEN
    expect(baseOf(stack).version).toBe('2');
    expect(BaseImage.AL2023_VERSION_CONTEXT_KEY).toBe('cdk-lambda-microvms:al2023BaseImageVersion');
  });

  test('an explicit version wins over the context key', () => {
    // GIVEN
    const stack = newStack('Stack', { [BaseImage.AL2023_VERSION_CONTEXT_KEY]: '2' });
    // WHEN / THEN
    expect(baseOf(stack, BaseImage.al2023({ version: '4' })).version).toBe('4');
  });

  test('fromArn uses any base image at an explicit version', () => {
    // WHEN
    const base = baseOf(newStack(), BaseImage.fromArn('arn:aws:lambda:us-east-1:aws:microvm-image:al2023-2', '1'));
    // THEN
    expect(base).toEqual({ arn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-2', version: '1' });
  });

  test('fails if the version is in the read-back "N.0" form', () => {
    expect(() => BaseImage.al2023({ version: '1.0' })).toThrow(/baseImage.version must be the bare version the service accepts on input, got "1.0"\. Use "1"/);
  });

  test('fails if the context version is invalid', () => {
    // GIVEN
    const stack = newStack('Stack', { [BaseImage.AL2023_VERSION_CONTEXT_KEY]: 'latest version' });
    // WHEN / THEN
    expect(() => baseOf(stack)).toThrow(/context cdk-lambda-microvms:al2023BaseImageVersion must be a managed base image version such as "1", got "latest version"/);
  });

  test.each(['', 'v 1'])('fails if the version is %j', (version) => {
    expect(() => BaseImage.fromArn('arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1', version)).toThrow(/baseImage.version must be a managed base image version/);
  });

  test('fails if the ARN is not a MicroVM image ARN', () => {
    expect(() => BaseImage.fromArn('arn:aws:lambda:us-east-1:aws:function:al2023', '1')).toThrow(/baseImage.baseImageArn must be a MicroVM image ARN/);
  });
});
