import * as fs from 'fs';
import * as zlib from 'zlib';

/** The entries of a zip archive, read from its central directory. */
export interface ZipEntries {
  /** entry names, `/`-separated, directories ending in `/`. */
  readonly names: string[];
  /** the uncompressed content of an entry, or `undefined` when it is absent. */
  read(name: string): Buffer | undefined;
}

/**
 * Lists (and on demand inflates) the entries of a zip file, enough to check what a prebuilt code artifact would
 * put into an image. Supports stored and deflated entries; zip64 archives are rejected.
 */
export function readZipEntries(file: string): ZipEntries {
  const data = fs.readFileSync(file);
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip archive`);
  const count = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || count === 0xffff) throw new Error(`${file} is a zip64 archive, which cannot be inspected`);
  const entries = new Map<string, { method: number; size: number; local: number }>();
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file} has a corrupt central directory`);
    const method = data.readUInt16LE(offset + 10);
    const size = data.readUInt32LE(offset + 20);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const local = data.readUInt32LE(offset + 42);
    const name = data.toString('utf8', offset + 46, offset + 46 + nameLength).replace(/\\/g, '/');
    entries.set(name, { method, size, local });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return {
    names: [...entries.keys()],
    read(name: string): Buffer | undefined {
      const entry = entries.get(name);
      if (!entry) return undefined;
      const start = entry.local + 30 + data.readUInt16LE(entry.local + 26) + data.readUInt16LE(entry.local + 28);
      const raw = data.subarray(start, start + entry.size);
      if (entry.method === 0) return Buffer.from(raw);
      if (entry.method === 8) return zlib.inflateRawSync(raw);
      throw new Error(`${file}: entry ${name} uses an unsupported compression method (${entry.method})`);
    },
  };
}
