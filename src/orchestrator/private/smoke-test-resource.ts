import { CustomResource, Duration, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function';
import type { IMicrovmImage } from '../../image/microvm-image-base';

/** The check, resolved for the custom resource. */
export interface SmokeTestCheck {
  readonly port: number;
  readonly path: string;
  readonly expectedStatus: number;
  readonly timeoutSeconds: number;
  readonly payload?: string;
}

/** What the probe launches: the orchestrator's own run configuration. */
export interface SmokeTestResourceProps {
  readonly image: IMicrovmImage;
  /** the version to test; empty for the image's latest ACTIVE one at deploy time. */
  readonly imageVersion: string;
  readonly check: SmokeTestCheck;
  readonly executionRole: iam.IRole;
  readonly runtimeLogGroup?: logs.ILogGroup;
  readonly egressConnectorArn: string;
  readonly ingressConnectorArns: string[];
  readonly logGroup: logs.ILogGroup;
  readonly tracing: lambda.Tracing;
}

/**
 * The custom resource that tests a version before the orchestrator launches it, and its function. Its
 * `imageVersion` is the version that passed: the only one the orchestrator may launch.
 */
export class SmokeTestResource extends Construct {
  public readonly imageVersion: string;
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: SmokeTestResourceProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    props.logGroup.grantWrite(role);
    this.function = new HandlerFunction(this, 'Function', {
      handler: 'smoke-test.lambda',
      description: 'Lambda MicroVMs smoke test: launches one MicroVM from a new image version, checks it, terminates it.',
      role,
      logGroup: props.logGroup,
      memorySize: 256,
      // launch, check and terminate in one invocation; the probe's own maximum duration is the same 15 minutes.
      timeout: Duration.minutes(15),
      architecture: lambda.Architecture.ARM_64,
      tracing: props.tracing,
    });
    props.image.grantRelease(this.function, {
      executionRole: props.executionRole,
      networkConnectorArns: [props.egressConnectorArn, ...props.ingressConnectorArns],
    });

    const check = props.check;
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::MicrovmSmokeTest',
      properties: {
        ImageArn: props.image.imageArn,
        ImageVersion: props.imageVersion,
        ExecutionRoleArn: props.executionRole.roleArn,
        RuntimeLogGroup: props.runtimeLogGroup?.logGroupName ?? '',
        EgressConnectors: [props.egressConnectorArn],
        IngressConnectors: props.ingressConnectorArns,
        Port: String(check.port),
        Path: check.path,
        ExpectedStatus: String(check.expectedStatus),
        TimeoutSeconds: String(check.timeoutSeconds),
        Payload: check.payload ?? '',
      },
    });
    // the function's permissions must exist before CloudFormation asks it to launch anything.
    resource.node.addDependency(role);
    this.imageVersion = resource.getAttString('ImageVersion');
  }
}
