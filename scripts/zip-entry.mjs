// Writes one entry of a zip archive to a file: `node zip-entry.mjs ARCHIVE ENTRY DEST`. Node alone (zlib), because
// the slim image that installs helm has neither unzip nor python. Reads the central directory (the authoritative
// list), stored or deflated entries, no zip64; checks the entry's size and CRC-32 before anything is written.
import { closeSync, openSync, readSync, fstatSync, writeFileSync, renameSync, chmodSync } from "node:fs";
import { inflateRawSync, crc32 } from "node:zlib";

const [archive, entryName, destination] = process.argv.slice(2);
if (!archive || !entryName || !destination) {
  process.stderr.write("usage: node zip-entry.mjs ARCHIVE ENTRY DEST\n");
  process.exit(2);
}

const fd = openSync(archive, "r");
const read = (position, length) => {
  const buffer = Buffer.alloc(length);
  if (readSync(fd, buffer, 0, length, position) !== length) throw new Error(`${archive}: truncated`);
  return buffer;
};
const size = fstatSync(fd).size;
// The end-of-central-directory record sits in the last 22 bytes plus a comment of at most 65535.
const tailLength = Math.min(size, 22 + 0xffff);
const tail = read(size - tailLength, tailLength);
const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
if (eocd < 0) throw new Error(`${archive}: not a zip archive`);
const entries = tail.readUInt16LE(eocd + 10);
const directorySize = tail.readUInt32LE(eocd + 12);
const directory = read(tail.readUInt32LE(eocd + 16), directorySize);

let offset = 0;
let found;
for (let i = 0; i < entries; i++) {
  if (directory.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${archive}: bad central directory`);
  const nameLength = directory.readUInt16LE(offset + 28);
  const extraLength = directory.readUInt16LE(offset + 30);
  const commentLength = directory.readUInt16LE(offset + 32);
  const name = directory.toString("utf8", offset + 46, offset + 46 + nameLength);
  if (name === entryName) {
    found = {
      method: directory.readUInt16LE(offset + 10),
      crc: directory.readUInt32LE(offset + 16),
      compressedSize: directory.readUInt32LE(offset + 20),
      size: directory.readUInt32LE(offset + 24),
      localHeader: directory.readUInt32LE(offset + 42),
    };
  }
  offset += 46 + nameLength + extraLength + commentLength;
}
if (!found) throw new Error(`${archive}: no entry ${entryName}`);

const local = read(found.localHeader, 30);
if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${archive}: bad local header for ${entryName}`);
const dataStart = found.localHeader + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
const compressed = read(dataStart, found.compressedSize);
closeSync(fd);
let data;
if (found.method === 0) data = compressed;
else if (found.method === 8) data = inflateRawSync(compressed, { maxOutputLength: found.size });
else throw new Error(`${archive}: ${entryName} uses compression method ${found.method}`);
if (data.length !== found.size || crc32(data) !== found.crc) throw new Error(`${archive}: ${entryName} is corrupt`);

const partial = `${destination}.partial`;
writeFileSync(partial, data);
chmodSync(partial, 0o755);
renameSync(partial, destination);
