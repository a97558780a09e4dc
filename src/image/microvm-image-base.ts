import { IResource, aws_iam as iam } from 'aws-cdk-lib';

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
   * Grants what a launcher needs: run, get, suspend, resume, terminate and token minting on this image's
   * MicroVMs, `ListMicrovms` (which has no resource type), `lambda:PassNetworkConnector`, and `iam:PassRole`
   * on the execution role when one is given.
   */
  grantRun(grantee: iam.IGrantable, options?: GrantRunOptions): iam.Grant;
}
