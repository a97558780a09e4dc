import {
  credentialKind, dynamicSecretReference, environmentSecret, isSecretFile, isSecretName, isTrivialValue, scanDockerfile,
} from '../../src/shared/secrets';

// fake credentials assembled at run time so the repository itself holds none.
const AWS_KEY_ID = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');
const AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;

describe('isSecretFile', () => {
  test.each([
    '.env', '.env.production', 'app/.env', '.git/config', '.git', 'keys/server.pem', 'tls.key', 'home/.ssh/id_rsa',
    'id_ed25519.pub', '.aws/credentials', 'cfg/.docker/config.json', '.npmrc', 'terraform.tfstate',
    'terraform.tfstate.backup', 'secrets.yaml', 'service-account-prod.json', 'sub\\dir\\.env', '.envrc', '.env-prod',
    '.env_local', '.env.local', '.kube/config', '.azure/accessTokens.json', '.config/gcloud/application_default_credentials.json',
    'application_default_credentials.json', '.s3cfg', '.boto', '.pgpass', '.my.cnf', 'deploy.ppk', 'release.jks',
    'app.keystore', 'AuthKey_ABC123.p8', 'prod.tfvars', 'prod.auto.tfvars', '.gnupg/private-keys-v1.d/x.key', '.dockercfg',
  ])('%s is a secret file', (path) => {
    expect(isSecretFile(path)).toBe(true);
  });

  test.each([
    'Dockerfile', 'src/app.py', '.env.example', '.env.sample', '.env.template', 'config.json', 'keyboard.txt',
    'docs/environment.md', 'requirements.txt', '.environment.md', 'envoy.yaml', 'kube/deployment.yaml', 'variables.tf',
  ])(
    '%s is packaged', (path) => {
      expect(isSecretFile(path)).toBe(false);
    });
});

describe('isSecretName', () => {
  test.each(['DB_PASSWORD', 'GITHUB_TOKEN', 'apiKey', 'API_KEY', 'STRIPE_SECRET_KEY', 'client-secret', 'AWS_SECRET_ACCESS_KEY', 'PRIVATE_KEY', 'BASIC_AUTH'])(
    '%s holds a secret', (key) => {
      expect(isSecretName(key)).toBe(true);
    });

  test.each(['LOG_LEVEL', 'PASSWORD_MIN_LENGTH', 'TOKEN_TTL_SECONDS', 'DB_SECRET_ARN', 'SECRET_NAME', 'AUTH_URL', 'KEYBOARD_LAYOUT', 'PORT', 'SESSION_TOKEN_HEADER'])(
    '%s does not', (key) => {
      expect(isSecretName(key)).toBe(false);
    });
});

describe('credentialKind', () => {
  test('recognises credential formats and never echoes the value', () => {
    expect(credentialKind(`key=${AWS_KEY_ID}`)).toBe('an AWS access key id');
    expect(credentialKind(AWS_SECRET)).toBe('an AWS secret access key');
    expect(credentialKind(GITHUB_TOKEN)).toBe('a GitHub token');
    expect(credentialKind('-----BEGIN RSA PRIVATE KEY-----\nMIIE')).toBe('a private key block');
    expect(credentialKind('postgres://app:hunter2hunter2@db.internal:5432/app')).toBe('a URL with an embedded password');
    expect(credentialKind(AWS_SECRET)).not.toContain(AWS_SECRET);
  });

  test('leaves ordinary values alone', () => {
    for (const value of ['debug', 'https://pypi.org/simple', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
      'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', 'public.ecr.aws/lambda/microvms:al2023-minimal', '300']) {
      expect(credentialKind(value)).toBeUndefined();
    }
  });
});

describe('dynamicSecretReference', () => {
  test('finds Secrets Manager and SSM SecureString references', () => {
    expect(dynamicSecretReference('{{resolve:secretsmanager:db:SecretString:password}}')).toMatch(/Secrets Manager/);
    expect(dynamicSecretReference('x{{resolve:ssm-secure:/app/key:1}}')).toMatch(/SecureString/);
    expect(dynamicSecretReference('{{resolve:ssm:/app/region}}')).toBeUndefined();
  });
});

describe('environmentSecret', () => {
  test('benign configuration passes', () => {
    expect(environmentSecret('LOG_LEVEL', 'debug')).toBeUndefined();
    expect(environmentSecret('PASSWORD_MIN_LENGTH', '12')).toBeUndefined();
    expect(environmentSecret('TOKEN_TTL_SECONDS', '300')).toBeUndefined();
    expect(environmentSecret('DB_SECRET_ARN', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf')).toBeUndefined();
    expect(environmentSecret('API_TOKEN', 'changeme')).toBeUndefined();
    expect(environmentSecret('API_TOKEN', '${API_TOKEN}')).toBeUndefined();
  });

  test('secret-named keys with real values, credential formats and references fail', () => {
    expect(environmentSecret('DB_PASSWORD', 'correct-horse-battery')).toMatch(/name says/);
    expect(environmentSecret('SOME_SETTING', AWS_KEY_ID)).toMatch(/AWS access key id/);
    expect(environmentSecret('DB', '{{resolve:secretsmanager:db}}')).toMatch(/dynamic reference/);
  });

  test('isTrivialValue treats numbers, booleans, short words and placeholders as trivial', () => {
    for (const v of ['', '0', '12', 'true', 'short', '<token>', '***']) expect(isTrivialValue(v)).toBe(true);
    expect(isTrivialValue('correct-horse-battery')).toBe(false);
  });
});

describe('scanDockerfile', () => {
  test('finds ENV and ARG secrets with line numbers, in every syntax, without values', () => {
    const dockerfile = [
      'FROM public.ecr.aws/lambda/microvms:al2023-minimal',
      'ENV LOG_LEVEL=info PORT=8080',
      `ENV GITHUB_TOKEN ${GITHUB_TOKEN}`,
      'ARG NPM_TOKEN',
      'ARG DB_PASSWORD="correct horse battery"',
      'ENV A=1 \\',
      `    AWS_ACCESS_KEY_ID=${AWS_KEY_ID}`,
      'RUN echo done',
    ].join('\n');
    const findings = scanDockerfile(dockerfile);
    expect(findings.map((f) => [f.key, f.line])).toEqual([['GITHUB_TOKEN', 3], ['DB_PASSWORD', 5], ['AWS_ACCESS_KEY_ID', 6]]);
    expect(JSON.stringify(findings)).not.toContain(GITHUB_TOKEN);
    expect(JSON.stringify(findings)).not.toContain(AWS_KEY_ID);
  });

  test('a clean Dockerfile has no findings', () => {
    expect(scanDockerfile('FROM x\nARG VERSION=1.2.3\nENV PASSWORD_MIN_LENGTH=12 TOKEN_TTL_SECONDS=300\n')).toEqual([]);
  });
});
