// How the runtime reads AWS SDK errors, shared by the session API and the sweeper.

/** Name of an SDK error, safe to log (never the message, which may echo request fields). */
export function errorName(err: unknown): string {
  return (err as { name?: string } | undefined)?.name ?? 'Error';
}

/** SDK error messages carry ids and reasons, never request payloads; still capped for the log. */
export function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 300) : '';
}
