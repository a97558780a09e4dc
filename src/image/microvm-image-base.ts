import { IResource, Resource, aws_iam as iam } from 'aws-cdk-lib';
import { invalidProp } from '../shared/validation';

/**
 * Options for {@link IMicrovmImage.grantRun}.
 */
export interface GrantRunOptions {
  /**
   * The execution role MicroVMs are launched with; the grantee gets `iam:PassRole` on it.
   *
   * @default - no execution role is passed
   */
  readonly executionRole?: iam.IRole;

  /**
   * Network connector ARNs the grantee may pass to `RunMicrovm` (`lambda:PassNetworkConnector`).
   * The service requires this permission for every connector, AWS-managed ones included.
   *
   * @default - any connector (`*`)
   */
  readonly networkConnectorArns?: string[];

  /**
   * Also grant `lambda:CreateMicrovmShellAuthToken`, which mints shell tokens: full interactive access to every
   * MicroVM of the image that was launched with `SHELL_INGRESS`.
   *
   * @default false
   */
  readonly shellTokens?: boolean;
}

/**
 * Options for {@link IMicrovmImage.grantManage}.
 */
export interface GrantManageOptions {
  /**
   * Also grant `lambda:ResumeMicrovm`, `lambda:SuspendMicrovm` and `lambda:CreateMicrovmAuthToken` on this image's
   * MicroVMs: what a cleaner that saves checkpoints needs to resume a suspended MicroVM, suspend it again after the
   * save, and mint a token for its checkpoint port. Still nothing that launches.
   *
   * @default false
   */
  readonly checkpoints?: boolean;
}

/**
 * A Lambda MicroVM image, owned by this app or imported.
 */
export interface IMicrovmImage extends IResource {
  /**
   * The image ARN (colon form, `arn:<partition>:lambda:<region>:<account>:microvm-image:<name>`).
   *
   * @attribute
   */
  readonly imageArn: string;

  /**
   * The image name.
   *
   * @attribute
   */
  readonly imageName: string;

  /**
   * The latest ACTIVE version of the image, resolved at deploy time.
   *
   * @attribute
   */
  readonly latestActiveVersion: string;

  /**
   * The port the image serves its lifecycle hooks on, which launchers must keep out of app tokens.
   *
   * @default - no hooks port known
   */
  readonly hooksPort?: number;

  /**
   * Grants what a launcher needs: run, get, suspend, resume, terminate and token minting on this image's
   * MicroVMs, `lambda:PassNetworkConnector`, and `iam:PassRole` on the execution role when one is given.
   *
   * It does not grant `lambda:ListMicrovms`, which has no resource type and so only exists on `*`: a principal
   * that lists gets {@link grantManage} instead.
   */
  grantRun(grantee: iam.IGrantable, options?: GrantRunOptions): iam.Grant;

  /**
   * Grants what a cleaner of this image's MicroVMs needs: `lambda:ListMicrovms` (no resource type, so on `*`; list
   * with this image as the filter), and `lambda:GetMicrovm` and `lambda:TerminateMicrovm` on this image's MicroVMs.
   * Nothing that launches, suspends, resumes or mints tokens, unless `options.checkpoints` adds those three.
   */
  grantManage(grantee: iam.IGrantable, options?: GrantManageOptions): iam.Grant;

  /**
   * Grants what a release check of this image needs: launch, watch, mint a token for and terminate its MicroVMs,
   * read the image's latest version, and set a version INACTIVE (`lambda:UpdateMicrovmImageVersion`), plus
   * `lambda:PassNetworkConnector` and `iam:PassRole` as in {@link grantRun}. No suspend, resume, list or delete.
   */
  grantRelease(grantee: iam.IGrantable, options?: GrantRunOptions): iam.Grant;

