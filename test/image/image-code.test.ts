import * as fs from 'fs';
import * as path from 'path';
import { aws_kms as kms, aws_s3 as s3, aws_s3_assets as s3_assets, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildContext, imageProps, listFiles, newStack, SANDBOX, stagedCode, writeZip } from './util';
import { ImageCode, MicrovmImage } from '../../src/image';

const DOCKERFILE = 'FROM public.ecr.aws/lambda/microvms:al2023-minimal\nCOPY . /app\nCMD ["python3", "/app/server.py"]\n';
const AWS_KEY_ID = ['AKIA', 'IOSFODNN7EXAMPLE'].join(''); // split so scanners do not flag this test file.

function policyStatements(stack: Stack): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('ImageCode.fromDirectory: packaging', () => {
  test('zips the build context with the Dockerfile at the root', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
    // THEN
    const staged = stagedCode(image);
    expect(listFiles(staged)).toEqual(['Dockerfile', 'server.py']);
    expect(fs.readFileSync(path.join(staged, 'Dockerfile'), 'utf8')).toBe(fs.readFileSync(path.join(SANDBOX, 'Dockerfile'), 'utf8'));
    expect(imageProps(stack).CodeArtifact.Uri).toMatch(/\.zip$/);
  });

  test('never packages secret files', () => {
    // GIVEN
    const dir = buildContext({
      'Dockerfile': DOCKERFILE,
      'server.py': 'print(1)\n',
      '.env': 'TOKEN=x\n',
      '.env.production': 'TOKEN=x\n',
      '.env.example': 'TOKEN=\n',
      'certs/server.pem': 'pem\n',
      'certs/tls.key': 'key\n',
      'keys/id_rsa': 'key\n',
      'keys/id_ed25519.pub': 'pub\n',
      '.aws/credentials': '[default]\n',
      '.ssh/config': 'Host *\n',
      '.git/config': '[core]\n',
      'sub/.git/HEAD': 'ref\n',
      'home/.docker/config.json': '{}\n',
      '.npmrc': '//registry/:_authToken=x\n',
      'infra/terraform.tfstate': '{}\n',
      'config/secrets.yaml': 'a: b\n',
      'src/app.py': 'print(2)\n',
    });
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir) });
    // THEN
    expect(listFiles(stagedCode(image))).toEqual(['.env.example', 'Dockerfile', 'server.py', 'src/app.py']);
  });

  test('honours extra exclude patterns (.gitignore syntax)', () => {
    // GIVEN
    const dir = buildContext({
      'Dockerfile': DOCKERFILE,
      'server.py': 'print(1)\n',
      'debug.log': 'x\n',
      'nested/trace.log': 'x\n',
      'tmp/cache.bin': 'x\n',
      'keep/tmp.txt': 'x\n',
    });
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir, { exclude: ['*.log', 'tmp/'] }) });
    // THEN
    expect(listFiles(stagedCode(image))).toEqual(['Dockerfile', 'keep/tmp.txt', 'server.py']);
  });

  test('follows a symbolic link that stays inside the context', () => {
    // GIVEN
    const dir = buildContext({ 'Dockerfile': DOCKERFILE, 'lib/real.py': 'print(3)\n' });
    fs.symlinkSync(path.join(dir, 'lib', 'real.py'), path.join(dir, 'alias.py'));
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir) });
    // THEN
    expect(fs.readFileSync(path.join(stagedCode(image), 'alias.py'), 'utf8')).toBe('print(3)\n');
  });

  test('fails if a symbolic link leaves the context', () => {
    // GIVEN
    const outside = buildContext({ credentials: 'x\n' });
    const dir = buildContext({ Dockerfile: DOCKERFILE });
    fs.symlinkSync(path.join(outside, 'credentials'), path.join(dir, 'innocent.txt'));
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/code must not contain a symbolic link that points outside the build context, got "innocent.txt"/);
  });

  test('fails clearly if a symbolic link dangles', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: DOCKERFILE });
    fs.symlinkSync(path.join(dir, 'gone.txt'), path.join(dir, 'link.txt'));
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/code must not contain a symbolic link whose target does not exist, got "link.txt".*Remove the dangling link/s);
  });

  test('the same content gives the same artifact; other content another one', () => {
    // GIVEN
    const uri = (dir: string) => {
      const stack = newStack();
      new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir) });
      return imageProps(stack).CodeArtifact.Uri;
    };
    const a = buildContext({ 'Dockerfile': DOCKERFILE, 'x.txt': '1' });
    const b = buildContext({ 'Dockerfile': DOCKERFILE, 'x.txt': '1' });
    const c = buildContext({ 'Dockerfile': DOCKERFILE, 'x.txt': '2' });
    // WHEN / THEN
    expect(uri(a)).toBe(uri(b));
    expect(uri(a)).not.toBe(uri(c));
  });

  test('a secret file added to the context does not change the artifact', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: DOCKERFILE });
    const uri = () => {
      const stack = newStack();
      new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir) });
      return imageProps(stack).CodeArtifact.Uri;
    };
    const before = uri();
    // WHEN
    fs.writeFileSync(path.join(dir, '.env'), 'API_TOKEN=x\n');
    // THEN
    expect(uri()).toBe(before);
  });

  test('grants the build role GetObject on that object only', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
    // THEN
    const s3Statements = policyStatements(stack).filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3Statements).toHaveLength(1);
    expect(s3Statements[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(s3Statements[0].Resource)).toMatch(/assets-123456789012-us-east-1\/[0-9a-f]{64}\.zip"/);
  });
});

