import { Size, Token } from 'aws-cdk-lib';
import { invalidProp } from '../shared/validation';

/**
 * The baseline memory of every MicroVM launched from an image (one image has one size).
 *
 * vCPUs follow memory (1 vCPU per 2 GiB of baseline) and a MicroVM can burst to four times its baseline. You
 * pay the baseline while a MicroVM runs, plus per-second usage above it. The account's memory quota counts the
 * baseline (the documented example is 400 GB = 200 × 2 GB; AWS does not state it outright).
 */
export class MicrovmMemory {
  /** 512 MiB baseline, 0.25 vCPU (burst to 2 GiB, 1 vCPU), 8 GB disk. */
  public static readonly MIB_512 = new MicrovmMemory(512);
  /** 1 GiB baseline, 0.5 vCPU (burst to 4 GiB, 2 vCPU), 8 GB disk. */
  public static readonly GIB_1 = new MicrovmMemory(1024);
  /** 2 GiB baseline, 1 vCPU (burst to 8 GiB, 4 vCPU), 8 GB disk. The service default. */
  public static readonly GIB_2 = new MicrovmMemory(2048);
  /** 4 GiB baseline, 2 vCPU (burst to 16 GiB, 8 vCPU), 16 GB disk. */
  public static readonly GIB_4 = new MicrovmMemory(4096);
  /** 8 GiB baseline, 4 vCPU (burst to 32 GiB, 16 vCPU), 32 GB disk. */
  public static readonly GIB_8 = new MicrovmMemory(8192);

  /**
   * A size the constants above do not list yet. The service does not enumerate its sizes in its API (the five
   * constants come from its sizing table), so this is the escape hatch for a size AWS adds later; it must be a
   * whole number of MiB, at least 512.
   */
  public static of(size: Size): MicrovmMemory {
    if (size.isUnresolved()) {
      throw invalidProp('memory', 'a token', 'be a concrete size', 'Use one of the MicrovmMemory constants.');
    }
    let mebibytes: number;
    try {
      mebibytes = size.toMebibytes();
    } catch {
      throw invalidProp('memory', size.toString(), 'be a whole number of MiB', 'Use one of the MicrovmMemory constants, e.g. MicrovmMemory.GIB_2.');
    }
    if (!Token.isUnresolved(mebibytes) && mebibytes < 512) {
      throw invalidProp('memory', `${mebibytes} MiB`, 'be at least 512 MiB', 'Use one of the MicrovmMemory constants, e.g. MicrovmMemory.MIB_512.');
    }
    return new MicrovmMemory(mebibytes);
  }

  /**
   * @param sizeInMiB the baseline memory in MiB, as the service's `minimumMemoryInMiB` takes it.
   */
  private constructor(public readonly sizeInMiB: number) {}

  /** the baseline memory as a `Size`. */
  public get size(): Size {
    return Size.mebibytes(this.sizeInMiB);
  }
}
