import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

// The README and the doc comments are compiled by jsii-rosetta in strict mode (the build's rosetta step). The
// TypeScript blocks of docs/ and RULES.md are not in the assembly, so this type-checks them against the
// library's source: a renamed prop or method in a guide fails here instead of in a reader's editor.

const ROOT = path.resolve(__dirname, '..', '..');
const DOCUMENTS = [
  ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  'RULES.md',
];

/**
 * What the guides' fragments take as given (a snippet that declares one of these names itself is left alone):
 * each is declared with the type a reader would have in scope.
 */
const GIVEN: Record<string, string> = {
  network: 'lib.MicrovmNetwork',
  image: 'lib.MicrovmImage',
  vpc: 'ec2.IVpc',
  sandboxGroup: 'ec2.ISecurityGroup',
  cacheSecurityGroup: 'ec2.ISecurityGroup',
  database: 'ec2.IConnectable',
  emulator: 'local.MicrovmEmulator',
};

/** Classes a fragment may use that an earlier block of its guide imported, and the namespace they come from. */
const IMPORTED_EARLIER: Record<string, string> = {
  MicrovmNetwork: 'lib',
  MicrovmImage: 'lib',
  MicrovmOrchestrator: 'lib',
  Egress: 'lib',
  Ingress: 'lib',
  EgressMode: 'lib',
  ImageCode: 'lib',
  Validations: 'cdkFixture',
};

interface Snippet {
  readonly document: string;
  readonly line: number;
  readonly code: string;
}

function snippetsOf(document: string): Snippet[] {
  const lines = fs.readFileSync(path.join(ROOT, document), 'utf8').split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith('```')) end++;
    found.push({ document, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return found;
}

/**
 * One module per snippet: its imports at the top, the names it takes as given declared, and its statements in an
 * async method of a Stack, so `this` is a construct scope and top-level `await` works as in a script.
 */
function moduleOf(snippet: Snippet): string {
  const imports: string[] = [];
  const body: string[] = [];
  for (const line of snippet.code.split('\n')) (/^import\s/.test(line) ? imports : body).push(line);
  const text = snippet.code;
  const importedNames = new Set(imports.flatMap((i) => [
    ...(i.match(/\{([^}]*)\}/)?.[1].split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!) ?? []),
    ...[...i.matchAll(/\*\s+as\s+(\w+)/g)].map((m) => m[1]),
  ]));
  const declared = (name: string) => new RegExp(`\\b(const|let|var|class|function)\\s+${name}\\b`).test(text) || importedNames.has(name);
  const given = Object.entries(GIVEN)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(text) && !declared(name))
    .map(([name, type]) => `declare const ${name}: ${type};`);
  // classes a fragment uses without importing them (the guide imported them in an earlier block).
  const libraryValues = Object.entries(IMPORTED_EARLIER)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(text) && !declared(name))
    .map(([name, from]) => `const ${name} = ${from}.${name};`);
  return [
    "import * as cdkFixture from 'aws-cdk-lib';",
    "import * as ec2 from 'aws-cdk-lib/aws-ec2';",
    "import * as lib from 'cdk-lambda-microvms';",
    "import * as local from 'cdk-lambda-microvms/lib/local';",
    ...imports,
    ...given,
    ...libraryValues,
    'export class Fixture extends cdkFixture.Stack {',
    '  async run() {',
    ...body.map((l) => `    ${l}`),
    '  }',
    '}',
    'void ec2; void lib; void local;',
  ].join('\n');
}

const snippets = DOCUMENTS.flatMap(snippetsOf);

test('the guides have TypeScript blocks to check', () => {
  expect(snippets.length).toBeGreaterThanOrEqual(9);
});

test('every TypeScript block in docs/ and RULES.md type-checks against the library', () => {
  // GIVEN one in-memory module per snippet, resolving the package name to this repository's source
  const files = new Map(snippets.map((s, i) => [path.join(ROOT, 'test', 'docs', `.snippet-${i}.ts`), s]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node', 'jest'],
    baseUrl: ROOT,
    paths: {
      'cdk-lambda-microvms': ['src/index.ts'],
      'cdk-lambda-microvms/lib/local': ['src/local/index.ts'],
    },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const sources = new Map([...files].map(([file, s]) => [file, moduleOf(s)]));
  host.readFile = (file) => sources.get(path.resolve(file)) ?? readFile(file);
  host.fileExists = (file) => sources.has(path.resolve(file)) || ts.sys.fileExists(file);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const text = sources.get(path.resolve(file));
    return text !== undefined ? ts.createSourceFile(file, text, languageVersion, true) : getSourceFile(file, languageVersion, onError, shouldCreate);
  };

  // WHEN
  const program = ts.createProgram([...files.keys()], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.has(path.resolve(d.file.fileName)));

  // THEN no snippet has a type error; each finding names the document and the line of its block
  const findings = diagnostics.map((d) => {
    const snippet = files.get(path.resolve(d.file!.fileName))!;
    return `${snippet.document} (block at line ${snippet.line}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
  expect(findings).toEqual([]);
});
