import type { IssuedToken, PortSpecification } from './types';

/** Why the endpoint refuses a token (every refusal is a 403 on the data plane). */
export type TokenRefusal = 'missing' | 'unknown' | 'expired' | 'other-vm';

/** What the endpoint makes of a token presented for one MicroVM. */
export interface TokenCheck {
  readonly record?: IssuedToken;
  readonly refusal?: TokenRefusal;
}

/**
 * The tokens CreateMicrovmAuthToken and CreateMicrovmShellAuthToken issued. The service's tokens are JWEs the
 * endpoint decrypts; the emulator's are random strings it looks up here, which checks the same things: issued by
 * this account's service, not expired, scoped to one MicroVM and to ports.
 */
export class TokenRegistry {
  private readonly issued: IssuedToken[] = [];
  private readonly byValue = new Map<string, IssuedToken>();

  public record(token: IssuedToken): void {
    this.issued.push(token);
    this.byValue.set(token.token, token);
  }

  /** Copies of every token issued, in issue order. */
  public all(): IssuedToken[] {
    return this.issued.map(copy);
  }

  /** The token's record when it exists and has not expired at `now`. */
  public valid(token: string, now: number): IssuedToken | undefined {
    const record = this.byValue.get(token);
    return record && now < record.expiresAt ? record : undefined;
  }

  /** Checks a token presented to `microvmId`'s endpoint at `now`; the port is checked separately (`allowsPort`). */
  public check(token: string | undefined, microvmId: string, now: number): TokenCheck {
    if (token === undefined || token === '') return { refusal: 'missing' };
    const record = this.byValue.get(token);
    if (!record) return { refusal: 'unknown' };
    if (now >= record.expiresAt) return { refusal: 'expired' };
    if (record.microvmId !== microvmId) return { refusal: 'other-vm' };
    return { record: copy(record) };
  }
}

/** Whether a token's `allowedPorts` cover `port` (`{ port }`, an inclusive `{ range }`, or `{ allPorts }`). */
export function allowsPort(token: IssuedToken, port: number): boolean {
  return token.allowedPorts.some((spec: PortSpecification) =>
    'allPorts' in spec || ('port' in spec && spec.port === port) || ('range' in spec && spec.range.startPort <= port && port <= spec.range.endPort));
}

function copy(token: IssuedToken): IssuedToken {
  return { ...token, allowedPorts: token.allowedPorts.map((p) => JSON.parse(JSON.stringify(p))) };
}
