import { Size } from 'aws-cdk-lib';
import { imageProps, newStack, SANDBOX } from './util';
import { ImageCode, MicrovmImage, MicrovmMemory } from '../../src/image';

describe('MicrovmMemory', () => {
  test.each([
    [MicrovmMemory.MIB_512, 512],
    [MicrovmMemory.GIB_1, 1024],
    [MicrovmMemory.GIB_2, 2048],
    [MicrovmMemory.GIB_4, 4096],
    [MicrovmMemory.GIB_8, 8192],
  ])('renders %p as MinimumMemoryInMiB %p', (memory, mib) => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX), memory });
    // THEN
    expect(imageProps(stack).Resources).toEqual([{ MinimumMemoryInMiB: mib }]);
    expect(memory.size.toMebibytes()).toBe(mib);
  });

  test('of() accepts a future size in whole MiB', () => {
    expect(MicrovmMemory.of(Size.gibibytes(16)).sizeInMiB).toBe(16384);
  });

  test('fails if of() is given less than 512 MiB', () => {
    expect(() => MicrovmMemory.of(Size.mebibytes(256))).toThrow(/memory must be at least 512 MiB, got "256 MiB"/);
  });

  test('fails if of() is given a fraction of a MiB', () => {
    expect(() => MicrovmMemory.of(Size.kibibytes(1536))).toThrow(/memory must be a whole number of MiB/);
  });
});
