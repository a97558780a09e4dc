import { ApiError } from '../../../src/orchestrator/runtime/api-error';
import { ConfigError, parseConfig } from '../../../src/orchestrator/runtime/config';
import { ownerPrincipal } from '../../../src/orchestrator/runtime/owner';
import { ENV } from '../../../src/shared/contract';

const BACKEND = 'arn:aws:iam::111111111111:role/Backend';

describe('ownerPrincipal in PRINCIPAL mode', () => {
  test.each([
    ['an ECS task', 'arn:aws:sts::111111111111:assumed-role/Backend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-a', BACKEND],
    ['another ECS task', 'arn:aws:sts::111111111111:assumed-role/Backend/9a8b7c6d5e4f30211f2e3d4c5b6a7980-task-b', BACKEND],
    ['an EKS IRSA pod', 'arn:aws:sts::111111111111:assumed-role/Backend/botocore-session-1700000000', BACKEND],
    ['an EKS Pod Identity pod', 'arn:aws:sts::111111111111:assumed-role/Backend/eks-prod-api-7d9f-4b1e2c3d-5f6a-7b8c-9d0e-1f2a3b4c5d6e', BACKEND],
    ['an EC2 instance', 'arn:aws:sts::111111111111:assumed-role/Backend/i-0123456789abcdef0', BACKEND],
    ['a Lambda function', 'arn:aws:sts::111111111111:assumed-role/fn-role_1+=,.@-x/my-function', 'arn:aws:iam::111111111111:role/fn-role_1+=,.@-x'],
    ['an IAM Identity Center user', 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/jane@example.com',
      'arn:aws:iam::111111111111:role/AWSReservedSSO_Developers_0123456789abcdef'],
    ['aws-cn', 'arn:aws-cn:sts::111111111111:assumed-role/Backend/task', 'arn:aws-cn:iam::111111111111:role/Backend'],
    ['aws-us-gov', 'arn:aws-us-gov:sts::111111111111:assumed-role/Backend/task', 'arn:aws-us-gov:iam::111111111111:role/Backend'],
    ['aws-iso-b', 'arn:aws-iso-b:sts::111111111111:assumed-role/Backend/task', 'arn:aws-iso-b:iam::111111111111:role/Backend'],
  ])('maps the role session of %s to its role', (_, callerArn, principal) => {
    expect(ownerPrincipal(callerArn, 'PRINCIPAL')).toBe(principal);
  });

  test('keeps the account: the same role name in another account is another principal', () => {
    // WHEN
    const here = ownerPrincipal('arn:aws:sts::111111111111:assumed-role/Backend/task', 'PRINCIPAL');
    const there = ownerPrincipal('arn:aws:sts::222222222222:assumed-role/Backend/task', 'PRINCIPAL');

    // THEN
    expect(here).toBe(BACKEND);
    expect(there).toBe('arn:aws:iam::222222222222:role/Backend');
  });

  test.each([
    ['an IAM user', 'arn:aws:iam::111111111111:user/alice'],
    ['an IAM user with a path', 'arn:aws:iam::111111111111:user/division_abc/subdivision_xyz/Bob'],
    ['the root user', 'arn:aws:iam::111111111111:root'],
    ['a federated user', 'arn:aws:sts::111111111111:federated-user/carol'],
    ['an IAM user in aws-cn', 'arn:aws-cn:iam::111111111111:user/alice'],
  ])('returns %s as it is, so its owner key is unchanged', (_, callerArn) => {
    expect(ownerPrincipal(callerArn, 'PRINCIPAL')).toBe(callerArn);
    expect(ownerPrincipal(callerArn, 'ROLE_SESSION')).toBe(callerArn);
  });
});

describe('ownerPrincipal in ROLE_SESSION mode', () => {
  test('keeps the full role session ARN', () => {
    // GIVEN
    const taskA = 'arn:aws:sts::111111111111:assumed-role/Backend/task-a';
    const user = 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/jane@example.com';

    // THEN
    expect(ownerPrincipal(taskA, 'ROLE_SESSION')).toBe(taskA);
    expect(ownerPrincipal(user, 'ROLE_SESSION')).toBe(user);
  });
});

describe('ownerPrincipal refuses what it cannot parse', () => {
  test.each([
    'not-an-arn',
    'arn:aws:sts::111111111111:assumed-role/Backend',
    'arn:aws:sts::111111111111:assumed-role/Backend/',
    'arn:aws:sts::111111111111:assumed-role//task',
    'arn:aws:sts::111111111111:assumed-role/Backend/task/extra',
    'arn:aws:sts::111111111111:assumed-role/Backend/task name',
    'arn:aws:sts::11111111111:assumed-role/Backend/task',
    'arn:aws:sts:us-east-1:111111111111:assumed-role/Backend/task',
    'arn:aws:iam::111111111111:role/Backend',
    'arn:aws:iam::111111111111:user/',
    'arn:aws:iam::111111111111:root/x',
    'arn:aws:sts::111111111111:federated-user/',
    'arn:gcp:sts::111111111111:assumed-role/Backend/task',
    'arn:aws:s3:::bucket',
    ' arn:aws:iam::111111111111:user/alice',
    'arn:aws:iam::111111111111:user/alice\n',
  ])('%j is a 403 in both modes', (callerArn) => {
    for (const mode of ['PRINCIPAL', 'ROLE_SESSION'] as const) {
      let thrown: unknown;
      try {
        ownerPrincipal(callerArn, mode);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ApiError);
      const e = thrown as ApiError;
      expect(e.statusCode).toBe(403);
      expect(e.code).toBe('Forbidden');
      expect(e.message).toMatch(/IAM user, root, assumed-role or federated-user ARN/);
      expect(e.message).not.toContain(callerArn.trim() || '\u0000');
    }
  });
});

describe(`parseConfig: ${ENV.OWNER_KEY}`, () => {
  const BASE = { [ENV.TABLE_NAME]: 'sessions', [ENV.IMAGE_ARN]: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox' };

  test.each([
    [undefined, 'PRINCIPAL'],
    ['', 'PRINCIPAL'],
    ['  ', 'PRINCIPAL'],
    ['PRINCIPAL', 'PRINCIPAL'],
    ['ROLE_SESSION', 'ROLE_SESSION'],
    [' ROLE_SESSION ', 'ROLE_SESSION'],
  ])('%j is %s', (value, expected) => {
    expect(parseConfig({ ...BASE, [ENV.OWNER_KEY]: value }).ownerKey).toBe(expected);
  });

  test.each(['principal', 'ROLE', 'SESSION', 'ROLE_SESSION,PRINCIPAL'])('%j is a ConfigError naming the variable and the values', (value) => {
    expect(() => parseConfig({ ...BASE, [ENV.OWNER_KEY]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...BASE, [ENV.OWNER_KEY]: value }))
      .toThrow(`MICROVM_OWNER_KEY must be one of PRINCIPAL, ROLE_SESSION or empty (PRINCIPAL), got ${JSON.stringify(value)}`);
  });
});