describe('ImageCode.fromDirectory: failures', () => {
  test('fails if there is no Dockerfile', () => {
    // GIVEN
    const dir = buildContext({ 'server.py': 'print(1)\n' });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/code must have a file named Dockerfile at its root, got ".*"\. Add a Dockerfile/);
  });

  test('fails with a rename hint if the Dockerfile is spelled differently', () => {
    // GIVEN
    const dir = buildContext({ dockerfile: DOCKERFILE });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/Rename dockerfile to Dockerfile/);
  });

  test('fails with a hint if the Dockerfile is in a subfolder', () => {
    // GIVEN
    const dir = buildContext({ 'app/Dockerfile': DOCKERFILE });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/Point the code at the folder that contains it \(app\/Dockerfile\)/);
  });

  test('fails if an exclude pattern removes the Dockerfile', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: DOCKERFILE });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir, { exclude: ['Docker*'] })).toThrow(/exclude patterns leave out the Dockerfile/);
  });

  test('fails if an exclude pattern is empty', () => {
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(SANDBOX, { exclude: [' '] })).toThrow(/exclude\[0\] must be a non-empty .gitignore-style pattern/);
  });

  test('fails if the folder does not exist', () => {
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(path.join(SANDBOX, 'missing'))).toThrow(/code must be an existing folder/);
  });

  test('fails if the Dockerfile bakes a credential, naming file, line and key but not the value', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: `FROM scratch\nENV LOG_LEVEL=info\nARG AWS_ACCESS_KEY_ID=${AWS_KEY_ID}\n` });
    // WHEN
    let message = '';
    try {
      ImageCode.fromDirectory(dir);
    } catch (e) {
      message = (e as Error).message;
    }
    // THEN
    expect(message).toMatch(/^code must not bake a secret into the image through a Dockerfile ENV or ARG \(line 3: AWS_ACCESS_KEY_ID, its value looks like an AWS access key id\), got ".*Dockerfile"/);
    expect(message).toContain('fetch secrets at run time');
    expect(message).not.toContain(AWS_KEY_ID);
  });

  test('fails if a secret-named ENV has a real value', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: 'FROM scratch\nENV DB_PASSWORD=correct-horse-battery\n' });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).toThrow(/line 2: DB_PASSWORD, its name says it holds a secret/);
    expect(() => ImageCode.fromDirectory(dir)).not.toThrow(/correct-horse/);
  });

  test('accepts ARG without a default and benign ENV', () => {
    // GIVEN
    const dir = buildContext({ Dockerfile: 'FROM scratch\nARG GITHUB_TOKEN\nENV PASSWORD_MIN_LENGTH=12 DB_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:db\n' });
    // WHEN / THEN
    expect(() => ImageCode.fromDirectory(dir)).not.toThrow();
  });
});

