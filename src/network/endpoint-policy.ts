import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { invalidProp } from '../shared/validation';

/**
 * What a VPC endpoint of a `MicrovmNetwork` lets code in a MicroVM reach.
 *
 * An endpoint without a policy admits any principal, with credentials from any account, to any resource of the
 * service. Code in a MicroVM can bring its own credentials, so an open S3 endpoint lets it upload to a bucket in
 * someone else's account: the classic exfiltration path from an "isolated" sandbox. The endpoint policy is a
 * ceiling on top of IAM: a call must be allowed by both.
 */
export class EndpointPolicy {
  /**
   * Any action on resources owned by the stack's account (condition `aws:ResourceAccount`). The default of
   * `addS3Endpoint()`: buckets of other accounts, AWS-owned ones included (for example the Amazon Linux package
   * repositories), are out of reach.
   */
  public static accountResources(): EndpointPolicy {
    return new EndpointPolicy((scope) => [new iam.PolicyStatement({
      sid: 'OnlyResourcesOfThisAccount',
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:ResourceAccount': Stack.of(scope).account } },
    })]);
  }

  /**
   * Any action by callers signing with credentials of the stack's account (condition `aws:PrincipalAccount`).
   * The default of `addInterfaceEndpoint()`: it works for services whose resources AWS owns (Bedrock foundation
   * models) and stops code that brings another account's credentials.
   */
  public static accountPrincipals(): EndpointPolicy {
    return new EndpointPolicy((scope) => [new iam.PolicyStatement({
      sid: 'OnlyCallersOfThisAccount',
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:PrincipalAccount': Stack.of(scope).account } },
    })]);
  }

  /**
   * Any action on exactly these resource ARNs (wildcards allowed, for example `arn:aws:s3:::cache-bucket/*`).
   */
  public static resources(arns: string[]): EndpointPolicy {
    if (arns.length === 0) {
      throw invalidProp('EndpointPolicy.resources(arns)', arns, 'list at least one ARN',
        'Name the resources the MicroVMs may reach, or leave the policy out for the endpoint\'s default.');
    }
    return new EndpointPolicy(() => [new iam.PolicyStatement({
      sid: 'OnlyTheseResources',
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: arns,
    })]);
  }

  /**
   * Exactly these statements. Each must name its principals (`new iam.AnyPrincipal()` for "whoever signs").
   */
  public static fromStatements(statements: iam.PolicyStatement[]): EndpointPolicy {
    if (statements.length === 0) {
      throw invalidProp('EndpointPolicy.fromStatements(statements)', statements, 'contain at least one statement',
        'An empty policy denies everything: remove the endpoint instead, or add the statements it should allow.');
    }
    return new EndpointPolicy(() => statements);
  }

  /**
   * No endpoint policy: the service's default, which admits any principal from any account to any resource.
   * An explicit choice: `MicrovmChecks-EndpointPolicyOpen` reports it, to be acknowledged with a reason.
   * Also the way out for the few services that do not support endpoint policies.
   */
  public static unrestricted(): EndpointPolicy {
    return new EndpointPolicy(() => undefined);
  }

  private constructor(
    private readonly produce: (scope: IConstruct) => iam.PolicyStatement[] | undefined,
  ) {}

  /**
   * The statements for an endpoint in `scope`'s stack, or `undefined` for no policy.
   *
   * @internal
   */
  public _statements(scope: IConstruct): iam.PolicyStatement[] | undefined {
    return this.produce(scope);
  }
}
