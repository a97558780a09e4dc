import { awscdk, javascript } from 'projen';

// bundle everything into the handlers: the Lambda Node.js runtime's built-in SDK lacks
// @aws-sdk/client-lambda-microvms. BundlingOptions only types externals/sourcemap/watchTask;
// projen spreads it into AddBundleOptions, so `minify` and `mainFields` pass through from a non-literal.
// ES module entry points first: esbuild tree-shakes them, which takes the orchestrator bundle from 649 KB to
// 437 KB (the CommonJS builds of the SDK keep every credential provider and the browser user-agent parser).
// test/orchestrator/bundled-handlers.test.ts runs the bundles themselves.
const bundlingOptions = { externals: [] as string[], minify: true, sourcemap: false, mainFields: ['module', 'main'] };

const project = new awscdk.AwsCdkConstructLibrary({
  author: 'cdk-lambda-microvms contributors',
  authorAddress: 'maintainers@cdk-lambda-microvms.dev',
  description: 'AWS CDK constructs for AWS Lambda MicroVMs: images from a Dockerfile, deny-by-default egress, a session control plane, an orphan sweeper and a cdk-nag rule pack.',
  keywords: ['aws-cdk', 'lambda', 'microvm', 'firecracker', 'sandbox', 'cdk-nag'],
  license: 'Apache-2.0',
  cdkVersion: '2.276.0', // first with both CfnMicrovmImage.kmsKeyIdentifier and the NetworkConnector L2
  cdkCliVersion: '^2.1148.1', // not 3.0.0: it reads cloud-assembly schema 43 at most
  constructsVersion: '10.5.1',
  defaultReleaseBranch: 'main',
  jsiiVersion: '~6.0.0',
  name: 'cdk-lambda-microvms',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  repositoryUrl: 'https://github.com/cdk-lambda-microvms/cdk-lambda-microvms.git',
  publishToPypi: { distName: 'cdk-lambda-microvms', module: 'cdk_lambda_microvms' },
  // MicrovmChecks extends cdk-nag's NagPack, so users must share one cdk-nag with us.
  peerDeps: ['cdk-nag@^3.0.2'],
  devDeps: [
    'cdk-nag@3.0.2',
    '@aws-sdk/client-lambda-microvms@3.1131.0',
    '@aws-sdk/client-dynamodb@^3.1162.0',
    '@aws-sdk/lib-dynamodb@^3.1162.0',
    '@aws-sdk/client-eventbridge@^3.1164.0',
    '@aws-lambda-powertools/logger@^2.36.0',
    '@aws-lambda-powertools/metrics@^2.36.0',
    '@types/aws-lambda',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    'dynalite@4.0.0',
    'fast-check@^4.10.2',
    'ajv@^6.12.6',
    '@aws-sdk/client-s3@^3.1164.0',
    '@aws-sdk/client-lambda@^3.1164.0',
    '@aws-sdk/s3-request-presigner@^3.1164.0',
    's3rver@3.7.1',
    'esbuild',
  ],
  // the handlers are bundled below without projen's generated function classes, which fix the runtime at our build:
  // src/orchestrator/private/handler-function.ts picks the newest runtime the user's aws-cdk-lib knows instead.
  lambdaAutoDiscover: false,
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER, // `jest --ci`: CI never rewrites a snapshot
    jestConfig: { testTimeout: 120_000 },
  },
  // transpile-only tests on 2 cores; the `typecheck` task below type-checks src and test in one pass.
  tsJestOptions: { transformOptions: { isolatedModules: true } },
  depsUpgrade: false, // Node 20 + pinned toolchain: upgrades are deliberate, not scheduled
  gitignore: ['cdk.out', '/test/.tmp', '/examples/**/cdk.out', '/bench/.tmp', '/.local'],
});

for (const pattern of ['/examples/', '/bench/', '/docs/', '/.ci/', '/compat/', '/scripts/']) project.addPackageIgnore(pattern);

// the handler bundles target Node.js 24 (BUNDLE_NODE_MAJOR in handler-function.ts), the oldest runtime they may run on.
for (const handler of ['orchestrator', 'sweeper', 'smoke-test']) {
  project.bundler.addBundle(`src/orchestrator/${handler}.lambda.ts`, {
    target: 'node24',
    platform: 'node',
    ...bundlingOptions,
    tsconfigPath: project.tsconfigDev.fileName,
  });
  project.eslint?.allowDevDeps(`src/orchestrator/${handler}.lambda.ts`); // bundled: its dependencies are ours to carry
}
// handler-only logic under runtime/ is bundled into the same assets, never imported by the constructs.
project.eslint?.allowDevDeps('src/orchestrator/runtime/**/*.ts');
project.tasks.tryFind('bundle')?.prependExec('rm -rf assets'); // stale files change asset hashes (the task exists once a handler does)
project.package.addPackageResolutions('unrs-resolver@1.12.2'); // else `npm ci` fails (registry lacks 1.13.0 bindings)

const typecheck = project.addTask('typecheck', {
  description: 'type-check src, test and bench (jest and the bench only transpile)',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});
typecheck.exec('tsc --noEmit -p bench/tsconfig.json'); // the benchmarks run transpile-only too
project.eslint?.addLintPattern('bench');
project.eslint?.allowDevDeps('bench/**/*.ts'); // never packaged: the benchmarks run from the repository
project.testTask.prependSpawn(typecheck);

// every README and doc-comment example compiles (rosetta/default.ts-fixture makes `this` a stack), so the
// Python translations pacmak writes into the bindings are working code.
const rosetta = project.addTask('rosetta:extract', {
  description: 'compile every TypeScript example in README.md and the doc comments in jsii-rosetta strict mode',
  exec: 'jsii-rosetta extract --strict --fail',
});
project.postCompileTask.spawn(rosetta);
project.gitignore.addPatterns('.jsii.tabl.json');

// the README's main job: synthesize every example with both nag packs, then a session demo on the emulator.
const demo = project.addTask('demo', {
  description: 'cdk synth every example with AwsSolutionsChecks + MicrovmChecks, then drive the session API locally',
});
demo.spawn(project.tasks.tryFind('bundle')!);
demo.exec('ts-node --transpile-only scripts/demo.ts');

project.addTask('local', {
  description: 'run the MicroVM emulator, an in-memory DynamoDB and the orchestrator handler on localhost',
  exec: 'ts-node --transpile-only src/local/dev-server.ts',
  receiveArgs: true,
});

project.addTask('bench', {
  description: 'run the benchmarks in bench/ and write bench/results.json',
  exec: 'ts-node --transpile-only -P test/tsconfig.json bench/run.ts',
  receiveArgs: true,
});

// offline python packaging: pacmak would pip-install its pins from PyPI.
const pyTask = project.tasks.tryFind('package:python')!;
pyTask.reset('jsii-pacmak -v --target python --code-only --outdir dist/.pysrc');
pyTask.exec('/usr/bin/python3 -m compileall -q dist/.pysrc/python/src');
pyTask.exec('/usr/bin/python3 -m build --no-isolation --skip-dependency-check --outdir dist/python dist/.pysrc/python');
pyTask.exec('/usr/bin/python3 -m twine check dist/python/*');
pyTask.exec('rm -rf dist/.pysrc');

project.synth();
