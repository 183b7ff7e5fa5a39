import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import { readZipDirectory, type ZipDirectory } from './zip-inspect.ts';

export interface DetectedType {
  /** MIME type from the content, such as `application/pdf`; `application/octet-stream` when unknown. */
  mime: string;
  /** The ZIP directory, for ZIP-based types (office documents). */
  zip?: ZipDirectory;
}

const TEXT_SAMPLE_BYTES = 64 * 1024;

/**
 * Detects a file's type from its content, never from its name: magic numbers
 * through `file-type` (PDF, images, executables, ZIP-based office formats),
 * the ZIP entries for OOXML files that `file-type` reports only as ZIP, and
 * UTF-8 without NUL bytes as `text/plain`.
 */
export async function detectFileType(file: string): Promise<DetectedType> {
  const detected = await fileTypeFromFile(file);
  if (detected) {
    if (detected.mime === 'application/zip' || isZipBased(detected.mime)) {
      const zip = await readZipDirectory(file);
      return { mime: detected.mime === 'application/zip' ? officeTypeFromEntries(zip) : detected.mime, zip };
    }
    return { mime: detected.mime };
  }
  return { mime: (await looksLikeUtf8Text(file)) ? 'text/plain' : 'application/octet-stream' };
}

function isZipBased(mime: string): boolean {
  return mime.startsWith('application/vnd.openxmlformats-officedocument.') || mime.startsWith('application/vnd.oasis.opendocument.');
}

/** Names the OOXML type of a ZIP by its main part, as ECMA-376 part 2 lays the package out. */
function officeTypeFromEntries(zip: ZipDirectory): string {
  const names = new Set(zip.entries.map((entry) => entry.name));
  if (!names.has('[Content_Types].xml')) return 'application/zip';
  if (names.has('word/document.xml')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  if (names.has('xl/workbook.xml')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (names.has('ppt/presentation.xml')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  return 'application/zip';
}

/** True when the first 64 KiB decode as UTF-8 (a character cut at the sample's end is allowed) and contain no NUL or other C0 control but tab, line breaks and form feed. */
async function looksLikeUtf8Text(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const sample = Buffer.alloc(TEXT_SAMPLE_BYTES);
    const { bytesRead } = await handle.read(sample, 0, TEXT_SAMPLE_BYTES, 0);
    if (bytesRead === 0) return false;
    const bytes = sample.subarray(0, bytesRead);
    if (/[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/.test(bytes.toString('latin1'))) return false;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    try {
      // stream: true keeps a character split at the end of the sample from failing the check.
      decoder.decode(bytes, { stream: true });
      return true;
    } catch {
      return false;
    }
  } finally {
    await handle.close();
  }
}
