import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import type { MicrovmEmulator } from '../../src/local';

/** A real SDK client pointed at the emulator; SDK retries off unless asked for. */
export function clientFor(emulator: MicrovmEmulator, maxAttempts = 1): LambdaMicrovmsClient {
  return new LambdaMicrovmsClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts,
  });
}

/** The SDK error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}
