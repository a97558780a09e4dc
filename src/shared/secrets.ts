/**
 * Secret detection shared by `MicrovmImage` (synth-time validation) and `MicrovmChecks` (nag rules).
 *
 * Everything in an image's environment, build context and Dockerfile is frozen into the snapshot that every
 * MicroVM of that version starts from, so a secret there is shared with all of them. The detectors aim for no
 * false positives on ordinary configuration (`LOG_LEVEL`, `PASSWORD_MIN_LENGTH=12`, a secret's ARN) and never
 * return the value they matched: callers print the reason, never the value.
 */

const SECRET_FILE_NAMES = new Set([
  '.npmrc', '.pypirc', '.netrc', '.git-credentials', 'credentials.json', 'config.json_docker', '.dockercfg', '.s3cfg',
  '.boto', '.pgpass', '.my.cnf', '.htpasswd', 'application_default_credentials.json', 'accessTokens.json',
]);
const SECRET_FILE_SUFFIXES = ['.pem', '.key', '.p12', '.pfx', '.p8', '.ppk', '.jks', '.keystore', '.kdbx', '.tfstate', '.tfvars'];
const SECRET_FILE_PREFIXES = ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'service-account'];
// directories holding credentials: VCS metadata, AWS, SSH, GnuPG, Kubernetes, Azure, and gcloud (under .config).
const SECRET_DIRECTORIES = new Set(['.git', '.aws', '.ssh', '.gnupg', '.kube', '.azure', 'gcloud']);
// dotenv files in every spelling (`.env`, `.env.production`, `.env-prod`, `.env_local`, `.envrc`), except templates.
const DOTENV = /^\.env(rc|[._-].*)?$/;
const DOTENV_TEMPLATES = /^\.env[._-](example|sample|template|dist|defaults)$/;

/**
 * True when a file at `relativePath` (inside a build context, `/`- or `\`-separated) is one that must never be
 * packaged: dotenv files, private keys and keystores, cloud, cluster and registry credentials, Terraform state
 * and variables, VCS metadata.
 */
