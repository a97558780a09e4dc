import * as fs from 'fs';
import { CfnParameter, Fn, SecretValue, Stack, Validations, aws_s3_assets as s3assets } from 'aws-cdk-lib';
import { buildContext, compliantImage, newApp, newStack, ruleFindings, violations } from './fixtures';
import { MicrovmChecks } from '../../src';

const RULE = 'SnapshotSecret';
// fake credentials in the formats the detectors know; none of them is real.
const ACCESS_KEY_ID = 'AKIA' + 'ABCDEFGHIJKLMNOP';
const GITHUB_TOKEN = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const PASSWORD = 'correct-horse-battery-staple';

function env(entries: Record<string, string>) {
  return Object.entries(entries).map(([key, value]) => ({ key, value }));
}

describe('SnapshotSecret: environment variables', () => {
  test('passes benign configuration and pointers to secrets', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', {
      environmentVariables: env({
        LOG_LEVEL: 'debug',
        PASSWORD_MIN_LENGTH: '12',
        TOKEN_TTL_SECONDS: '300',
        DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
        API_KEY_SSM_PATH: '/app/api-key',
        SECRET_NAME: 'prod/db',
        AUTH_URL: 'https://auth.example.com/oauth2/token',
        FEATURE_FLAGS: 'search,uploads',
        API_TOKEN: 'changeme',
      }),
    });
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('passes a Ref to a plain parameter and an attribute of a resource (tokens that carry no secret)', () => {
    const stack = newStack();
    const stage = new CfnParameter(stack, 'Stage', { default: 'prod' });
    const image = compliantImage(stack, 'Image', {
      environmentVariables: [
        { key: 'STAGE', value: stage.valueAsString },
        { key: 'DB_SECRET', value: Fn.importValue('db-secret-arn') },
      ],
    });
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('fails if a value looks like a credential, whatever its key', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { environmentVariables: env({ AWS_KEY_HOLDER: ACCESS_KEY_ID, GH: GITHUB_TOKEN }) });
    expect(ruleFindings(image, RULE)).toEqual([
      'MicrovmChecks-SnapshotSecret[EnvironmentVariables::AWS_KEY_HOLDER]',
      'MicrovmChecks-SnapshotSecret[EnvironmentVariables::GH]',
    ]);
  });

  test('fails if a secret-named key has a non-trivial value', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { environmentVariables: env({ DB_PASSWORD: PASSWORD, LOG_LEVEL: 'info' }) });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-SnapshotSecret[EnvironmentVariables::DB_PASSWORD]']);
  });

  test('fails if a value is a Secrets Manager or SSM SecureString dynamic reference (literal, SecretValue, Fn::Join, Fn::Sub)', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', {
      environmentVariables: [
        { key: 'A', value: '{{resolve:secretsmanager:prod/db:SecretString:password}}' },
        { key: 'B', value: SecretValue.secretsManager('prod/api').unsafeUnwrap() },
        { key: 'C', value: Fn.join('', ['{{resolve:ssm-secure:', Fn.ref('AWS::StackName'), '-key:1}}']) },
        { key: 'D', value: Fn.sub('postgres://app:{{resolve:secretsmanager:${AWS::StackName}-db}}@db:5432/app') },
      ],
    });
    expect(ruleFindings(image, RULE)).toEqual(['A', 'B', 'C', 'D'].map((k) => `MicrovmChecks-SnapshotSecret[EnvironmentVariables::${k}]`));
  });

  test('fails if a value references a NoEcho parameter (directly or inside Fn::Join)', () => {
    const stack = newStack();
    const secret = new CfnParameter(stack, 'ApiKey', { noEcho: true });
    const image = compliantImage(stack, 'Image', {
      environmentVariables: [
        { key: 'SETTING', value: secret.valueAsString },
        { key: 'HEADER', value: Fn.join('', ['Bearer ', secret.valueAsString]) },
      ],
    });
    expect(ruleFindings(image, RULE)).toEqual([
      'MicrovmChecks-SnapshotSecret[EnvironmentVariables::HEADER]',
      'MicrovmChecks-SnapshotSecret[EnvironmentVariables::SETTING]',
    ]);
  });

  test('fails if an escape hatch adds a secret to a compliant image', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    expect(ruleFindings(image, RULE)).toEqual([]);
    image.addPropertyOverride('EnvironmentVariables.1', { Key: 'STRIPE_SECRET_KEY', Value: 'sk_live_' + 'a1B2c3D4e5F6g7H8i9J0k1L2' });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-SnapshotSecret[EnvironmentVariables::STRIPE_SECRET_KEY]']);
  });
});