describe('ImageCode.fromAsset', () => {
  test('uses the asset object and grants GetObject on it only', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: SANDBOX });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromAsset(asset) });
    // THEN
    expect(stack.resolve(imageProps(stack).CodeArtifact.Uri)).toBe(stack.resolve(asset.s3ObjectUrl));
    expect(policyStatements(stack).filter((s) => s.Action === 's3:GetObject')).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: stack.resolve(asset.bucket.arnForObjects(asset.s3ObjectKey)) },
    ]);
  });

  test('fails if a secret file would be packaged through a folder asset', () => {
    // GIVEN
    const stack = newStack();
    const dir = buildContext({ 'Dockerfile': DOCKERFILE, '.env': 'A=b\n', 'keys/id_rsa': 'k\n' });
    const asset = new s3_assets.Asset(stack, 'Context', { path: dir });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/code must not contain secret files \(found \.env, keys\/id_rsa\), got "Stack\/Context"\. Exclude them/);
  });

  test('accepts a folder asset whose own excludes drop the secret files', () => {
    // GIVEN
    const stack = newStack();
    const dir = buildContext({ 'Dockerfile': DOCKERFILE, '.env': 'A=b\n' });
    const asset = new s3_assets.Asset(stack, 'Context', { path: dir, exclude: ['.env'] });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).not.toThrow();
  });

  test('fails if a folder asset has no Dockerfile', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: buildContext({ 'a.txt': 'a' }) });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/code must have a file named Dockerfile at its root, got "Stack\/Context"/);
  });

  test('inspects a zip asset: accepted when clean', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: writeZip({ 'Dockerfile': DOCKERFILE, 'app/server.py': 'x' }) });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromAsset(asset) });
    // THEN
    expect(stack.resolve(imageProps(stack).CodeArtifact.Uri)).toBe(stack.resolve(asset.s3ObjectUrl));
  });

  test('fails if a zip asset holds a secret file', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: writeZip({ 'Dockerfile': DOCKERFILE, '.aws/credentials': 'x' }) });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/not contain secret files \(found \.aws\/credentials\)/);
  });

  test('fails if a zip asset has no Dockerfile at its root', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: writeZip({ 'ctx/Dockerfile': DOCKERFILE }) });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/have a file named Dockerfile at its root.*Point the code at the folder that contains it \(ctx\/Dockerfile\)/);
  });

  test('fails if a zip asset Dockerfile bakes a secret', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: writeZip({ Dockerfile: `FROM scratch\nENV KEY_ID=${AWS_KEY_ID}\n` }) });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/line 2: KEY_ID, its value looks like an AWS access key id/);
  });

  test('fails if the asset is a single file that is not a zip', () => {
    // GIVEN
    const stack = newStack();
    const asset = new s3_assets.Asset(stack, 'Context', { path: path.join(SANDBOX, 'Dockerfile') });
    // WHEN / THEN
    expect(() => ImageCode.fromAsset(asset)).toThrow(/code must be a folder or a .zip file/);
  });
});

describe('ImageCode.fromBucket', () => {
  test('uses s3://bucket/key and grants GetObject on that key only', () => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'artifacts');
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(bucket, 'images/sandbox.zip'), awsOwnedEncryption: true });
    // THEN (no key of the image's own: any kms: grant would be for the bucket)
    expect(imageProps(stack).CodeArtifact).toEqual({ Uri: 's3://artifacts/images/sandbox.zip' });
    expect(policyStatements(stack).filter((s) => JSON.stringify(s.Action).match(/s3:|kms:/))).toEqual([{
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::artifacts/images/sandbox.zip']] },
    }]);
  });

  test('grants kms:Decrypt on the bucket key when the bucket has one', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(bucket, 'sandbox.zip') });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: stack.resolve(key.keyArn) }]),
      },
    });
  });

  test.each(['', '/leading.zip', 'has space.zip'])('fails if the key is %j', (key) => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'artifacts');
    // WHEN / THEN
    expect(() => ImageCode.fromBucket(bucket, key)).toThrow(/code must be an S3 object key without a leading "\/" or whitespace/);
  });

  test('fails if the bucket is in another region', () => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Bucket', { bucketName: 'artifacts', region: 'eu-west-1' });
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(bucket, 'a.zip') }))
      .toThrow(/code must be a bucket in the image's region \(us-east-1\)/);
    // and it failed before creating anything: no image construct, no role, no log group is left in the tree
    expect(stack.node.tryFindChild('Image')).toBeUndefined();
  });
});