export function isSecretFile(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return false;
  if (parts.slice(0, -1).some((dir) => SECRET_DIRECTORIES.has(dir))) return true;
  const name = parts[parts.length - 1];
  if (SECRET_DIRECTORIES.has(name)) return true;
  if (SECRET_FILE_NAMES.has(name)) return true;
  if (DOTENV.test(name)) return !DOTENV_TEMPLATES.test(name);
  if (name === 'config.json' && parts[parts.length - 2] === '.docker') return true;
  if (/^secrets\.ya?ml$/.test(name)) return true;
  if (/\.tfstate(\..+)?$/.test(name)) return true;
  if (SECRET_FILE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return true;
  return SECRET_FILE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

// words that make a variable name secret-bearing, matched on `_`-separated name segments.
const SECRET_WORDS = new Set([
  'PASSWORD', 'PASSWD', 'PASS', 'PWD', 'SECRET', 'SECRETS', 'TOKEN', 'TOKENS', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS',
  'CREDS', 'PRIVATEKEY', 'PASSPHRASE', 'AUTH', 'SESSIONKEY', 'SIGNINGKEY', 'CLIENTSECRET', 'ACCESSKEY', 'DSN',
  'SALT', 'PEPPER', 'WEBHOOKSECRET',
]);
// two-segment combinations that are secret-bearing even though each word alone is not.
const SECRET_PAIRS = ['API_KEY', 'PRIVATE_KEY', 'ACCESS_KEY', 'SECRET_KEY', 'SIGNING_KEY', 'ENCRYPTION_KEY', 'MASTER_KEY', 'SESSION_KEY', 'CLIENT_KEY', 'CONNECTION_STRING'];
// a name ending in one of these describes a secret rather than holding one.
const BENIGN_SUFFIXES = [
  'ARN', 'ARNS', 'NAME', 'NAMES', 'ID', 'IDS', 'PATH', 'FILE', 'URL', 'URI', 'ENDPOINT', 'HEADER', 'TTL', 'SECONDS',
  'MINUTES', 'HOURS', 'MS', 'TIMEOUT', 'LENGTH', 'LEN', 'SIZE', 'COUNT', 'ENABLED', 'DISABLED', 'REQUIRED', 'POLICY',
  'REGION', 'VERSION', 'TYPE', 'MODE', 'FORMAT', 'ALGORITHM', 'PARAMETER', 'PARAM', 'EXPIRY', 'EXPIRATION', 'PREFIX',
  'LIMIT', 'MIN', 'MAX', 'RETRIES', 'ATTEMPTS', 'ROTATION', 'DAYS', 'PROVIDER', 'ISSUER', 'AUDIENCE', 'SCOPE', 'SCOPES',
];

/** Splits `apiKey`, `api-key`, `API_KEY` and `api.key` alike into upper-case segments. */
function nameSegments(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((s) => s.length > 0);
}

/**
 * True when an environment variable (or build argument) name says it holds a credential, for example
 * `DB_PASSWORD`, `GITHUB_TOKEN`, `apiKey`, `STRIPE_SECRET_KEY`; false for names that describe a secret without
 * holding it (`PASSWORD_MIN_LENGTH`, `TOKEN_TTL_SECONDS`, `DB_SECRET_ARN`, `SECRET_NAME`, `AUTH_URL`).
 */
export function isSecretName(key: string): boolean {
  const segments = nameSegments(key);
  if (segments.length === 0) return false;
  if (BENIGN_SUFFIXES.includes(segments[segments.length - 1])) return false;
  if (segments.some((s) => SECRET_WORDS.has(s))) return true;
  const joined = segments.join('_');
  return SECRET_PAIRS.some((pair) => joined === pair || joined.endsWith(`_${pair}`) || joined.startsWith(`${pair}_`) || joined.includes(`_${pair}_`));
}

const CREDENTIAL_FORMATS: Array<[string, RegExp]> = [
  ['a private key block', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/],
  ['an AWS access key id', /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/],
  ['a GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}\b/],
  ['a Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/],
  ['a Slack webhook URL', /hooks\.slack\.com\/services\/[A-Z0-9]+\/[A-Z0-9]+\/[A-Za-z0-9]+/],
  ['a Stripe key', /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['an OpenAI key', /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/],
  ['an Anthropic key', /\bsk-ant-[A-Za-z0-9_-]{32,}\b/],
  ['an npm token', /\bnpm_[A-Za-z0-9]{36}\b/],
  ['a JSON web token', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  ['a URL with an embedded password', /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@[^/\s]+/i],
  // generic last: the specific formats above name what they found more precisely.
  ['an AWS secret access key', /(?:^|[^A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?:$|[^A-Za-z0-9/+=])/],
];

/**
 * Names the credential format `value` contains (an AWS access key id, a private key block, a GitHub token, a
 * JWT, a URL with a password, ...), or `undefined`. Never returns the value itself.
 */
export function credentialKind(value: string): string | undefined {
  // an ARN or a plain path is a pointer to a secret, not a secret, even when 40 characters long.
  if (/^arn:[a-z-]+:/.test(value) || /^\/[\w./-]*$/.test(value)) return undefined;
  for (const [kind, pattern] of CREDENTIAL_FORMATS) {
    if (kind === 'an AWS secret access key') {
      const match = pattern.exec(value);
      // 40 base64 characters with mixed classes; long hex digests and plain words are not keys.
      if (match && /[A-Z]/.test(match[0]) && /[a-z]/.test(match[0]) && /[0-9]/.test(match[0])) return kind;
      continue;
    }
    if (pattern.test(value)) return kind;
  }
  return undefined;
}

/**
 * Names the dynamic reference to a secret store that `value` contains (`{{resolve:secretsmanager:...}}` or
 * `{{resolve:ssm-secure:...}}`), or `undefined`. CloudFormation would resolve it into the snapshot.
 */
export function dynamicSecretReference(value: string): string | undefined {
  if (/\{\{resolve:secretsmanager:/.test(value)) return 'a Secrets Manager dynamic reference';
  if (/\{\{resolve:ssm-secure:/.test(value)) return 'an SSM SecureString dynamic reference';
  return undefined;
}

const PLACEHOLDERS = new Set([
  '', 'none', 'null', 'nil', 'undefined', 'true', 'false', 'yes', 'no', 'on', 'off', 'enabled', 'disabled',
  'changeme', 'change-me', 'placeholder', 'redacted', 'example', 'dummy', 'test', 'xxx', 'todo', 'tbd', 'unset',
]);

/**
 * True when a value carries no secret whatever its name: empty, a boolean, a number, a short word, a placeholder
 * (`changeme`, `<your-token>`, `${TOKEN}`), an ARN or a path.
 */
export function isTrivialValue(value: string): boolean {
  const v = value.trim();
  if (PLACEHOLDERS.has(v.toLowerCase())) return true;
  if (/^-?\d+(\.\d+)?$/.test(v)) return true;
  if (v.length < 8) return true;
  if (/^(<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\*+|x+)$/i.test(v)) return true;
  if (/^arn:[a-z-]+:/.test(v)) return true;
  if (/^(\/|\.\/|~\/)[\w./-]*$/.test(v)) return true;
  return false;
}

/**
 * Why the environment entry `key=value` must not be baked into a snapshot, or `undefined` when it is fine.
 * Flags credential formats in any value, dynamic secret references, and secret-named keys with non-trivial values.
 */
export function environmentSecret(key: string, value: string): string | undefined {
  const reference = dynamicSecretReference(value);
  if (reference) return `its value is ${reference}, resolved into the snapshot at deploy time`;
  const kind = credentialKind(value);
  if (kind) return `its value looks like ${kind}`;
  if (isSecretName(key) && !isTrivialValue(value)) return 'its name says it holds a secret and its value is not a placeholder';
  return undefined;
}

/** A secret found in a Dockerfile. Never carries the value. */
export interface SecretFinding {
  /** the variable name. */
  readonly key: string;
  /** 1-based line number of the instruction. */
  readonly line: number;
  /** why it is a secret. */
  readonly reason: string;
}

/**
 * Scans a Dockerfile's `ENV` and `ARG` instructions (both `K=V` and the legacy `ENV K V` form, several pairs per
 * line, line continuations) for values that would be frozen into the image. `ARG` without a default is fine.
 */
export function scanDockerfile(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let instruction = lines[i];
    while (/\\\s*$/.test(instruction) && i + 1 < lines.length) {
      instruction = instruction.replace(/\\\s*$/, ' ') + lines[++i];
    }
    const match = /^\s*(ENV|ARG)\s+(.*)$/i.exec(instruction);
    if (!match) continue;
    for (const [key, value] of parseAssignments(match[1].toUpperCase(), match[2])) {
      const reason = environmentSecret(key, value);
      if (reason) findings.push({ key, line: start + 1, reason });
    }
  }
  return findings;
}

function parseAssignments(instruction: string, rest: string): Array<[string, string]> {
  const body = rest.trim();
  // legacy `ENV KEY some value with spaces`.
  const legacy = /^([A-Za-z_][A-Za-z0-9_.-]*)\s+([^=].*)$/.exec(body);
  if (instruction === 'ENV' && legacy && !/^[A-Za-z_][A-Za-z0-9_.-]*=/.test(body)) {
    return [[legacy[1], unquote(legacy[2].trim())]];
  }
  const pairs: Array<[string, string]> = [];
  const token = /([A-Za-z_][A-Za-z0-9_.-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(body)) !== null) {
    if (m[2] !== undefined) pairs.push([m[1], unquote(m[2])]);
  }
  return pairs;
}

function unquote(value: string): string {
  if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith('\'') && value.endsWith('\''))) {
    return value.slice(1, -1);
  }
  return value;
}
