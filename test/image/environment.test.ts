import { CfnParameter, Fn, Lazy, SecretValue, Token, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { imageProps, newStack, SANDBOX } from './util';
import { ImageCode, MicrovmImage } from '../../src/image';

const code = () => ImageCode.fromDirectory(SANDBOX);
const AWS_KEY_ID = ['AKIA', 'IOSFODNN7EXAMPLE'].join(''); // split so scanners do not flag this test file.

function create(environment: Record<string, string>): () => MicrovmImage {
  return () => new MicrovmImage(newStack(), 'Image', { code: code(), environment });
}

function synthError(build: (stack: ReturnType<typeof newStack>) => void): string {
  const stack = newStack();
  build(stack);
  try {
    Template.fromStack(stack);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('environment rendering', () => {
  test('renders a Key/Value list in key order', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), environment: { LOG_LEVEL: 'info', APP_PORT: '8080', DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' } });
    // THEN
    expect(imageProps(stack).EnvironmentVariables).toEqual([
      { Key: 'APP_PORT', Value: '8080' },
      { Key: 'DB_SECRET_ARN', Value: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' },
      { Key: 'LOG_LEVEL', Value: 'info' },
    ]);
  });

  test('accepts 50 variables, an empty value and a 4096-character value', () => {
    // GIVEN
    const environment: Record<string, string> = { EMPTY: '', LONG: 'a'.repeat(4096) };
    for (let i = 0; i < 48; i++) environment[`VAR_${i}`] = `${i}`;
    // WHEN / THEN
    expect(create(environment)).not.toThrow();
  });
});

describe('environment validation', () => {
  test.each(['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN'])('fails if the reserved key %s is set', (key) => {
    expect(create({ [key]: 'x' })).toThrow(new RegExp(`environment.${key} must not be a reserved variable .*The service sets these itself`));
  });

  test('fails if there are more than 50 variables', () => {
    // GIVEN
    const environment: Record<string, string> = {};
    for (let i = 0; i < 51; i++) environment[`VAR_${i}`] = 'x';
    // WHEN / THEN
    expect(create(environment)).toThrow(/environment must have at most 50 variables, got "51 variables"/);
  });

  test.each(['', 'HAS SPACE', 'A=B', 'K'.repeat(257)])('fails if a key is %j', (key) => {
    expect(create({ [key]: 'x' })).toThrow(/environment must have keys of 1-256 characters with no whitespace or "="/);
  });

  test('fails if a value is longer than 4096 characters, without printing it', () => {
    expect(create({ BIG: 'b'.repeat(4097) })).toThrow(/environment.BIG must be at most 4096 characters, got <redacted, 4097 characters>/);
  });

  test('fails if a value is a credential, masking it', () => {
    // WHEN
    let message = '';
    try {
      create({ UPSTREAM: AWS_KEY_ID })();
    } catch (e) {
      message = (e as Error).message;
    }
    // THEN
    expect(message).toMatch(/^Stack\/\w+: environment.UPSTREAM must not hold a secret \(its value looks like an AWS access key id\), got <redacted, 20 characters>\. The environment is frozen/);
    expect(message).not.toContain(AWS_KEY_ID);
  });

  test('fails if a secret-named key has a real value', () => {
    expect(create({ DB_PASSWORD: 'hunter2-but-longer' })).toThrow(/environment.DB_PASSWORD must not hold a secret \(its name says it holds a secret/);
  });

  test('fails if a value is a literal dynamic reference to a secret store', () => {
    expect(create({ DB: '{{resolve:secretsmanager:prod/db:SecretString:password}}' })).toThrow(/its value is a Secrets Manager dynamic reference/);
    expect(create({ DB: '{{resolve:ssm-secure:/prod/db}}' })).toThrow(/its value is an SSM SecureString dynamic reference/);
  });

  test('accepts secret-named keys with placeholder or pointer values', () => {
    expect(create({ API_TOKEN: 'changeme', DB_PASSWORD_FILE: '/run/secrets/db', TOKEN_TTL_SECONDS: '300' })).not.toThrow();
  });
});

describe('environment tokens', () => {
  test('fails synth if a value is an unwrapped SecretValue', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { DB: SecretValue.secretsManager('prod/db').unsafeUnwrap() },
    }));
    // THEN
    expect(message).toMatch(/environment.DB must not reference a secret \(it is a Secrets Manager dynamic reference\), got <redacted, \d+ characters>/);
    expect(message).not.toContain('prod/db');
  });

  test('fails synth if a value is a SecretValue token', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { DB: Token.asString(SecretValue.ssmSecure('/prod/db')) },
    }));
    // THEN
    expect(message).toMatch(/environment.DB must not reference a secret \(it is a SecretValue\)/);
  });

  test('fails synth if a value is a SecretValue backed by a NoEcho parameter', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { DB: SecretValue.cfnParameter(new CfnParameter(stack, 'Password', { noEcho: true })).unsafeUnwrap() },
    }));
    // THEN
    expect(message).toMatch(/environment.DB must not reference a secret \(it is a NoEcho parameter\)/);
  });

  test('fails synth if a value embeds a Secrets Manager dynamic reference', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { DSN: Fn.join('', ['postgres://app:', Fn.sub('{{resolve:secretsmanager:prod/db:SecretString:password}}'), '@db']) },
    }));
    // THEN
    expect(message).toMatch(/environment.DSN must not reference a secret \(it is a Secrets Manager dynamic reference\)/);
  });

  test('fails synth if a value is an SSM SecureString reference', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { KEY: Fn.sub('{{resolve:ssm-secure:/prod/key}}') },
    }));
    // THEN
    expect(message).toMatch(/environment.KEY must not reference a secret \(it is an SSM SecureString dynamic reference\)/);
  });

  test('fails synth if a value references a NoEcho parameter, directly or inside a join', () => {
    // WHEN
    const direct = synthError((stack) => {
      const param = new CfnParameter(stack, 'Password', { noEcho: true });
      new MicrovmImage(stack, 'Image', { code: code(), environment: { DB: param.valueAsString } });
    });
    const joined = synthError((stack) => {
      const image = { code: code(), environment: { DB: '' } };
      const param = new CfnParameter(stack, 'Password', { noEcho: true });
      image.environment.DB = Fn.join(':', ['user', param.valueAsString]);
      new MicrovmImage(stack, 'Image', image);
    });
    // THEN
    expect(direct).toMatch(/environment.DB must not reference a secret \(it is a NoEcho parameter\)/);
    expect(joined).toMatch(/environment.DB must not reference a secret \(it is a NoEcho parameter\)/);
  });

  test('a NoEcho parameter created after the image is still caught', () => {
    // WHEN
    const message = synthError((stack) => {
      const lazy = Lazy.string({ produce: () => (stack.node.findChild('Late') as CfnParameter).valueAsString });
      new MicrovmImage(stack, 'Image', { code: code(), environment: { DB: lazy } });
      new CfnParameter(stack, 'Late', { noEcho: true });
    });
    // THEN
    expect(message).toMatch(/environment.DB must not reference a secret \(it is a NoEcho parameter\)/);
  });

  test('other tokens are skipped: a plain parameter, a bucket name, a benign lazy value', () => {
    // GIVEN
    const stack = newStack();
    const param = new CfnParameter(stack, 'Stage');
    const bucket = new s3.Bucket(stack, 'Data');
    // WHEN
    new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { STAGE: param.valueAsString, BUCKET: bucket.bucketName, MODE: Lazy.string({ produce: () => 'fast' }) },
    });
    // THEN
    expect(imageProps(stack).EnvironmentVariables).toEqual([
      { Key: 'BUCKET', Value: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) } },
      { Key: 'MODE', Value: 'fast' },
      { Key: 'STAGE', Value: { Ref: 'Stage' } },
    ]);
  });

  test('fails synth if a lazy value resolves to a credential', () => {
    // WHEN
    const message = synthError((stack) => new MicrovmImage(stack, 'Image', {
      code: code(),
      environment: { UPSTREAM: Lazy.string({ produce: () => AWS_KEY_ID }) },
    }));
    // THEN
    expect(message).toMatch(/environment.UPSTREAM must not reference a secret \(it is a token whose value is a secret: its value looks like an AWS access key id\)/);
    expect(message).not.toContain(AWS_KEY_ID);
  });
});
