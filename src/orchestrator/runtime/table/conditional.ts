/** True for DynamoDB's "condition not met" answer, which is control flow here, not a failure. */
export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/**
 * Sends one conditional write: its result, or `undefined` when the condition was not met (another writer got
 * there first). Every other error is rethrown.
 */
export async function conditional<T>(send: () => Promise<T>): Promise<T | undefined> {
  try {
    return await send();
  } catch (err) {
    if (isConditionFailed(err)) return undefined;
    throw err;
  }
}

/** {@link conditional} for a write whose result is not needed: true when it was made, false when its condition failed. */
export async function conditionalWrite(send: () => Promise<unknown>): Promise<boolean> {
  return (await conditional(async () => {
    await send();
    return true;
  })) ?? false;
}
