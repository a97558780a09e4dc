/**
 * Interactive shell access to the session MicroVMs, through the session API's `POST /sessions/{id}/shell-token`.
 *
 * A shell is full interactive access, as the VM's user, to everything in the VM: the app's memory and files, the
 * run hook payload, and the execution role's credentials served inside the VM. It bypasses the app's own
 * authentication. Configuring it adds the `SHELL_INGRESS` connector to every launch, and `MicrovmChecks` reports
 * `MicrovmChecks-ShellIngress` until you acknowledge it with a reason.
 */
export interface ShellAccessOptions {
  /**
   * ARNs of the IAM roles (`arn:aws:iam::<account>:role/<path/>Name`) and users
   * (`arn:aws:iam::<account>:user/<path/>name`) that may get a shell token, each for its own sessions only. A role
   * matches every role session of it (`arn:aws:sts::<account>:assumed-role/Name/<session>`), whatever its path.
   * Tokens such as `role.roleArn` are accepted. Callers also need `grantSessions`.
   */
  readonly allowedPrincipalArns: string[];
}
