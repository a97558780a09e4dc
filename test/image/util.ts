import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { App, AssetStaging, Stack, aws_s3_assets as s3_assets } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';

/** the committed build context used by most tests. */
export const SANDBOX = path.join(__dirname, 'fixtures', 'sandbox');

export const ENV = { account: '123456789012', region: 'us-east-1' };

export function newStack(id = 'Stack', context?: Record<string, unknown>): Stack {
  return new Stack(new App({ context }), id, { env: ENV });
}

/** the single AWS::Lambda::MicrovmImage's properties. */
export function imageProps(stack: Stack): Record<string, any> {
  const images = Template.fromStack(stack).findResources('AWS::Lambda::MicrovmImage');
  const ids = Object.keys(images);
  if (ids.length !== 1) throw new Error(`expected one image, found ${ids.length}`);
  return images[ids[0]].Properties;
}

/** a fresh build context in a temporary folder, from relative path -> content. */
export function buildContext(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-test-'));
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, ...relative.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

/** every file below `root`, relative and `/`-separated, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(relative);
      else out.push(relative);
    }
  };
  walk('');
  return out.sort();
}

/** the staged (packaged) folder of the code asset under `image`. */
export function stagedCode(image: IConstruct): string {
  const asset = image.node.findChild('Code') as s3_assets.Asset;
  return (asset.node.findChild('Stage') as AssetStaging).absoluteStagedPath;
}

// node 20.15+ has zlib.crc32, which @types/node does not declare yet.
const crc32 = (zlib as unknown as { crc32(data: Buffer): number }).crc32;

/** writes a deflated zip with the given entries and returns its path. */
export function writeZip(files: Record<string, string>): string {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const raw = Buffer.from(content);
    const data = zlib.deflateRawSync(raw);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(raw), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(raw), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(files).length, 8);
  eocd.writeUInt16LE(Object.keys(files).length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'image-zip-')), 'context.zip');
  fs.writeFileSync(file, Buffer.concat([...locals, cd, eocd]));
  return file;
}
