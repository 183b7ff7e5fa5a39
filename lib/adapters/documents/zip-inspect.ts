import { open } from 'node:fs/promises';

/** One entry of a ZIP archive's central directory. */
export interface ZipEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  totalUncompressed: number;
  totalCompressed: number;
}

export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_ENTRY_SIGNATURE = 0x02014b50;
const EOCD_MIN_BYTES = 22;
/** The EOCD record ends the file, after a comment of at most 65535 bytes. */
const EOCD_SEARCH_BYTES = EOCD_MIN_BYTES + 0xffff;
const MAX_ENTRIES_READ = 65_535;

/**
 * Reads a ZIP file's central directory (PKWARE APPNOTE 6.3, sections 4.3.12
 * and 4.3.16) without inflating anything: the entry names and their declared
 * compressed and uncompressed sizes. Office Open XML and OpenDocument files
 * are ZIP archives, so this shows what a DOCX would expand to before
 * LibreOffice opens it. Throws ZipFormatError for a file that is not a ZIP,
 * is cut short, or uses ZIP64 (which no office document of hop's size limit
 * needs).
 */
export async function readZipDirectory(file: string): Promise<ZipDirectory> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < EOCD_MIN_BYTES) throw new ZipFormatError('the file is too short to be a ZIP archive');

    const tailLength = Math.min(size, EOCD_SEARCH_BYTES);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - EOCD_MIN_BYTES; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError('no end-of-central-directory record');

    const entryCount = tail.readUInt16LE(eocd + 10);
    const directorySize = tail.readUInt32LE(eocd + 12);
    const directoryOffset = tail.readUInt32LE(eocd + 16);
    if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      throw new ZipFormatError('ZIP64 archives are not supported');
    }
    if (directoryOffset + directorySize > size) throw new ZipFormatError('the central directory lies past the end of the file');

    const directory = Buffer.alloc(directorySize);
    await handle.read(directory, 0, directorySize, directoryOffset);
    const entries: ZipEntry[] = [];
    let totalUncompressed = 0;
    let totalCompressed = 0;
    let position = 0;
    while (position + 46 <= directory.length && entries.length < MAX_ENTRIES_READ) {
      if (directory.readUInt32LE(position) !== CENTRAL_ENTRY_SIGNATURE) throw new ZipFormatError(`bad central directory entry at offset ${position}`);
      const compressedSize = directory.readUInt32LE(position + 20);
      const uncompressedSize = directory.readUInt32LE(position + 24);
      const nameLength = directory.readUInt16LE(position + 28);
      const extraLength = directory.readUInt16LE(position + 30);
      const commentLength = directory.readUInt16LE(position + 32);
      if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff) throw new ZipFormatError('ZIP64 entries are not supported');
      const nameEnd = position + 46 + nameLength;
      if (nameEnd > directory.length) throw new ZipFormatError('an entry name runs past the central directory');
      entries.push({ name: directory.toString('utf8', position + 46, nameEnd), compressedSize, uncompressedSize });
      totalUncompressed += uncompressedSize;
      totalCompressed += compressedSize;
      position = nameEnd + extraLength + commentLength;
    }
    if (entries.length !== entryCount && entryCount !== 0) {
      throw new ZipFormatError(`the central directory lists ${entries.length} entries, the end record ${entryCount}`);
    }
    return { entries, totalUncompressed, totalCompressed };
  } finally {
    await handle.close();
  }
}

export interface ZipLimits {
  /** Largest sum of the declared uncompressed sizes. */
  maxUncompressedBytes: number;
  maxEntries: number;
  /** Largest ratio of uncompressed to compressed size, checked once the archive expands past `ratioCheckFromBytes`. */
  maxRatio: number;
  ratioCheckFromBytes: number;
}

/**
 * Returns why the archive is unsafe to open (a ZIP bomb or a directory bomb),
 * or null when it stays inside the limits.
 */
export function zipLimitViolation(directory: ZipDirectory, limits: ZipLimits): string | null {
  if (directory.entries.length > limits.maxEntries) return `${directory.entries.length} entries, more than ${limits.maxEntries}`;
  if (directory.totalUncompressed > limits.maxUncompressedBytes) {
    return `expands to ${directory.totalUncompressed} bytes, more than ${limits.maxUncompressedBytes}`;
  }
  if (directory.totalUncompressed > limits.ratioCheckFromBytes) {
    const ratio = directory.totalUncompressed / Math.max(1, directory.totalCompressed);
    if (ratio > limits.maxRatio) return `compression ratio ${ratio.toFixed(0)}:1, more than ${limits.maxRatio}:1`;
  }
  return null;
}
