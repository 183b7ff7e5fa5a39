import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './run-tool.ts';

/**
 * PDF tools of poppler-utils (Debian package `poppler-utils`): pdfinfo for the
 * page count, pdftoppm for the first-page thumbnail and pdftotext for the
 * text. Each call has a time limit, and its process group is killed past it.
 */
export interface PdfToolsOptions {
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Returns the page count from `pdfinfo`; throws ToolError when the file is not a readable PDF (damaged or encrypted). */
export async function pdfPageCount(file: string, options: PdfToolsOptions = {}): Promise<number> {
  const { stdout } = await runTool('pdfinfo', [file], { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const match = /^Pages:\s+(\d+)\s*$/m.exec(stdout.toString('utf8'));
  if (!match) throw new Error(`pdfinfo printed no page count for ${path.basename(file)}`);
  return Number(match[1]);
}

/** Renders the first page as a PNG whose longer side is `maxPixels`, and returns its bytes. */
export async function pdfFirstPagePng(file: string, workDir: string, maxPixels = 480, options: PdfToolsOptions = {}): Promise<Buffer> {
  const prefix = path.join(workDir, 'thumbnail');
  await runTool('pdftoppm', ['-f', '1', '-l', '1', '-png', '-scale-to', String(maxPixels), '-singlefile', file, prefix], {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const png = `${prefix}.png`;
  try {
    return await readFile(png);
  } finally {
    await rm(png, { force: true });
  }
}

/** Extracts the text in UTF-8, keeping the layout out (reading order); at most `maxBytes` of it. */
export async function pdfText(file: string, maxBytes: number, options: PdfToolsOptions = {}): Promise<string> {
  const { stdout } = await runTool('pdftotext', ['-enc', 'UTF-8', '-q', file, '-'], {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Longer text is cut below, so only a bounded multiple is kept in memory.
    maxStdoutBytes: Math.max(maxBytes * 4, 1024 * 1024),
  });
  return truncateUtf8(stdout, maxBytes);
}

/** Cuts a UTF-8 buffer to at most `maxBytes` without splitting a character. */
export function truncateUtf8(bytes: Buffer, maxBytes: number): string {
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}
