import { ApiError } from './api-error';
import { IAM_ROLE_OR_USER_ARN_PATTERN } from '../../shared/contract';

/**
 * Which part of the caller's IAM identity owns a session (the runtime side of the construct's `SessionOwner`):
 *
 * - `PRINCIPAL`: the IAM principal. A role caller's sessions belong to the role, whatever its session name (which
 *   changes with every ECS task, EC2 instance, EKS pod and credential refresh).
 * - `ROLE_SESSION`: the full caller ARN, role session name included: each STS role session is its own owner.
 */
export type OwnerKey = 'PRINCIPAL' | 'ROLE_SESSION';

/** Every {@link OwnerKey}, the first being the default. */
export const OWNER_KEYS: readonly OwnerKey[] = ['PRINCIPAL', 'ROLE_SESSION'];

// aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-eusc, ...
const PARTITION = 'aws(?:-[a-z]+)*';
const ACCOUNT = '\\d{12}';
// IAM role, user and role session names, and federated user names: [\w+=,.@-] (ASCII word characters).
const NAME = '[\\w+=,.@-]{1,128}';

/** `arn:<partition>:sts::<account>:assumed-role/<RoleName>/<session>`: groups partition, account, role name. */
const ASSUMED_ROLE = new RegExp(`^arn:(${PARTITION}):sts::(${ACCOUNT}):assumed-role/(${NAME})/${NAME}$`);
/** Principals whose ARN is already stable: IAM users (any path), the account root, federated users. */
const STABLE_PRINCIPALS = [
  new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:user/(?:[!-~]{0,510}/)?${NAME}$`),
  new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:root$`),
  new RegExp(`^arn:${PARTITION}:sts::${ACCOUNT}:federated-user/${NAME}$`),
];

/**
 * The principal string that owns the sessions of a caller: the owner key is its SHA-256 (as before this function
 * existed, so an IAM user's sessions keep their owner). Pure; throws a 403 {@link ApiError} for an ARN it does not
 * recognise, in either mode, so an unexpected identity never gets an owner of its own by accident.
 *
 * In mode `PRINCIPAL`, an assumed-role session ARN maps to its role's ARN, `arn:<partition>:iam::<account>:role/<name>`.
 * The assumed-role ARN carries no role path, and none is needed: role names are unique within an account
 * (case-insensitively), so partition, account and name identify the role. The account stays in the principal, so
 * a role of the same name in another account is another owner. IAM users, the root user and federated users are
 * returned as they are. In mode `ROLE_SESSION` the caller ARN itself is the principal.
 */
export function ownerPrincipal(callerArn: string, mode: OwnerKey): string {
  const assumedRole = ASSUMED_ROLE.exec(callerArn);
  if (assumedRole) {
    const [, partition, account, roleName] = assumedRole;
    return mode === 'ROLE_SESSION' ? callerArn : `arn:${partition}:iam::${account}:role/${roleName}`;
  }
  if (STABLE_PRINCIPALS.some((pattern) => pattern.test(callerArn))) return callerArn;
  throw new ApiError(403, 'Forbidden',
    'the caller\'s IAM identity is not an IAM user, root, assumed-role or federated-user ARN, so it cannot own sessions');
}

/**
 * The principal an allow-list entry (an IAM role or user ARN) stands for, in the form {@link ownerPrincipal} gives
 * a caller in mode `PRINCIPAL`, so the two compare as strings: a role ARN loses its path (an assumed-role caller ARN
 * carries none, and role names are unique within an account), so it matches every role session of that role; a user
 * ARN is kept as it is (a user's caller ARN carries its path). Undefined for anything else.
 */
export function allowedPrincipal(arn: string): string | undefined {
  const m = IAM_ROLE_OR_USER_ARN_PATTERN.exec(arn);
  if (!m) return undefined;
  const [, partition, account, kind, , name] = m;
  return kind === 'role' ? `arn:${partition}:iam::${account}:role/${name}` : arn;
}