  /**
   * Grants what a pruner of this image's old versions needs: `lambda:ListMicrovmImageVersions`,
   * `lambda:DeleteMicrovmImageVersion` and `lambda:GetMicrovmImage` (for the latest ACTIVE version), on this image
   * only. Nothing that builds, activates or launches.
   */
  grantPrune(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Shared behaviour of owned and imported MicroVM images.
 */
export abstract class MicrovmImageBase extends Resource implements IMicrovmImage {
  public abstract readonly imageArn: string;
  public abstract readonly imageName: string;
  public abstract readonly latestActiveVersion: string;
  public abstract readonly hooksPort?: number;

  /**
   * Grants what a launcher needs. MicroVMs have no ARN of their own: the service authorizes run, get, suspend,
   * resume, terminate and token minting against the image ARN, so whoever holds this grant can act on every
   * MicroVM of this image. `ListMicrovms` is not included: it has no resource type, so it could only be granted
   * on `*`.
   */
  public grantRun(grantee: iam.IGrantable, options: GrantRunOptions = {}): iam.Grant {
    return this.grantLaunch(grantee, options, [
      'lambda:RunMicrovm',
      'lambda:GetMicrovm',
      'lambda:SuspendMicrovm',
      'lambda:ResumeMicrovm',
      'lambda:TerminateMicrovm',
      'lambda:CreateMicrovmAuthToken',
    ]);
  }

  /**
   * Grants `RunMicrovm`, `GetMicrovm`, `CreateMicrovmAuthToken`, `TerminateMicrovm`, `GetMicrovmImage` and
   * `UpdateMicrovmImageVersion` on this image, with the connectors and execution role of `options`: what the
   * orchestrator's deploy-time smoke test calls, nothing more.
   */
  public grantRelease(grantee: iam.IGrantable, options: GrantRunOptions = {}): iam.Grant {
    return this.grantLaunch(grantee, options, [
      'lambda:RunMicrovm',
      'lambda:GetMicrovm',
      'lambda:CreateMicrovmAuthToken',
      'lambda:TerminateMicrovm',
      'lambda:GetMicrovmImage',
      'lambda:UpdateMicrovmImageVersion',
    ]);
  }

  /** `actions` on this image, plus passing the connectors and the execution role a launch names. */
  private grantLaunch(grantee: iam.IGrantable, options: GrantRunOptions, actions: string[]): iam.Grant {
    const connectors = options.networkConnectorArns;
    if (connectors !== undefined && connectors.length === 0) {
      throw invalidProp('networkConnectorArns', connectors, 'list at least one connector ARN', 'Leave it out to allow any connector.');
    }
    const imageActions = options.shellTokens ? [...actions, 'lambda:CreateMicrovmShellAuthToken'] : actions;
    let grant = iam.Grant.addToPrincipal({ grantee, actions: imageActions, resourceArns: [this.imageArn] });
    grant = grant.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:PassNetworkConnector'],
      // an unqualified ARN and its `:<version>` forms, since a launch may name a specific connector version.
      resourceArns: connectors ? connectors.flatMap((arn) => [arn, `${arn}:*`]) : ['*'],
    }));
    if (options.executionRole) {
      grant = grant.combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['iam:PassRole'],
        // scoped to the one role, with no `iam:PassedToService` condition: the service authorization reference
        // lists no such value for RunMicrovm, and a condition on a key the service does not send denies every launch.
        resourceArns: [options.executionRole.roleArn],
      }));
    }
    return grant;
  }

  /**
   * Grants listing, inspecting and terminating this image's MicroVMs (what the orchestrator's sweeper needs), and
   * with `options.checkpoints` resuming them and minting tokens. `ListMicrovms` has no resource type, so it is
   * granted on `*`; the others are scoped to this image.
   */
  public grantManage(grantee: iam.IGrantable, options: GrantManageOptions = {}): iam.Grant {
    const onImage = ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'];
    if (options.checkpoints) onImage.push('lambda:ResumeMicrovm', 'lambda:SuspendMicrovm', 'lambda:CreateMicrovmAuthToken');
    return iam.Grant.addToPrincipal({ grantee, actions: ['lambda:ListMicrovms'], resourceArns: ['*'] })
      .combine(iam.Grant.addToPrincipal({ grantee, actions: onImage, resourceArns: [this.imageArn] }));
  }

  /**
   * Grants listing this image's versions, reading the image (its latest ACTIVE version) and deleting versions, on
   * this image only: what the orchestrator's sweeper needs to prune old versions.
   */
  public grantPrune(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:ListMicrovmImageVersions', 'lambda:DeleteMicrovmImageVersion', 'lambda:GetMicrovmImage'],
      resourceArns: [this.imageArn],
    });
  }
}
