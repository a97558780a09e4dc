import { Fn, aws_iam as iam } from 'aws-cdk-lib';
import { compliantImage, executionRole, newStack, ruleFindings, runConfigurationFunction } from './fixtures';

const RULE = 'ExecutionRoleWildcard';
const FLAGGED = ['MicrovmChecks-ExecutionRoleWildcard'];

function withStatements(statements: unknown[]) {
  const stack = newStack();
  executionRole(stack, statements);
  return { stack, fn: runConfigurationFunction(stack, compliantImage(stack)) };
}

describe('ExecutionRoleWildcard', () => {
  test('passes a role scoped to its log group, with partial wildcards and resource-less actions on *', () => {
    const { fn } = withStatements([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/vm:*' },
      { Effect: 'Allow', Action: 's3:GetObject*', Resource: 'arn:aws:s3:::bucket/prefix/*' },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'cloudwatch:PutMetricData', 'ec2:DescribeNetworkInterfaces', 's3:ListAllMyBuckets'], Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*' },
    ]);
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test.each([
    ['Action "*"', { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::bucket' }],
    ['a service-wide action', { Effect: 'Allow', Action: ['s3:*'], Resource: 'arn:aws:s3:::bucket' }],
    ['NotAction', { Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:aws:s3:::bucket' }],
    ['Resource "*" for a non-list action', { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    ['NotResource', { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::other/*' }],
  ])('fails if an inline policy has %s', (_name, statement) => {
    const { fn } = withStatements([statement]);
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('fails if a separate AWS::IAM::Policy attached to the role has a wildcard', () => {
    const stack = newStack();
    const role = executionRole(stack);
    new iam.CfnPolicy(stack, 'Extra', {
      policyName: 'extra',
      roles: [role.ref],
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t' }] },
    });
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('fails if the role has AdministratorAccess', () => {
    const stack = newStack();
    const role = executionRole(stack);
    role.managedPolicyArns = [`arn:${stack.partition}:iam::aws:policy/AdministratorAccess`];
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('fails if an escape hatch widens the role', () => {
    const stack = newStack();
    const role = executionRole(stack);
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual([]);
    role.addPropertyOverride('Policies.0.PolicyDocument.Statement.0.Resource', '*');
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('finds the role from a literal ARN with its name', () => {
    const stack = newStack();
    const role = executionRole(stack, [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    role.roleName = 'vm-execution';
    const fn = runConfigurationFunction(stack, compliantImage(stack), { executionRoleArn: 'arn:aws:iam::123456789012:role/vm-execution' });
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('ignores wildcard roles the run configuration does not use', () => {
    const stack = newStack();
    executionRole(stack);
    new iam.CfnRole(stack, 'AdminRole', {
      assumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      policies: [{ policyName: 'all', policyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
    });
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('checks a Lambda-trusted role referenced elsewhere in the run configuration, and tokens it cannot follow pass', () => {
    const stack = newStack();
    const role = executionRole(stack, [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const viaName = runConfigurationFunction(stack, compliantImage(stack), {
      executionRoleArn: Fn.join('', ['arn:aws:iam::123456789012:role/', role.ref]),
    }, 'ViaName');
    const imported = runConfigurationFunction(stack, compliantImage(stack, 'Image2'), { executionRoleArn: Fn.importValue('vm-role-arn') }, 'Imported');
    expect(ruleFindings(viaName, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(imported, RULE)).toEqual([]);
  });
});
