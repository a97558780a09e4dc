import { CfnParameter, Reference, SecretValue, Stack, Token, Tokenization, aws_lambda as lambda } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { dynamicSecretReference, environmentSecret } from '../../shared/secrets';
import { invalidProp } from '../../shared/validation';

const MAX_ENTRIES = 50;
const RESERVED = new Set(['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
const FIX_SECRET = 'The environment is frozen into the snapshot every MicroVM starts from: read secrets at run time '
  + 'with the execution role (Secrets Manager, SSM SecureString) or pass them per launch in the run hook payload.';

/**
 * Checks an image environment against the service limits and the no-secrets rule. Values that are tokens are
 * skipped here and checked at synth by {@link findTokenSecrets}.
 */
export function validateEnvironment(environment: { [key: string]: string } | undefined): void {
  if (environment === undefined) return;
  const keys = Object.keys(environment);
  if (keys.length > MAX_ENTRIES) {
    throw invalidProp('environment', `${keys.length} variables`, `have at most ${MAX_ENTRIES} variables`,
      'Move configuration into a file in the build context or into the run hook payload.');
  }
  for (const key of keys) {
    const value = environment[key];
    if (Token.isUnresolved(key)) continue;
    if (key.length < 1 || key.length > 256 || /[\s=]/.test(key)) {
      throw invalidProp('environment', key, 'have keys of 1-256 characters with no whitespace or "="', 'Rename the variable.');
    }
    if (RESERVED.has(key) || key.startsWith('AWS_LAMBDA_')) {
      throw invalidProp(`environment.${key}`, key, 'not be a reserved variable (AWS_REGION, AWS_DEFAULT_REGION, AWS_LAMBDA_*, AWS credential variables)',
        'The service sets these itself; remove it, or use another name.');
    }
    if (typeof value !== 'string') {
      throw invalidProp(`environment.${key}`, value, 'be a string', 'Convert the value with String(...) or Token.asString(...).');
    }
    if (Token.isUnresolved(value)) continue;
    if (value.length > 4096) {
      throw invalidProp(`environment.${key}`, value, 'be at most 4096 characters', 'Put large values into a file in the build context.', true);
    }
    const reason = environmentSecret(key, value);
    if (reason) {
      throw invalidProp(`environment.${key}`, value, `not hold a secret (${reason})`, FIX_SECRET, true);
    }
  }
}

/**
 * For each environment value that is a token, the reason it references a secret: a `SecretValue`, a Secrets
 * Manager or SSM SecureString dynamic reference, or a NoEcho CloudFormation parameter. Meant for synth-time
 * validation, when every parameter of the stack exists. Messages never include the value.
 */
export function findTokenSecrets(scope: IConstruct, environment: { [key: string]: string } | undefined): string[] {
  if (environment === undefined) return [];
  const stack = Stack.of(scope);
  const noEcho = new Set<string>();
  for (const child of stack.node.findAll()) {
    if (child instanceof CfnParameter && child.noEcho) noEcho.add(stack.resolve(child.logicalId));
  }
  const errors: string[] = [];
  for (const [key, value] of Object.entries(environment)) {
    if (typeof value !== 'string' || !Token.isUnresolved(value)) continue;
    const reason = tokenSecret(stack, key, value, noEcho);
    if (reason) errors.push(invalidProp(`environment.${key}`, value, `not reference a secret (it is ${reason})`, FIX_SECRET, true).message);
  }
  return errors;
}

function tokenSecret(stack: Stack, key: string, value: string, noEcho: Set<string>): string | undefined {
  for (const token of Tokenization.reverseString(value).tokens) {
    if (SecretValue.isSecretValue(token)) return 'a SecretValue';
    if (token instanceof Reference && token.target instanceof CfnParameter && token.target.noEcho) return 'a NoEcho parameter';
  }
  let resolved: unknown;
  try {
    resolved = stack.resolve(value);
  } catch {
    return undefined; // a token that cannot be resolved here carries nothing we can judge.
  }
  if (typeof resolved === 'string') {
    // a lazy value that resolved to a literal lands in the template as is: judge it like one.
    const reference = dynamicSecretReference(resolved);
    if (reference) return reference;
    const reason = environmentSecret(key, resolved);
    return reason ? `a token whose value is a secret: ${reason}` : undefined;
  }
  return scanResolved(resolved, noEcho);
}

function scanResolved(value: unknown, noEcho: Set<string>): string | undefined {
  if (typeof value === 'string') return dynamicSecretReference(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = scanResolved(item, noEcho);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    const ref = (value as { Ref?: unknown }).Ref;
    if (typeof ref === 'string' && noEcho.has(ref)) return 'a NoEcho parameter';
    for (const item of Object.values(value as Record<string, unknown>)) {
      const found = scanResolved(item, noEcho);
      if (found) return found;
    }
  }
  return undefined;
}

/** Renders the environment as the L1's Key/Value list, in key order so the template is stable. */
export function renderEnvironment(environment: { [key: string]: string } | undefined): lambda.CfnMicrovmImage.EnvironmentVariableProperty[] {
  return Object.keys(environment ?? {}).sort().map((key) => ({ key, value: environment![key] }));
}
