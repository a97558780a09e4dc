// Reading a Lambda environment: the helpers both config parsers (session API and sweeper) use, so a variable is
// trimmed, defaulted and reported the same way by both.

/** Thrown when the environment cannot describe a safe orchestrator; the handler refuses every request. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A Lambda environment (names in `ENV`). */
export type Env = Record<string, string | undefined>;

/** Throws the {@link ConfigError} every parser uses: the variable, the rule it breaks and the value (never secret). */
export function fail(name: string, value: string, rule: string): never {
  const shown = value.length > 200 ? `${value.slice(0, 197)}...` : value;
  throw new ConfigError(`${name} must ${rule}, got ${JSON.stringify(shown)}. Fix the MicrovmOrchestrator props or the function's environment.`);
}

/** The trimmed value; undefined when unset or blank. */
export function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) fail(name, '', 'be set');
  return value;
}

/** A whole number from `min` to `max` (of `unit`, named in the message), or undefined when unset. */
export function optionalInt(env: Env, name: string, min: number, max: number, unit?: string): number | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(name, raw, `be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`);
  }
  return value;
}
