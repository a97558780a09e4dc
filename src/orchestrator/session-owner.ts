/**
 * Which part of the caller's IAM identity owns a session.
 *
 * The session API authenticates callers with SigV4 (`AWS_IAM` auth on the Function URL) and keys every session by
 * its owner: only the owner sees a session (`GET`, `GET /sessions`), gets its token, suspends, resumes or deletes it,
 * a `PUT` of the same session id by the owner returns the same MicroVM, and `maxSessionsPerOwner` counts per owner.
 * Any other caller gets 404.
 *
 * The caller ARN a role's callers present includes a role session name that is rarely stable:
 *
 * | Caller | Caller ARN |
 * |---|---|
 * | Lambda function | `arn:aws:sts::<account>:assumed-role/<ExecutionRole>/<FunctionName>` |
 * | ECS task | `arn:aws:sts::<account>:assumed-role/<TaskRole>/<task id>` (a new name per task) |
 * | EC2 instance profile | `arn:aws:sts::<account>:assumed-role/<InstanceRole>/<instance id>` |
 * | EKS IRSA | `arn:aws:sts::<account>:assumed-role/<Role>/botocore-session-<n>` (a new name per pod and refresh) |
 * | EKS Pod Identity | `arn:aws:sts::<account>:assumed-role/<Role>/eks-<cluster>-<pod>-<uuid>` (a new name per pod) |
 * | IAM Identity Center | `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<PermissionSet>_<id>/<user name>` |
 * | IAM user | `arn:aws:iam::<account>:user/<path/><name>` |
 *
 * Either way the account is part of the owner: a role of the same name in another account never shares sessions.
 */
export enum SessionOwner {
  /**
   * The IAM principal owns the session: for a role caller the role (`arn:aws:iam::<account>:role/<RoleName>`),
   * whatever its role session name; for an IAM user, the root user or a federated user, that identity.
   *
   * Every ECS task, EC2 instance, Lambda execution environment and EKS pod (IRSA or Pod Identity) running with
   * one role shares that role's sessions: a second task `GET`s and `PUT`s the first one's sessions, and
   * `maxSessionsPerOwner` limits the role as a whole. Isolate backends from each other by giving them different
   * roles. With IAM Identity Center, every user of one permission set shares sessions (they all assume the same
   * `AWSReservedSSO_...` role); per-user isolation needs `ROLE_SESSION`.
   */
  PRINCIPAL = 'PRINCIPAL',

  /**
   * The full caller ARN owns the session, role session name included: each STS role session is its own owner.
   *
   * For callers that give each end user their own role session, e.g. `AssumeRole` with `RoleSessionName=user-42`,
   * or IAM Identity Center users (the session name is the user name): each gets its own sessions and its own
   * `maxSessionsPerOwner`. Do not use it for ECS tasks, EC2 instances, Lambda functions or EKS pods, whose session
   * names change with every task, instance, pod or credential refresh: their sessions would be lost to them.
   * IAM users, the root user and federated users own the same sessions in both modes.
   */
  ROLE_SESSION = 'ROLE_SESSION',
}