describe('SnapshotSecret: build context', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  function imageFromAsset(files: Record<string, string>, exclude?: string[]) {
    const dir = buildContext(files);
    dirs.push(dir);
    const stack = newStack();
    const asset = new s3assets.Asset(stack, 'Code', { path: dir, exclude });
    const image = compliantImage(stack, 'Image', { codeArtifact: { uri: asset.s3ObjectUrl } });
    return { stack, image };
  }

  test('passes a clean build context (ARG without a default is fine)', () => {
    const { image } = imageFromAsset({ 'Dockerfile': 'FROM public.ecr.aws/x\nARG NPM_TOKEN\nENV LOG_LEVEL=info\n', 'app/index.js': 'x' });
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('fails if the staged build context holds secret files or the Dockerfile bakes a secret', () => {
    const { image } = imageFromAsset({
      'Dockerfile': `FROM public.ecr.aws/x\nENV GITHUB_TOKEN=${GITHUB_TOKEN}\nARG DB_PASSWORD=${PASSWORD}\n`,
      '.env': 'A=b',
      'keys/id_rsa': 'x',
      'app/index.js': 'x',
    });
    expect(ruleFindings(image, RULE)).toEqual([
      'MicrovmChecks-SnapshotSecret[BuildContext::.env]',
      'MicrovmChecks-SnapshotSecret[BuildContext::keys/id_rsa]',
      'MicrovmChecks-SnapshotSecret[Dockerfile::DB_PASSWORD]',
      'MicrovmChecks-SnapshotSecret[Dockerfile::GITHUB_TOKEN]',
    ]);
  });

  test('passes when the asset excludes the secret files (what is uploaded is what counts)', () => {
    const { image } = imageFromAsset({ 'Dockerfile': 'FROM x\n', '.env': 'A=b' }, ['.env']);
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('ignores assets the image does not use', () => {
    const dir = buildContext({ '.env': 'A=b', 'Dockerfile': 'FROM x\n' });
    dirs.push(dir);
    const stack = newStack();
    new s3assets.Asset(stack, 'Other', { path: dir });
    const image = compliantImage(stack);
    expect(ruleFindings(image, RULE)).toEqual([]);
  });
});

describe('SnapshotSecret never reveals a value', () => {
  test('no finding, description or synth error contains the secret', () => {
    // GIVEN
    const app = newApp();
    const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    compliantImage(stack, 'Image', { environmentVariables: env({ DB_PASSWORD: PASSWORD, KEY: ACCESS_KEY_ID, GH: GITHUB_TOKEN }) });
    Validations.of(app).addPlugins(new MicrovmChecks(app, { verbose: true }));

    // WHEN
    const report = JSON.stringify(violations(stack));
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }

    // THEN
    expect(report).toMatch(/SnapshotSecret/);
    expect(message).toMatch(/MicrovmChecks-SnapshotSecret\[EnvironmentVariables::DB_PASSWORD\]/);
    for (const secret of [PASSWORD, ACCESS_KEY_ID, GITHUB_TOKEN]) {
      expect(report).not.toContain(secret);
      expect(message).not.toContain(secret);
    }
  });
});
